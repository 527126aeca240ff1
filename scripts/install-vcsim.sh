#!/usr/bin/env bash
# Installs govmomi's vcsim (a real implementation of the vSphere Web Services API) into .tools/bin.
# The vSphere provider's tests start two of them on loopback ports as two independent vCenter sites.
# Idempotent: does nothing when .tools/bin/vcsim is already the pinned version.
#
# Why v0.46.3: it is the last govmomi release `go install pkg@version` accepts; later releases put
# vcsim in a module of its own whose go.mod carries a `replace`, which `go install` refuses.
set -euo pipefail

VERSION="0.46.3"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BIN_DIR="$ROOT/.tools/bin"
BIN="$BIN_DIR/vcsim"
STAMP="$BIN_DIR/.vcsim-version"

if [ -x "$BIN" ] && [ "$(cat "$STAMP" 2>/dev/null)" = "$VERSION" ]; then
  echo "vcsim $VERSION already installed at .tools/bin/vcsim"
  exit 0
fi

GO="$(command -v go || true)"
if [ -z "$GO" ] && [ -x /usr/local/go/bin/go ]; then GO=/usr/local/go/bin/go; fi
if [ -z "$GO" ]; then
  cat >&2 <<MSG
drover: Go is needed to build vcsim $VERSION (the vCenter API peer of the vSphere tests), and it was not found.
  Install Go 1.22 or newer (Debian: 'apt-get install golang', or https://go.dev/dl), then run:
    npm run setup:vcsim
MSG
  exit 1
fi

echo "building vcsim $VERSION with $("$GO" version) (first time: a minute or two)..."
mkdir -p "$BIN_DIR"
GOBIN="$BIN_DIR" "$GO" install "github.com/vmware/govmomi/vcsim@v$VERSION"
echo "$VERSION" >"$STAMP"
echo "vcsim $VERSION installed at .tools/bin/vcsim"
