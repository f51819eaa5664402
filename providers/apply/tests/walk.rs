//! The walk's order, failure handling and state saving, with an in-process engine that keeps
//! its objects in memory and records the calls it receives. (The engines' own tests run
//! against moto, dockerd and the Kubernetes stand-in.)

use berth_apply::backend::{Backend, LocalBackend, LockInfo};
use berth_apply::{Engines, Event, Observer, Options, Outcome, apply};
use berth_plan::{Action, Applied, BoxFuture, Engine, EngineError, Found, Request, Resource, State, diff, reference};
use berth_tests::TempDir;
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Objects by id, the calls in the order they arrived, addresses whose creation fails for
/// good, and addresses whose creation fails with a passing error so many times first.
#[derive(Default)]
struct Memory {
    objects: Mutex<BTreeMap<String, Map<String, Value>>>,
    log: Mutex<Vec<String>>,
    failing: Vec<String>,
    flaky: Mutex<BTreeMap<String, u32>>,
}

impl Engine for Memory {
    fn name(&self) -> &'static str {
        "memory"
    }

    fn create<'a>(&'a self, r: Request<'a>) -> BoxFuture<'a, Result<Applied, EngineError>> {
        Box::pin(async move {
            tokio::time::sleep(Duration::from_millis(5)).await;
            self.log.lock().unwrap().push(format!("create {}", r.address));
            if self.failing.iter().any(|f| f == r.address) {
                return Err(EngineError::permanent(format!("{} refused", r.address)));
            }
            if let Some(left) = self.flaky.lock().unwrap().get_mut(r.address).filter(|n| **n > 0) {
                *left -= 1;
                return Err(EngineError::transient("RequestLimitExceeded"));
            }
            let id = format!("id-{}", &r.token[..12]);
            self.objects.lock().unwrap().insert(id.clone(), r.attrs.clone());
            Ok(Applied { id, attrs: r.attrs.clone() })
        })
    }

    fn update<'a>(&'a self, r: Request<'a>, id: &'a str) -> BoxFuture<'a, Result<Applied, EngineError>> {
        Box::pin(async move {
            self.log.lock().unwrap().push(format!("update {}", r.address));
            self.objects.lock().unwrap().insert(id.to_owned(), r.attrs.clone());
            Ok(Applied { id: id.to_owned(), attrs: r.attrs.clone() })
        })
    }

    fn delete<'a>(&'a self, _kind: &'a str, id: &'a str) -> BoxFuture<'a, Result<(), EngineError>> {
        Box::pin(async move {
            self.log.lock().unwrap().push(format!("delete {id}"));
            self.objects.lock().unwrap().remove(id);
            Ok(())
        })
    }

    fn read<'a>(
        &'a self,
        objects: &'a [(&'a str, &'a str)],
    ) -> BoxFuture<'a, Result<Vec<Option<Applied>>, EngineError>> {
        Box::pin(async move {
            let all = self.objects.lock().unwrap();
            Ok(objects
                .iter()
                .map(|(_, id)| all.get(*id).map(|a| Applied { id: (*id).to_owned(), attrs: a.clone() }))
                .collect())
        })
    }

    fn find<'a>(&'a self, _lineage: Option<&'a str>) -> BoxFuture<'a, Result<Vec<Found>, EngineError>> {
        Box::pin(async { Ok(Vec::new()) })
    }

    fn calls(&self) -> BTreeMap<String, u64> {
        BTreeMap::from([("calls".to_owned(), self.log.lock().unwrap().len() as u64)])
    }
}

struct Quiet;

