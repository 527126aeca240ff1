#!/usr/bin/env bash
# Installs the pinned Temporal CLI (which embeds the dev server) into .temporal/bin.
# Idempotent: does nothing when .temporal/bin/temporal already reports the pinned version.
#
# Why v1.5.1: it is the newest tag `go install pkg@version` accepts; from v1.6.0 on the CLI's go.mod
# carries a `replace` directive, which `go install` refuses. No npm or Debian package ships the server,
# and @temporalio/testing would try to download it at run time, which fails on machines without internet.
set -euo pipefail

VERSION="1.5.1"
SERVER_VERSION="1.29.1"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BIN_DIR="$ROOT/.temporal/bin"
BIN="$BIN_DIR/temporal"

# `go install` stamps the binary "0.0.0-DEV"; the module version is in its build info, and CLI 1.5.1
# embeds Temporal server 1.29.1, which --version does print.
installed_version() {
  [ -x "$BIN" ] || return 1
  "$BIN" --version 2>/dev/null | grep -q "Server $SERVER_VERSION" || return 1
}
if installed_version; then
  echo "temporal CLI $VERSION already installed at .temporal/bin/temporal"
  exit 0
fi

GO="$(command -v go || true)"
if [ -z "$GO" ] && [ -x /usr/local/go/bin/go ]; then GO=/usr/local/go/bin/go; fi
if [ -z "$GO" ]; then
  cat >&2 <<MSG
drover: Go is needed to build the Temporal CLI $VERSION, and it was not found.
  Install Go 1.22 or newer (Debian: 'apt-get install golang', or https://go.dev/dl), then run:
    npm run setup:temporal
  Or point Drover at an existing Temporal server with TEMPORAL_ADDRESS and skip this step.
MSG
  exit 1
fi

echo "building temporal CLI $VERSION with $("$GO" version) (first time: a few minutes)..."
mkdir -p "$BIN_DIR"
GOBIN="$BIN_DIR" "$GO" install "github.com/temporalio/cli/cmd/temporal@v$VERSION"
"$BIN" --version
