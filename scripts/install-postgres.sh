#!/usr/bin/env bash
# Installs the PostgreSQL 15 server from Debian's packages (bookworm ships 15.x as `postgresql-15`).
# The PostgreSQL provider's tests (test/postgres/) start their own primary + standby as the `postgres`
# user, in temp folders, on free loopback ports; they only need the binaries in /usr/lib/postgresql/15/bin
# (initdb, pg_ctl, pg_basebackup, pg_rewind, pg_controldata: not on PATH on stock Debian).
# Idempotent: does nothing when /usr/lib/postgresql/15/bin/pg_ctl exists.
#
# No system cluster is started or enabled: Debian's package creates a default `main` cluster and, where a
# service manager runs, starts it on port 5432. This script stops that cluster again and marks it manual
# (start.conf), so after it nothing listens on 5432 and nothing starts at boot; the tests never use it.
set -euo pipefail

BIN_DIR="/usr/lib/postgresql/15/bin"

if [ -x "$BIN_DIR/pg_ctl" ]; then
  echo "PostgreSQL 15 already installed at $BIN_DIR"
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then
    SUDO="sudo"
  else
    cat >&2 <<MSG
drover: the PostgreSQL 15 server (Debian package postgresql-15) is needed by the PostgreSQL tests, and
  installing it needs root: this shell is not root and sudo was not found. As root, run:
    apt-get install -y --no-install-recommends postgresql-15
  then: npm run setup:postgres
MSG
    exit 1
  fi
fi

# A `main` cluster present before the install is someone's own: leave it as it is.
HAD_MAIN=0
if [ -d /etc/postgresql/15/main ]; then HAD_MAIN=1; fi

install_pg() {
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends postgresql-15
}
echo "installing postgresql-15 from Debian's packages..."
if ! install_pg; then
  echo "install failed: refreshing the package lists (apt-get update) and trying again"
  $SUDO apt-get update
  install_pg
fi

# Stop (and keep stopped) the default cluster the package just created, if it did.
if [ "$HAD_MAIN" -eq 0 ] && [ -d /etc/postgresql/15/main ]; then
  $SUDO pg_ctlcluster 15 main stop 2>/dev/null || true
  echo manual | $SUDO tee /etc/postgresql/15/main/start.conf >/dev/null
  echo "stopped Debian's default cluster 15/main and set it to manual start (the tests do not use it)"
fi
if (exec 3<>/dev/tcp/127.0.0.1/5432) 2>/dev/null; then
  echo "drover: warning: something still listens on 127.0.0.1:5432 (not started by this script's install)" >&2
fi

"$BIN_DIR/pg_ctl" --version
