//! The walk: applies a plan through the engines, every object as soon as the objects it needs
//! are done, under a global limit. A failure stops its dependents only. The state is saved
//! after completions, batched (at most one save in flight; every completion is in the next
//! one), and once more at the end.

use crate::backend::{BackendError, LockGuard};
use berth_plan::{Action, Applied, Engine, EngineError, Plan, Recorded, Redactor, Request, State, resolve};
use serde_json::{Map, Value};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

/// Engines by name (`aws`, `kubernetes`, `docker`).
pub type Engines = BTreeMap<String, Arc<dyn Engine>>;

/// What the walk reports while it runs (the CLI draws progress from it).
pub trait Observer: Send + Sync {
    /// Something happened to one object.
    fn event(&self, event: &Event<'_>);
}

/// One step of the walk.
#[derive(Debug, Clone, Copy)]
pub enum Event<'a> {
    /// Work on an object began.
    Started {
        /// Resource address.
        address: &'a str,
        /// The step: creating, updating or deleting (a replacement is a delete, then a create).
        step: Step,
    },
    /// Work on an object finished.
    Finished {
        /// Resource address.
        address: &'a str,
        /// The step.
        step: Step,
        /// How long it took.
        elapsed: Duration,
    },
    /// Work on an object failed.
    Failed {
        /// Resource address.
        address: &'a str,
        /// The step.
        step: Step,
        /// Why.
        error: &'a str,
    },
    /// An object was left alone because an object it needs failed or the walk was stopped.
    Skipped {
        /// Resource address.
        address: &'a str,
        /// Why.
        because: &'a str,
    },
}

/// A unit of work of the walk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Step {
    /// Create an object.
    Create,
    /// Change an object in place.
    Update,
    /// Delete an object.
    Delete,
}

impl Step {
    /// The step's name in progress lines.
    pub fn name(self) -> &'static str {
        match self {
            Step::Create => "create",
            Step::Update => "update",
            Step::Delete => "delete",
        }
    }
}

/// How the walk runs.
#[derive(Clone)]
pub struct Options {
    /// At most this many engine calls (creations, updates, deletions) at once.
    pub parallelism: usize,
    /// Set to stop starting new work: work in flight finishes and the state is saved.
    pub stop: Arc<AtomicBool>,
    /// Puts sensitive values back into the attributes just before an engine gets them.
    pub redactor: Arc<Redactor>,
}

/// How one object's change ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Done.
    Done,
    /// Failed with this message.
    Failed(String),
    /// Not attempted: a dependency failed or the walk was stopped.
    Skipped(String),
}

/// What the walk did.
#[derive(Debug)]
pub struct Report {
    /// Per changed address: its action and how it ended.
    pub outcomes: BTreeMap<String, (String, Action, Outcome)>,
    /// The state after the walk, as saved.
    pub state: State,
    /// Wall time of the walk.
    pub elapsed: Duration,
    /// A failed save, if one failed (the walk stops starting work when one does).
    pub save_error: Option<String>,
    /// How often an object was tried again after its engine gave up on a passing error.
    pub retries: usize,
}

impl Report {
    /// True if every change was done.
    pub fn succeeded(&self) -> bool {
        self.save_error.is_none() && self.outcomes.values().all(|(_, _, o)| *o == Outcome::Done)
    }
}

/// Why an object queued behind `--parallelism` was not started.
const STOPPED: &str = "the apply was stopped";

/// How often the walk tries an object again when its engine's own retries ran out on an error
/// that may pass (throttling, a server error, a lost connection). Creations are safe to repeat:
/// every engine makes them idempotent (tokens, names, server-side apply).
const OBJECT_RETRIES: u32 = 3;

/// The pause before the walk's `attempt`-th new try: 1 s, 2 s, 4 s, with up to half again as
/// jitter, so that throttled objects do not all come back at once.
fn retry_pause(attempt: u32) -> Duration {
    let base = Duration::from_secs(1 << (attempt - 1).min(4));
    let mut byte = [0u8; 1];
    let jitter = if getrandom::fill(&mut byte).is_ok() { u32::from(byte[0]) } else { 128 };
    base + base.mul_f64(f64::from(jitter) / 512.0)
}

/// A node of the walk: one step on one object.
struct Node {
    address: String,
    kind: String,
    engine: String,
    step: Step,
    action: Action,
    /// Desired attributes with references (creations and updates).
    after: Map<String, Value>,
    /// The object's dependencies, recorded with it.
    deps: Vec<String>,
    /// Nodes that must finish first.
    waits_for: Vec<usize>,
}