impl Observer for Quiet {
    fn event(&self, _: &Event<'_>) {}
}

/// A host with a volume attached, and a second host: the attachment needs both the first
/// host and its volume.
fn spec(ami: &str) -> Vec<Resource> {
    let attrs = |v: Value| v.as_object().unwrap().clone();
    vec![
        Resource::new("h1:i".into(), "memory", "instance", attrs(json!({"ami": ami}))).replace_on(&["ami"]),
        Resource::new("h2:i".into(), "memory", "instance", attrs(json!({"ami": "a"}))).replace_on(&["ami"]),
        Resource::new("h1.v:vol".into(), "memory", "volume", attrs(json!({"size": 1}))),
        Resource::new(
            "h1.v:att".into(),
            "memory",
            "attachment",
            attrs(json!({"instance": reference("h1:i", "id"), "volume": reference("h1.v:vol", "id")})),
        )
        .replace_on(&["instance", "volume"]),
    ]
}

async fn run(engine: &Arc<Memory>, backend: &LocalBackend, desired: &[Resource]) -> berth_apply::Report {
    let state = match backend.load().await.unwrap() {
        Some(bytes) => State::parse(&bytes).unwrap(),
        None => State::new("lineage".into()),
    };
    let plan = diff(desired, &state);
    let engines: Engines = BTreeMap::from([("memory".to_owned(), engine.clone() as Arc<dyn Engine>)]);
    let mut guard = backend.lock(&LockInfo::new("apply", jiff::Timestamp::UNIX_EPOCH), Duration::ZERO).await.unwrap();
    let options = Options { parallelism: 4, stop: Arc::new(AtomicBool::new(false)), redactor: Arc::default() };
    let report = apply(&plan, state, &engines, &mut *guard, &options, &Quiet).await;
    guard.release().await.unwrap();
    report
}

fn position(log: &[String], entry: &str) -> usize {
    log.iter().position(|l| l.starts_with(entry)).unwrap_or_else(|| panic!("{entry} not in {log:?}"))
}

#[tokio::test]
async fn creates_in_dependency_order_replaces_by_deleting_first_and_converges() {
    let dir = TempDir::new("walk-order");
    let backend = LocalBackend::new(dir.path().join("state.json"));
    let engine = Arc::new(Memory::default());

    let report = run(&engine, &backend, &spec("a")).await;
    assert!(report.succeeded(), "{report:?}");
    let log = engine.log.lock().unwrap().clone();
    assert!(position(&log, "create h1.v:att") > position(&log, "create h1:i"));
    assert!(position(&log, "create h1.v:att") > position(&log, "create h1.v:vol"));
    let saved = State::parse(&backend.load().await.unwrap().unwrap()).unwrap();
    assert_eq!(saved, report.state);
    assert_eq!(saved.resources.len(), 4);
    assert!(saved.serial >= 1);

    // Nothing to do the second time.
    assert!(diff(&spec("a"), &saved).is_empty());

    // A new AMI replaces h1 and so its attachment: the attachment goes first, then the host;
    // the new host comes before the new attachment.
    engine.log.lock().unwrap().clear();
    let old_host = saved.resources["h1:i"].id.clone();
    let old_attachment = saved.resources["h1.v:att"].id.clone();
    let report = run(&engine, &backend, &spec("b")).await;
    assert!(report.succeeded(), "{report:?}");
    let log = engine.log.lock().unwrap().clone();
    assert!(position(&log, &format!("delete {old_attachment}")) < position(&log, &format!("delete {old_host}")));
    assert!(position(&log, &format!("delete {old_host}")) < position(&log, "create h1:i"));
    assert!(position(&log, "create h1:i") < position(&log, "create h1.v:att"));
    assert_ne!(report.state.resources["h1:i"].id, old_host, "a replacement is a new object");
    assert_eq!(engine.objects.lock().unwrap().len(), 4, "nothing orphaned");
    assert!(report.state.serial > saved.serial);

    // Destroy: the attachment before what it attaches.
    engine.log.lock().unwrap().clear();
    let report = run(&engine, &backend, &[]).await;
    assert!(report.succeeded(), "{report:?}");
    assert!(report.state.resources.is_empty());
    assert!(engine.objects.lock().unwrap().is_empty());
    let log = engine.log.lock().unwrap().clone();
    let attachment = report.state.generations.keys().filter(|a| a.ends_with(":att")).count();
    assert_eq!(attachment, 1);
    assert!(log.first().unwrap().contains("delete"));
}

#[tokio::test]
async fn a_failure_stops_its_dependents_only_and_the_rerun_finishes() {
    let dir = TempDir::new("walk-failure");
    let backend = LocalBackend::new(dir.path().join("state.json"));
    let engine = Arc::new(Memory { failing: vec!["h1.v:vol".into()], ..Memory::default() });

    let report = run(&engine, &backend, &spec("a")).await;
    assert!(!report.succeeded());
    let outcome = |a: &str| report.outcomes[a].2.clone();
    assert_eq!(outcome("h1.v:vol"), Outcome::Failed("h1.v:vol refused".into()));
    assert_eq!(outcome("h1.v:att"), Outcome::Skipped("h1.v:vol failed".into()));
    assert_eq!((outcome("h1:i"), outcome("h2:i")), (Outcome::Done, Outcome::Done));
    let saved = State::parse(&backend.load().await.unwrap().unwrap()).unwrap();
    assert_eq!(saved.resources.keys().collect::<Vec<_>>(), ["h1:i", "h2:i"]);

    let engine = Arc::new(Memory { objects: Mutex::new(engine.objects.lock().unwrap().clone()), ..Memory::default() });
    let report = run(&engine, &backend, &spec("a")).await;
    assert!(report.succeeded(), "{report:?}");
    let creates: Vec<String> = engine.log.lock().unwrap().clone();
    assert_eq!(creates, ["create h1.v:vol", "create h1.v:att"], "only what was missing is created");
    let actions: Vec<Action> = report.outcomes.values().map(|o| o.1).collect();
    assert_eq!(actions, [Action::Create, Action::Create]);
}

#[tokio::test]
async fn a_passing_error_is_tried_again_and_a_permanent_one_is_not() {
    let dir = TempDir::new("walk-retry");
    let backend = LocalBackend::new(dir.path().join("state.json"));
    let engine = Arc::new(Memory {
        failing: vec!["h2:i".into()],
        flaky: Mutex::new(BTreeMap::from([("h1.v:vol".to_owned(), 1)])),
        ..Memory::default()
    });
    let report = run(&engine, &backend, &spec("a")).await;
    assert_eq!(report.retries, 1);
    assert_eq!(report.outcomes["h1.v:vol"].2, Outcome::Done);
    assert_eq!(report.outcomes["h2:i"].2, Outcome::Failed("h2:i refused".into()));
    let log = engine.log.lock().unwrap().clone();
    assert_eq!(log.iter().filter(|l| *l == "create h1.v:vol").count(), 2, "{log:?}");
    assert_eq!(log.iter().filter(|l| *l == "create h2:i").count(), 1, "{log:?}");
}
