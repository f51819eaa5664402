//! The PostgreSQL backend against a real server (each test starts its own): transactional saves
//! with a backup, the advisory lock between sessions, and what a killed holder leaves behind.

mod common;

use berth_apply::backend::{Backend, BackendError, PostgresBackend};
use berth_tests::Postgres;
use common::{Helper, doc, info, serial_of};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::time::{Duration, Instant};

/// The body of the helper processes the tests start.
#[test]
fn helper() {
    common::helper_main();
}

#[tokio::test]
async fn saves_replace_the_state_and_keep_the_previous_as_backup() {
    let server = Postgres::start();
    let backend = PostgresBackend::new(&server.url(), "prod").unwrap();
    assert_eq!(backend.load().await.unwrap(), None, "no tables yet");
    assert_eq!(backend.load_backup().await.unwrap(), None);

    let mut guard = backend.lock(&info("apply"), Duration::ZERO).await.unwrap();
    assert_eq!(backend.load().await.unwrap(), None, "tables, but no document yet");
    guard.save(&doc(1)).await.unwrap();
    assert_eq!(backend.load().await.unwrap(), Some(doc(1)));
    assert_eq!(backend.load_backup().await.unwrap(), None, "nothing was replaced yet");
    guard.save(&doc(2)).await.unwrap();
    guard.save(&doc(3)).await.unwrap();
    assert_eq!(backend.load().await.unwrap(), Some(doc(3)));
    assert_eq!(backend.load_backup().await.unwrap(), Some(doc(2)));
    guard.release().await.unwrap();
    assert_eq!(server.psql("SELECT count(*) FROM berth_locks"), "0", "a released lock names nobody");

    let other = PostgresBackend::new(&server.url(), "staging").unwrap();
    assert_eq!(other.load().await.unwrap(), None, "each name is a state of its own");
    assert_eq!(server.psql("SELECT name, length(data) FROM berth_state"), format!("prod|{}", doc(3).len()));
}

#[tokio::test]
async fn a_second_lock_fails_at_once_naming_the_holder_or_waits_for_its_release() {
    let server = Postgres::start();
    let backend = PostgresBackend::new(&server.url(), "prod").unwrap();
    let holder = info("apply");
    let guard = backend.lock(&holder, Duration::ZERO).await.unwrap();
    let other = PostgresBackend::new(&server.url(), "staging").unwrap();
    other.lock(&info("apply"), Duration::ZERO).await.expect("another name is not locked").release().await.unwrap();

    let started = Instant::now();
    let err = backend.lock(&info("destroy"), Duration::ZERO).await.err().expect("the state is locked");
    assert!(started.elapsed() < Duration::from_secs(2), "a zero timeout fails at once");
    let BackendError::Locked { holder: Some(named), .. } = &err else { panic!("{err}") };
    assert_eq!(**named, holder);
    let message = err.to_string();
    let port = server.url().rsplit(':').next().unwrap().split('/').next().unwrap().to_string();
    let expected = format!("state \"prod\" in PostgreSQL postgres at 127.0.0.1:{port} is locked by apply (");
    assert!(message.starts_with(&expected), "{message}");
    assert!(message.contains(&format!("pid {}", std::process::id())), "{message}");

    let started = Instant::now();
    let err = backend.lock(&info("destroy"), Duration::from_millis(400)).await.err().expect("still locked");
    assert!(started.elapsed() >= Duration::from_millis(400), "waited the whole timeout");
    assert!(err.to_string().contains("still locked after waiting 400ms, by apply ("), "{err}");

    let started = Instant::now();
    let release = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(500)).await;
        guard.release().await.unwrap();
    });
    let waiter = info("destroy");
    let guard = backend.lock(&waiter, Duration::from_secs(10)).await.unwrap();
    let waited = started.elapsed();
    assert!(waited >= Duration::from_millis(450) && waited < Duration::from_secs(5), "waited {waited:?}");
    release.await.unwrap();
    assert_eq!(server.psql("SELECT operation FROM berth_locks WHERE name = 'prod'"), "destroy");

    drop(guard);
    backend.lock(&info("apply"), Duration::from_secs(10)).await.expect("dropping a guard ends its session");
}

#[tokio::test]
async fn a_lock_held_by_a_killed_process_is_released() {
    let server = Postgres::start();
    let backend = PostgresBackend::new(&server.url(), "prod").unwrap();
    let helper = Helper::start("helper", "hold", &format!("postgres {} prod", server.url()));
    helper.wait_for("locked");

    let err = backend.lock(&info("apply"), Duration::ZERO).await.err().expect("the helper holds the lock");
    let BackendError::Locked { holder: Some(named), .. } = &err else { panic!("{err}") };
    assert_eq!(named.pid, helper.pid(), "{err}");

    helper.kill();
    // The server notices the closed connection and ends the session, which frees its lock.
    backend.lock(&info("apply"), Duration::from_secs(10)).await.expect("the server released the dead holder's lock");
}

#[tokio::test]
async fn a_holder_whose_session_ends_can_no_longer_save() {
    let server = Postgres::start();
    let backend = PostgresBackend::new(&server.url(), "prod").unwrap();
    let mut first = backend.lock(&info("apply"), Duration::ZERO).await.unwrap();
    first.save(&doc(1)).await.unwrap();
    let ended = server.psql("SELECT pg_terminate_backend(backend_pid) FROM berth_locks WHERE name = 'prod'");
    assert_eq!(ended, "t");

    let mut second =
        backend.lock(&info("apply"), Duration::from_secs(10)).await.expect("the lock went with the session");
    second.save(&doc(2)).await.unwrap();
    let err = first.save(&doc(3)).await.expect_err("the first holder lost its lock");
    assert!(err.to_string().starts_with("cannot save state \"prod\""), "{err}");
    assert_eq!(backend.load().await.unwrap(), Some(doc(2)), "never two writers");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readers_see_only_whole_documents_while_saves_go_on() {
    let server = Postgres::start();
    let backend = PostgresBackend::new(&server.url(), "prod").unwrap();
    let mut guard = backend.lock(&info("apply"), Duration::ZERO).await.unwrap();
    guard.save(&doc(1)).await.unwrap();

    // Saves go on until the reader has read 50 times (at most 5,000 saves).
    let (done, reads) = (Arc::new(AtomicBool::new(false)), Arc::new(AtomicU32::new(0)));
    let reader = {
        let (backend, done, reads) = (backend.clone(), done.clone(), reads.clone());
        tokio::spawn(async move {
            let mut last = 0;
            while !done.load(Ordering::Relaxed) {
                let serial = serial_of(&backend.load().await.unwrap().expect("a state"));
                assert!(serial >= last, "serial went back from {last} to {serial}");
                last = serial;
                reads.fetch_add(1, Ordering::Relaxed);
            }
        })
    };
    let mut serial = 1;
    while reads.load(Ordering::Relaxed) < 50 && serial < 5_000 {
        serial += 1;
        guard.save(&doc(serial)).await.unwrap();
    }
    done.store(true, Ordering::Relaxed);
    reader.await.expect("every read was a whole document");
    assert!(reads.load(Ordering::Relaxed) >= 50, "the reader fell behind {serial} saves");
    assert_eq!(serial_of(&backend.load().await.unwrap().unwrap()), serial);
    assert_eq!(serial_of(&backend.load_backup().await.unwrap().unwrap()), serial - 1);
}
