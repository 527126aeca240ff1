#!/usr/bin/env bash
# `npm run demo`: Drover's main job on the example runbooks, as far as it exists today:
# validate every runbook, then show the recovery plan of the three-tier web shop.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
[ -f dist/cli/bin.js ] || npm run build --silent
drover() { node dist/cli/bin.js "$@"; }

echo "== drover validate runbooks/"
drover validate runbooks/
echo
echo "== drover plan runbooks/webshop.yaml --mode test"
drover plan runbooks/webshop.yaml --mode test
echo
echo "== drover plan runbooks/webshop.yaml --mode planned-migration (critical path only)"
drover plan runbooks/webshop.yaml --mode planned-migration | sed -n '/^critical path/,$p'
echo
echo "Plans compile; running them on Temporal (drover run / worker / server) is not built yet."
