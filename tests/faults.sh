#!/usr/bin/env bash
# The long fault runs that CI shortens: many kill points of an apply (BERTH_KILL_POINTS, default
# 40 here against 8 in CI), the throttling run over 10 proxy seeds (BERTH_FAULT_SEEDS, 2 in CI)
# and both fuzz targets for longer (FUZZ_SECONDS each, default 600).
set -euo pipefail
cd "$(dirname "$0")/.."
tests/setup.sh
cargo build -p berth
BERTH_KILL_POINTS="${BERTH_KILL_POINTS:-40}" cargo test -p berth-tests --test faults -- --nocapture
BERTH_FAULT_SEEDS="${BERTH_FAULT_SEEDS:-1,2,3,4,5,6,7,8,9,10}" cargo test -p berth-tests --test faults_api -- --nocapture
tests/fuzz.sh "${FUZZ_SECONDS:-600}" parse_check
tests/fuzz.sh "${FUZZ_SECONDS:-600}" state_plan
