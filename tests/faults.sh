#!/usr/bin/env bash
# The long fault runs that CI shortens: many kill points of an apply (BERTH_KILL_POINTS, default
# 40 here against 8 in CI) and both fuzz targets for longer (FUZZ_SECONDS each, default 600).
set -euo pipefail
cd "$(dirname "$0")/.."
tests/setup.sh
cargo build -p berth
BERTH_KILL_POINTS="${BERTH_KILL_POINTS:-40}" cargo test -p berth-tests --test faults -- --nocapture
tests/fuzz.sh "${FUZZ_SECONDS:-600}" parse_check
tests/fuzz.sh "${FUZZ_SECONDS:-600}" state_plan
