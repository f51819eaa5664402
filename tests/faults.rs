//! Apply under faults, against a real `moto` EC2 server: a `berth apply` killed with SIGKILL at
//! many moments, each followed by a re-run that must converge to exactly the spec — no
//! duplicate and nothing orphaned, counted through the EC2 API — with the state a whole
//! document at every kill.
//!
//! `BERTH_KILL_POINTS` sets how many kill points (default 8, spread over the length of a whole
//! apply); `tests/faults.sh` runs many more.

#![allow(clippy::disallowed_methods, reason = "tests read and write files")]

mod fixtures;

use berth_tests::{output_within, text};
use fixtures::Fleet;
use std::process::Stdio;
use std::time::{Duration, Instant};

const LIMIT: Duration = Duration::from_secs(300);

#[test]
fn an_apply_killed_at_any_moment_converges_on_rerun_without_duplicates() {
    let points: u32 = std::env::var("BERTH_KILL_POINTS").ok().and_then(|n| n.parse().ok()).unwrap_or(8);
    let mut fleet = Fleet::new("faults");
    let whole = (8, 16, 16);

    // One undisturbed apply gives the span the kill points cover.
    let start = Instant::now();
    let out = output_within(&mut fleet.apply(), LIMIT);
    let span = start.elapsed();
    assert!(out.status.success(), "{}", text(&out).1);
    assert_eq!(fleet.counts(), whole);

    for point in 0..points {
        fleet.reset();
        let delay = span.mul_f64(f64::from(point) / f64::from(points.max(1)) * 1.2);
        let mut child = fleet.apply().stdout(Stdio::null()).stderr(Stdio::null()).spawn().expect("berth");
        std::thread::sleep(delay);
        let _ = child.kill();
        let _ = child.wait();
        // A call the dead run had in flight may still complete on the server. Real EC2 then
        // dedupes the re-run's creation by its ClientToken; moto does not, so the re-run
        // starts once moto is done with it, as a CI retry would anyway.
        std::thread::sleep(Duration::from_millis(500));
        let before = fleet.saved();

        let out = output_within(&mut fleet.apply(), LIMIT);
        assert!(out.status.success(), "kill point {point} ({delay:?}): the re-run failed: {}", text(&out).1);
        assert_eq!(fleet.counts(), whole, "kill point {point} ({delay:?}): not exactly the spec after the re-run");
        let after = fleet.saved().expect("a state after the re-run");
        if let Some(before) = before {
            assert_eq!(after.lineage, before.lineage, "kill point {point}: the lineage changed");
            assert!(after.serial >= before.serial, "kill point {point}: the serial went back");
        }
        let clean = output_within(fleet.berth("plan").args(["--refresh", "--detailed-exitcode"]), LIMIT);
        assert_eq!(clean.status.code(), Some(0), "kill point {point}: {:?}", text(&clean));
    }
}
