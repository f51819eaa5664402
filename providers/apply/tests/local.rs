//! The local file backend against the real kernel: atomic saves with a backup, the fcntl lock
//! between processes, and what a `kill -9` leaves behind.

#![allow(clippy::disallowed_methods, reason = "tests read the state files")]

mod common;

use berth_apply::backend::{Backend, BackendError, LocalBackend};
use berth_tests::TempDir;
use common::{Helper, doc, info, serial_of};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::time::{Duration, Instant};

/// The body of the helper processes the tests start.
#[test]
fn helper() {
    common::helper_main();
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap_or_else(|e| panic!("{}: {e}", path.display())).permissions().mode() & 0o777
}

#[tokio::test]
async fn saves_replace_the_state_and_keep_the_previous_as_backup() {
    let dir = TempDir::new("local-round-trip");
    let backend = LocalBackend::new(dir.path().join("berth.state.json"));
    assert_eq!(backend.load().await.unwrap(), None);
    assert_eq!(backend.load_backup().await.unwrap(), None);

    let mut guard = backend.lock(&info("apply"), Duration::ZERO).await.unwrap();
    guard.save(&doc(1)).await.unwrap();
    assert_eq!(backend.load().await.unwrap(), Some(doc(1)));
    assert_eq!(backend.load_backup().await.unwrap(), None, "nothing was replaced yet");
    guard.save(&doc(2)).await.unwrap();
    guard.save(&doc(3)).await.unwrap();
    assert_eq!(backend.load().await.unwrap(), Some(doc(3)));
    assert_eq!(backend.load_backup().await.unwrap(), Some(doc(2)));
    guard.release().await.unwrap();

    for path in [backend.path(), backend.backup_path(), backend.lock_path()] {
        assert_eq!(mode(path), 0o600, "{}", path.display());
    }
    let mut names: Vec<String> =
        std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    names.sort();
    assert_eq!(
        names,
        ["berth.state.json", "berth.state.json.backup", "berth.state.json.lock"],
        "no temporary file left"
    );
    assert_eq!(std::fs::read(backend.lock_path()).unwrap(), b"", "a released lock names nobody");
}

#[tokio::test]
async fn a_second_lock_fails_at_once_naming_the_holder_or_waits_for_its_release() {
    let dir = TempDir::new("local-lock");
    let path = dir.path().join("berth.state.json");
    // Two backends on one file, as two runs would have: the lock belongs to the open file, so
    // even one process is refused a second time.
    let (first, second) = (LocalBackend::new(&path), LocalBackend::new(&path));
    let holder = info("apply");
    let guard = first.lock(&holder, Duration::ZERO).await.unwrap();

    let started = Instant::now();
    let err = second.lock(&info("destroy"), Duration::ZERO).await.err().expect("the state is locked");
    assert!(started.elapsed() < Duration::from_secs(1), "a zero timeout fails at once");
    let BackendError::Locked { holder: Some(named), waited, .. } = &err else { panic!("{err}") };
    assert_eq!(**named, holder);
    assert_eq!(*waited, Duration::ZERO);
    let message = err.to_string();
    assert!(message.starts_with(&format!("state {} is locked by apply (", path.display())), "{message}");
    assert!(message.contains(&format!("pid {}", std::process::id())), "{message}");
    assert!(message.ends_with("wait for it with --lock-timeout 5m, or ask them"), "{message}");

    let started = Instant::now();
    let err = second.lock(&info("destroy"), Duration::from_millis(400)).await.err().expect("still locked");
    assert!(started.elapsed() >= Duration::from_millis(400), "waited the whole timeout");
    assert!(err.to_string().contains("still locked after waiting 400ms, by apply ("), "{err}");

    let started = Instant::now();
    let release = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(500)).await;
        guard.release().await.unwrap();
    });
    let waiter = info("destroy");
    let guard = second.lock(&waiter, Duration::from_secs(10)).await.unwrap();
    let waited = started.elapsed();
    assert!(waited >= Duration::from_millis(450) && waited < Duration::from_secs(5), "waited {waited:?}");
    release.await.unwrap();
    let recorded: serde_json::Value = serde_json::from_slice(&std::fs::read(second.lock_path()).unwrap()).unwrap();
    assert_eq!(recorded["id"], waiter.id.as_str(), "the lock file names the new holder");

    drop(guard);
    first.lock(&info("apply"), Duration::ZERO).await.expect("dropping a guard releases the lock");
}