/// Applies `plan`, which was made against `state`, saving through `guard`.
pub async fn apply(
    plan: &Plan,
    mut state: State,
    engines: &Engines,
    guard: &mut dyn LockGuard,
    options: &Options,
    observer: &dyn Observer,
) -> Report {
    let start = Instant::now();
    let nodes = nodes(plan, &state);
    let mut outcomes: BTreeMap<String, (String, Action, Outcome)> = plan
        .actions()
        .map(|c| (c.address.clone(), (c.kind.clone(), c.action, Outcome::Skipped("not started".into()))))
        .collect();

    let mut dependents: Vec<Vec<usize>> = vec![Vec::new(); nodes.len()];
    let mut waiting: Vec<usize> = nodes.iter().map(|n| n.waits_for.len()).collect();
    for (i, n) in nodes.iter().enumerate() {
        for &w in &n.waits_for {
            dependents[w].push(i);
        }
    }
    let mut ready: Vec<usize> = (0..nodes.len()).rev().filter(|&i| waiting[i] == 0).collect();
    let mut blocked: Vec<Option<String>> = vec![None; nodes.len()];
    let limit = Arc::new(Semaphore::new(options.parallelism.max(1)));
    let mut running: JoinSet<(usize, Result<Option<Applied>, EngineError>, Duration)> = JoinSet::new();
    let mut saver = Saver::default();
    let mut save_error = None;
    let retries = Arc::new(AtomicUsize::new(0));

    loop {
        let stopping = options.stop.load(Ordering::SeqCst) || save_error.is_some();
        while let Some(i) = ready.pop() {
            let node = &nodes[i];
            if let Some(because) = blocked[i].clone().or_else(|| stopping.then(|| STOPPED.into())) {
                observer.event(&Event::Skipped { address: &node.address, because: &because });
                finish(
                    i,
                    &dependents,
                    &mut waiting,
                    &mut ready,
                    &mut blocked,
                    Some(&format!("{} was not done", node.address)),
                );
                continue;
            }
            let Some(engine) = engines.get(&node.engine).cloned() else {
                let error = format!("no {} engine is configured", node.engine);
                fail(i, &nodes, &error, &mut outcomes, observer, &dependents, &mut waiting, &mut ready, &mut blocked);
                continue;
            };
            let call = match prepare(node, &state, &options.redactor) {
                Ok(call) => call,
                Err(error) => {
                    fail(
                        i,
                        &nodes,
                        &error,
                        &mut outcomes,
                        observer,
                        &dependents,
                        &mut waiting,
                        &mut ready,
                        &mut blocked,
                    );
                    continue;
                }
            };
            observer.event(&Event::Started { address: &node.address, step: node.step });
            let limit = limit.clone();
            let retries = retries.clone();
            let stop = options.stop.clone();
            running.spawn(async move {
                let _permit = limit.acquire_owned().await;
                if stop.load(Ordering::SeqCst) {
                    return (i, Err(EngineError::permanent(STOPPED)), Duration::ZERO);
                }
                let began = Instant::now();
                let mut attempt = 0;
                let result = loop {
                    match call.run(&*engine).await {
                        Err(e) if e.retryable && attempt < OBJECT_RETRIES => {
                            attempt += 1;
                            retries.fetch_add(1, Ordering::Relaxed);
                            tokio::time::sleep(retry_pause(attempt)).await;
                        }
                        result => break result,
                    }
                };
                (i, result, began.elapsed())
            });
        }
        let joined = tokio::select! {
            joined = running.join_next() => joined,
            () = saver.due(), if saver.dirty => {
                if let Err(e) = saver.save(&mut state, guard).await {
                    save_error.get_or_insert(e.to_string());
                }
                continue;
            }
        };
        let Some(joined) = joined else { break };
        let (i, result, elapsed) = match joined {
            Ok(r) => r,
            Err(e) => {
                save_error.get_or_insert_with(|| format!("an apply task ended abnormally: {e}"));
                continue;
            }
        };
        let node = &nodes[i];
        match result {
            Ok(applied) => {
                record(node, applied, &mut state, &options.redactor);
                saver.changed();
                observer.event(&Event::Finished { address: &node.address, step: node.step, elapsed });
                let last_step = !matches!((node.action, node.step), (Action::Replace, Step::Delete));
                if last_step && let Some(o) = outcomes.get_mut(&node.address) {
                    o.2 = Outcome::Done;
                }
                finish(i, &dependents, &mut waiting, &mut ready, &mut blocked, None);
            }
            Err(error) if error.message == STOPPED => {
                observer.event(&Event::Skipped { address: &node.address, because: STOPPED });
                finish(i, &dependents, &mut waiting, &mut ready, &mut blocked, Some(STOPPED));
            }
            Err(error) => {
                let message = error.message.clone();
                fail(i, &nodes, &message, &mut outcomes, observer, &dependents, &mut waiting, &mut ready, &mut blocked);
            }
        }
    }
    if saver.dirty
        && let Err(e) = saver.save(&mut state, guard).await
    {
        save_error.get_or_insert(e.to_string());
    }
    for (address, reason) in nodes.iter().zip(&blocked).filter_map(|(n, b)| Some((&n.address, b.as_ref()?))) {
        if let Some(o) = outcomes.get_mut(address)
            && matches!(o.2, Outcome::Skipped(_))
        {
            o.2 = Outcome::Skipped(reason.clone());
        }
    }
    if options.stop.load(Ordering::SeqCst) {
        for o in outcomes.values_mut() {
            if o.2 == Outcome::Skipped("not started".into()) {
                o.2 = Outcome::Skipped(STOPPED.into());
            }
        }
    }
    Report { outcomes, state, elapsed: start.elapsed(), save_error, retries: retries.load(Ordering::Relaxed) }
}

