#!/usr/bin/env bash
# The long fault runs that CI shortens: many kill points of an apply of the AWS side
# (BERTH_KILL_POINTS, default 40 here against 8 in CI) and of every engine at once
# (BERTH_PLATFORM_KILL_POINTS for each seed of BERTH_KILL_SEEDS, default 20 points for each of
# seeds 1,2,3 here against 3 points of seed 1 in CI), the throttling run over 10 proxy seeds
# (BERTH_FAULT_SEEDS, 2 in CI), dockerd down in the middle of an apply for 0.5 s and 90 s
# (BERTH_DOCKERD_DOWN; 90 s is longer than berth waits) besides CI's 15 s, and both fuzz
# targets for longer (FUZZ_SECONDS each, default 600).
set -euo pipefail
cd "$(dirname "$0")/.."
tests/setup.sh
cargo build -p berth
BERTH_KILL_POINTS="${BERTH_KILL_POINTS:-40}" \
  BERTH_PLATFORM_KILL_POINTS="${BERTH_PLATFORM_KILL_POINTS:-20}" BERTH_KILL_SEEDS="${BERTH_KILL_SEEDS:-1,2,3}" \
  cargo test -p berth-tests --test faults -- --nocapture
BERTH_FAULT_SEEDS="${BERTH_FAULT_SEEDS:-1,2,3,4,5,6,7,8,9,10}" cargo test -p berth-tests --test faults_api -- --nocapture
for down in ${BERTH_DOCKERD_DOWN:-0.5 90}; do
  BERTH_DOCKERD_DOWN_SECONDS="$down" cargo test -p berth-tests --test faults_api dockerd_restarted -- --nocapture
done
tests/fuzz.sh "${FUZZ_SECONDS:-600}" parse_check
tests/fuzz.sh "${FUZZ_SECONDS:-600}" state_plan
