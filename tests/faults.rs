//! Apply under faults, against a real `moto` EC2 server: a `berth apply` killed with SIGKILL at
//! many moments, each followed by a re-run that must converge to exactly the spec — no
//! duplicate and nothing orphaned, counted through the EC2 API — with the state a whole
//! document at every kill.
//!
//! `BERTH_KILL_POINTS` sets how many kill points (default 8, spread over the length of a whole
//! apply); `tests/faults.sh` runs many more. The same over every engine at once (EC2 on moto,
//! containers on a throwaway dockerd, Kubernetes objects on the stand-in), at random moments
//! of several seeds: `BERTH_PLATFORM_KILL_POINTS` and `BERTH_KILL_SEEDS`.

#![allow(clippy::disallowed_methods, reason = "tests read and write files")]

mod fixtures;

use berth_tests::{BUSYBOX_IMAGE, output_within, text};
use fixtures::{Fleet, Platform, StateWatch, wanted_containers};
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

/// A fraction in [0, 1) for a kill point of a seed (splitmix64): random, and the same on every
/// run of that seed.
fn fraction(seed: u64, point: u32) -> f64 {
    const GAMMA: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut z = seed.wrapping_mul(GAMMA).wrapping_add(u64::from(point).wrapping_add(1).wrapping_mul(GAMMA));
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^= z >> 31;
    (z >> 11) as f64 / (1u64 << 53) as f64
}

/// The Kubernetes objects of tests/fixtures/fleet-small.hcl: its namespace, and per service a
/// StatefulSet, a Service and the Secret of its certificate.
fn wanted_kube() -> Vec<(String, String, String)> {
    let mut all = vec![("Namespace".to_owned(), String::new(), "fleet".to_owned())];
    for n in 0..8 {
        let name = format!("svc-{n:04}");
        all.push(("StatefulSet".into(), "fleet".into(), name.clone()));
        all.push(("Service".into(), "fleet".into(), name.clone()));
        all.push(("Secret".into(), "fleet".into(), format!("{name}-tls")));
    }
    all.sort();
    all
}

/// `berth apply` of the reduced fleet of tests/fixtures/fleet-small.hcl over every engine at
/// once — its 8 hosts with 16 volumes on moto, 24 containers on a throwaway dockerd, 25
/// Kubernetes objects on the stand-in (fleet S=1's 2,500 containers on 8 hosts and 40 services
/// on 4 clusters would make each kill point minutes long) — killed with SIGKILL at moments
/// spread over the length of a whole apply, each at a random offset within its share of it.
/// After each kill the re-run leaves exactly the spec: no duplicate instance, volume,
/// container or Kubernetes object and nothing orphaned, every container running on its
/// networks, counted through the APIs (boto3, the docker CLI by berth's labels, the stand-in's
/// listing); the state file is a whole document at every moment, its lineage stays and its
/// serial never goes back; a refreshing plan finds nothing to do.
///
/// `BERTH_PLATFORM_KILL_POINTS` (default 3) kill points for each seed of `BERTH_KILL_SEEDS`
/// (default `1`); tests/faults.sh runs 20 points for each of 3 seeds.
#[test]
fn an_apply_of_every_engine_killed_at_random_moments_converges_on_rerun() {
    const CONTAINERS: usize = 24;
    let points: u32 = std::env::var("BERTH_PLATFORM_KILL_POINTS").ok().and_then(|n| n.parse().ok()).unwrap_or(3).max(1);
    let seeds: Vec<u64> = std::env::var("BERTH_KILL_SEEDS")
        .unwrap_or_else(|_| "1".into())
        .split(',')
        .map(|s| s.trim().parse().unwrap_or_else(|e| panic!("BERTH_KILL_SEEDS: {s:?}: {e}")))
        .collect();
    let mut platform = Platform::new("faults-all", CONTAINERS);

    // With the image pulled already, as it stays through every reset, one undisturbed apply
    // gives the span the kill points cover, and makes exactly the spec.
    platform.docker.docker(&["pull", BUSYBOX_IMAGE]);
    let start = Instant::now();
    let out = output_within(&mut platform.apply(), LIMIT);
    let span = start.elapsed();
    assert!(out.status.success(), "{}", text(&out).1);
    let whole = platform.census();
    assert_eq!(whole.aws, (8, 16, 16));
    assert_eq!(whole.containers, wanted_containers(CONTAINERS));
    assert_eq!(whole.networks, ["berth_back", "berth_default"]);
    assert_eq!(whole.kube, wanted_kube());
    eprintln!("a whole apply: {span:?}");

    let mut survived = 0;
    for seed in seeds {
        for point in 0..points {
            platform.reset();
            let delay = span.mul_f64((f64::from(point) + fraction(seed, point)) / f64::from(points) * 1.2);
            let at = format!("seed {seed}, kill point {point} ({delay:?})");
            let watch = StateWatch::start(platform.state());
            let mut child = platform.apply().stdout(Stdio::null()).stderr(Stdio::null()).spawn().expect("berth");
            std::thread::sleep(delay);
            let _ = child.kill();
            let _ = child.wait();
            // As in the test above: moto does not dedupe a creation the dead run had in flight.
            std::thread::sleep(Duration::from_millis(500));
            let killed = platform.census();
            let before = platform.saved();

            let out = output_within(&mut platform.apply(), LIMIT);
            assert!(out.status.success(), "{at}: the re-run failed: {}", text(&out).1);
            assert_eq!(platform.census(), whole, "{at}: not exactly the spec after the re-run");
            let after = platform.saved().expect("a state after the re-run");
            if let Some(before) = &before {
                assert_eq!(after.lineage, before.lineage, "{at}: the lineage changed");
                assert!(after.serial >= before.serial, "{at}: the serial went back");
            }
            let clean = output_within(platform.berth("plan").args(["--refresh", "--detailed-exitcode"]), LIMIT);
            assert_eq!(clean.status.code(), Some(0), "{at}: {:?}", text(&clean));
            let reads = watch.finish();
            survived += 1;
            eprintln!(
                "{at}: survived; at the kill {:?} AWS objects, {} containers ({} running), {} Kubernetes objects, \
                 state serial {:?}; {reads} state reads",
                killed.aws,
                killed.containers.len(),
                killed.containers.iter().filter(|c| c.2 == "running").count(),
                killed.kube.len(),
                before.as_ref().map(|s| s.serial),
            );
        }
    }
    eprintln!("{survived} kill points survived");
}