/// Marks node `i` failed and everything waiting on it blocked.
#[allow(clippy::too_many_arguments, reason = "the walk's bookkeeping, passed apart to keep borrows short")]
fn fail(
    i: usize,
    nodes: &[Node],
    error: &str,
    outcomes: &mut BTreeMap<String, (String, Action, Outcome)>,
    observer: &dyn Observer,
    dependents: &[Vec<usize>],
    waiting: &mut [usize],
    ready: &mut Vec<usize>,
    blocked: &mut [Option<String>],
) {
    let node = &nodes[i];
    observer.event(&Event::Failed { address: &node.address, step: node.step, error });
    if let Some(o) = outcomes.get_mut(&node.address) {
        o.2 = Outcome::Failed(error.to_owned());
    }
    finish(i, dependents, waiting, ready, blocked, Some(&format!("{} failed", node.address)));
}

/// Releases the nodes waiting on node `i`; with `blocked_by`, they will be skipped.
fn finish(
    i: usize,
    dependents: &[Vec<usize>],
    waiting: &mut [usize],
    ready: &mut Vec<usize>,
    blocked: &mut [Option<String>],
    blocked_by: Option<&str>,
) {
    for &d in &dependents[i] {
        if let Some(reason) = blocked_by {
            blocked[d].get_or_insert_with(|| reason.to_owned());
        }
        waiting[d] -= 1;
        if waiting[d] == 0 {
            ready.push(d);
        }
    }
}

/// The nodes of a plan. Creations and updates wait for the creations and updates of their
/// dependencies; a replacement deletes first; a deletion waits for the deletions of the
/// objects recorded as depending on it.
fn nodes(plan: &Plan, state: &State) -> Vec<Node> {
    let mut nodes = Vec::new();
    let mut delete_of: HashMap<&str, usize> = HashMap::new();
    let mut put_of: HashMap<&str, usize> = HashMap::new();
    for c in plan.actions() {
        if matches!(c.action, Action::Delete | Action::Replace) {
            let recorded = state.resources.get(&c.address);
            delete_of.insert(&c.address, nodes.len());
            nodes.push(Node {
                address: c.address.clone(),
                kind: recorded.map_or_else(|| c.kind.clone(), |r| r.kind.clone()),
                engine: c.engine.clone(),
                step: Step::Delete,
                action: c.action,
                after: Map::new(),
                deps: recorded.map(|r| r.deps.clone()).unwrap_or_default(),
                waits_for: Vec::new(),
            });
        }
        if c.action != Action::Delete {
            put_of.insert(&c.address, nodes.len());
            nodes.push(Node {
                address: c.address.clone(),
                kind: c.kind.clone(),
                engine: c.engine.clone(),
                step: if c.action == Action::Update { Step::Update } else { Step::Create },
                action: c.action,
                after: c.after.clone().unwrap_or_default(),
                deps: c.deps.clone(),
                waits_for: Vec::new(),
            });
        }
    }
    for node in &mut nodes {
        if node.step != Step::Delete {
            node.waits_for.extend(node.deps.iter().filter_map(|d| put_of.get(d.as_str()).copied()));
            node.waits_for.extend(delete_of.get(node.address.as_str()).copied());
        }
    }
    // A deletion waits for the deletions of what depends on the deleted object.
    for i in 0..nodes.len() {
        if nodes[i].step != Step::Delete {
            continue;
        }
        let deps = nodes[i].deps.clone();
        for d in deps {
            if let Some(&j) = delete_of.get(d.as_str()) {
                nodes[j].waits_for.push(i);
            }
        }
    }
    nodes
}