#[tokio::test]
async fn a_lock_held_by_a_killed_process_is_released() {
    let dir = TempDir::new("local-kill");
    let path = dir.path().join("berth.state.json");
    let backend = LocalBackend::new(&path);
    let helper = Helper::start("helper", "hold", &format!("local {}", path.display()));
    helper.wait_for("locked");

    let err = backend.lock(&info("apply"), Duration::ZERO).await.err().expect("the helper holds the lock");
    let BackendError::Locked { holder: Some(named), .. } = &err else { panic!("{err}") };
    assert_eq!(named.pid, helper.pid(), "{err}");

    helper.kill();
    backend.lock(&info("apply"), Duration::ZERO).await.expect("the kernel released the dead holder's lock");
}

#[tokio::test]
async fn readers_see_only_whole_documents_while_saves_go_on() {
    let dir = TempDir::new("local-readers");
    let backend = LocalBackend::new(dir.path().join("berth.state.json"));
    let mut guard = backend.lock(&info("apply"), Duration::ZERO).await.unwrap();
    guard.save(&doc(1)).await.unwrap();

    // Saves go on until the reader has read 500 times (at most 5,000 saves).
    let (done, reads) = (Arc::new(AtomicBool::new(false)), Arc::new(AtomicU32::new(0)));
    let reader = {
        let (path, done, reads) = (backend.path().to_path_buf(), done.clone(), reads.clone());
        std::thread::spawn(move || {
            let mut last = 0;
            while !done.load(Ordering::Relaxed) {
                let serial = serial_of(&std::fs::read(&path).expect("the state file is always there"));
                assert!(serial >= last, "serial went back from {last} to {serial}");
                last = serial;
                reads.fetch_add(1, Ordering::Relaxed);
            }
        })
    };
    let mut serial = 1;
    while reads.load(Ordering::Relaxed) < 500 && serial < 5_000 {
        serial += 1;
        guard.save(&doc(serial)).await.unwrap();
    }
    done.store(true, Ordering::Relaxed);
    reader.join().expect("every read was a whole document");
    assert!(reads.load(Ordering::Relaxed) >= 500, "the reader fell behind {serial} saves");
    assert_eq!(serial_of(&backend.load().await.unwrap().unwrap()), serial);
    assert_eq!(serial_of(&backend.load_backup().await.unwrap().unwrap()), serial - 1);
}

#[tokio::test]
async fn a_process_killed_while_saving_leaves_whole_documents() {
    let dir = TempDir::new("local-kill-saving");
    let path = dir.path().join("berth.state.json");
    let backend = LocalBackend::new(&path);
    let mut last = 0;
    for delay_ms in [0, 7, 23, 61, 150] {
        let helper = Helper::start("helper", "save", &format!("local {}", path.display()));
        helper.wait_for("saved");
        tokio::time::sleep(Duration::from_millis(delay_ms)).await;
        helper.kill();

        let state = serial_of(&backend.load().await.unwrap().expect("a state"));
        assert!(state > last, "the helper's first save ({state}) follows the previous one ({last})");
        if let Some(backup) = backend.load_backup().await.unwrap() {
            let backup = serial_of(&backup);
            assert!(backup <= state, "backup {backup} is newer than state {state}");
        }
        last = state;
    }
    // Whatever the kill left beside the state, the next run locks and saves.
    let mut guard = backend.lock(&info("apply"), Duration::ZERO).await.unwrap();
    guard.save(&doc(last + 1)).await.unwrap();
    assert_eq!(serial_of(&backend.load().await.unwrap().unwrap()), last + 1);
    assert_eq!(serial_of(&backend.load_backup().await.unwrap().unwrap()), last);
}
