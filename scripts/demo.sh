#!/usr/bin/env bash
# `npm run demo`: Drover's main job, end to end, on this machine.
#  1. installs the pinned Temporal CLI if needed, and starts its dev server unless one already answers;
#  2. starts a Drover worker;
#  3. runs the three-tier web shop in `test` mode against the simulated site (approving its gate as
#     alice), then `cleanup`, showing progress live; reports go to .drover/reports/;
#  4. stops what it started.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT="$PWD"
mkdir -p .drover
drover() { node "$ROOT/dist/cli/bin.js" "$@"; }

bash scripts/install-temporal.sh
[ -f dist/cli/bin.js ] || npm run build --silent

ADDRESS="${TEMPORAL_ADDRESS:-127.0.0.1:7233}"
healthy() { .temporal/bin/temporal operator cluster health --address "$ADDRESS" >/dev/null 2>&1; }
pids=()
stop_started() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
}
trap stop_started EXIT

if healthy; then
  echo "== using the Temporal server already answering at $ADDRESS"
else
  [ -z "${TEMPORAL_ADDRESS:-}" ] || { echo "no Temporal server answers at TEMPORAL_ADDRESS=$ADDRESS" >&2; exit 1; }
  echo "== starting the embedded Temporal dev server (log: .drover/demo-server.log)"
  node "$ROOT/dist/cli/bin.js" server > .drover/demo-server.log 2>&1 &
  pids+=($!)
  for _ in $(seq 1 60); do healthy && break; sleep 1; done
  healthy || { echo "the dev server did not come up; see .drover/demo-server.log" >&2; exit 1; }
fi

echo "== starting a Drover worker (JSON log: .drover/demo-worker.log)"
node "$ROOT/dist/cli/bin.js" worker > .drover/demo-worker.log 2>&1 &
pids+=($!)

echo "== drover run runbooks/webshop.yaml --mode test"
# The web shop asks its owner to sign off a test: alice approves as soon as the run can take it.
( for _ in $(seq 1 60); do drover approve drover-webshop-test --step plan/approve-test --by alice \
    --comment "demo" >/dev/null 2>&1 && exit 0; sleep 1; done ) &
approver=$!
drover run runbooks/webshop.yaml --mode test
wait "$approver" || true

echo
echo "== drover run runbooks/webshop.yaml --mode cleanup"
drover run runbooks/webshop.yaml --mode cleanup

echo
echo "Done. Reports: .drover/reports/drover-webshop-test.md and drover-webshop-cleanup.md"
echo "The site was simulated (.drover/sim/); Temporal, the workflow, retries and compensation were real."