/// An engine call with everything it needs owned, ready to run on a task.
struct Call {
    address: String,
    kind: String,
    step: Step,
    attrs: Map<String, Value>,
    lineage: String,
    token: String,
    id: Option<String>,
}

impl Call {
    async fn run(&self, engine: &dyn Engine) -> Result<Option<Applied>, EngineError> {
        let request = Request {
            address: &self.address,
            kind: &self.kind,
            attrs: &self.attrs,
            lineage: &self.lineage,
            token: &self.token,
        };
        match (self.step, &self.id) {
            (Step::Create, _) => engine.create(request).await.map(Some),
            (Step::Update, Some(id)) => engine.update(request, id).await.map(Some),
            (Step::Delete, Some(id)) => engine.delete(&self.kind, id).await.map(|()| None),
            (_, None) => Err(EngineError::permanent(format!("{} is not recorded in the state", self.address))),
        }
    }
}

/// The call for a node, with every reference resolved from the state and sensitive values
/// revealed.
fn prepare(node: &Node, state: &State, redactor: &Redactor) -> Result<Call, String> {
    let lookup = |address: &str, attr: &str| state.resources.get(address).and_then(|r: &Recorded| r.value(attr));
    let mut attrs = Map::with_capacity(node.after.len());
    for (name, value) in &node.after {
        let resolved = resolve(value, &lookup)
            .ok_or_else(|| format!("{}: `{name}` refers to an object that was not created", node.address))?;
        attrs.insert(name.clone(), resolved);
    }
    redactor.reveal(&mut attrs);
    Ok(Call {
        address: node.address.clone(),
        kind: node.kind.clone(),
        step: node.step,
        attrs,
        lineage: state.lineage.clone(),
        token: state.token(&node.address),
        id: state.resources.get(&node.address).map(|r| r.id.clone()),
    })
}

/// Records a finished step in the state.
fn record(node: &Node, applied: Option<Applied>, state: &mut State, redactor: &Redactor) {
    match applied {
        Some(applied) => {
            let lookup = |address: &str, attr: &str| state.resources.get(address).and_then(|r| r.value(attr));
            let attrs: Map<String, Value> =
                node.after.iter().filter_map(|(k, v)| Some((k.clone(), resolve(v, &lookup)?))).collect();
            let mut outputs: Map<String, Value> =
                applied.attrs.into_iter().filter(|(k, _)| !attrs.contains_key(k)).collect();
            redactor.redact(&mut outputs);
            state.resources.insert(
                node.address.clone(),
                Recorded {
                    engine: node.engine.clone(),
                    kind: node.kind.clone(),
                    id: applied.id,
                    attrs,
                    outputs,
                    deps: node.deps.clone(),
                },
            );
        }
        None => {
            state.resources.remove(&node.address);
            *state.generations.entry(node.address.clone()).or_insert(0) += 1;
        }
    }
}

/// How often the state is saved while objects complete: no completion stays unrecorded for
/// longer than this (plus one save).
const SAVE_INTERVAL: Duration = Duration::from_millis(100);

/// Saves the state after completions, batched: a completion marks it dirty, and a dirty state
/// is saved [`SAVE_INTERVAL`] after the previous save at the latest.
struct Saver {
    dirty: bool,
    last: Instant,
}

impl Default for Saver {
    fn default() -> Self {
        Self { dirty: false, last: Instant::now() - SAVE_INTERVAL }
    }
}

impl Saver {
    /// Marks the state changed.
    fn changed(&mut self) {
        self.dirty = true;
    }

    /// Resolves when the next save is due.
    async fn due(&self) {
        tokio::time::sleep_until((self.last + SAVE_INTERVAL).into()).await;
    }

    /// Saves the state as a new snapshot.
    async fn save(&mut self, state: &mut State, guard: &mut dyn LockGuard) -> Result<(), BackendError> {
        state.serial += 1;
        let saved = guard.save(&state.to_bytes()).await;
        self.last = Instant::now();
        if saved.is_ok() {
            self.dirty = false;
        } else {
            state.serial -= 1;
        }
        saved
    }
}
