//! `berth plan`, `apply`, `destroy`, `refresh` and `state`: the direct-apply verbs. The spec is
//! compiled as for a build; each target turns the model into the objects it applies
//! ([`berth_plan::Resource`]); the plan compares them with the state; `berth-apply` walks it.

use crate::{Compiled, SpecArgs, compile, finish, report::DiagFormat};
use berth_apply::backend::{Backend, LocalBackend, LockGuard, LockInfo, PostgresBackend};
use berth_apply::{Drift, Engines, Event, Observer, Options, Outcome, Report};
use berth_model::EmitInput;
use berth_plan::{Action, Plan, Resource, State};
use clap::{Args, ValueEnum};
use std::collections::{BTreeMap, BTreeSet};
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// Where the state is and how long to wait for its lock.
#[derive(Args, Clone)]
pub(crate) struct StateArgs {
    /// The state: a file (default berth.state.json beside the spec) or postgres://USER@HOST/DB.
    #[arg(long, value_name = "PATH|URL", env = "BERTH_STATE")]
    state: Option<String>,
    /// The state's name in PostgreSQL (one database holds many states).
    #[arg(long, value_name = "NAME", default_value = "default", env = "BERTH_STATE_NAME")]
    state_name: String,
    /// How long to wait for a state locked by another run (30s, 5m); 0 fails at once.
    #[arg(long, value_name = "DURATION", default_value = "0s", value_parser = parse_duration)]
    lock_timeout: Duration,
}

/// Which objects a verb touches.
#[derive(Args, Clone, Default)]
pub(crate) struct Narrow {
    /// Only this object and what it needs, or for a deletion what depends on it (an address
    /// or an address prefix; repeatable).
    #[arg(long = "target", value_name = "ADDRESS")]
    targets: Vec<String>,
    /// Only the objects of this engine (repeatable).
    #[arg(long, value_enum)]
    only: Vec<EngineName>,
}

impl Narrow {
    /// True if `--only` leaves the objects of `engine` in (when it is not given, every engine).
    fn includes(&self, engine: &str) -> bool {
        self.only.is_empty() || self.only.iter().any(|o| o.as_str() == engine)
    }
}

/// The apply engines, as `--only` names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum EngineName {
    /// EC2 instances, volumes, security groups.
    Aws,
    /// Kubernetes objects.
    Kubernetes,
    /// Docker hosts' containers, networks and volumes.
    Docker,
}

impl EngineName {
    fn as_str(self) -> &'static str {
        match self {
            EngineName::Aws => "aws",
            EngineName::Kubernetes => "kubernetes",
            EngineName::Docker => "docker",
        }
    }
}

/// How the apply verbs run.
#[derive(Args, Clone)]
pub(crate) struct RunArgs {
    /// Apply without asking.
    #[arg(long)]
    auto_approve: bool,
    /// At most this many objects in flight at once.
    #[arg(long, default_value_t = 64, value_name = "N")]
    parallelism: usize,
    /// Take over Kubernetes fields another field manager owns instead of failing.
    #[arg(long)]
    force_conflicts: bool,
    /// Start a missing state with this lineage, adopting the objects tagged with it (after a
    /// lost state; berth names the lineage when it finds such objects).
    #[arg(long, value_name = "LINEAGE")]
    lineage: Option<String>,
}

fn parse_duration(text: &str) -> Result<Duration, String> {
    let d: jiff::SignedDuration =
        text.parse().map_err(|e| format!("{text:?} is not a duration such as 30s or 5m: {e}"))?;
    Duration::try_from(d).map_err(|_| format!("{text:?} is negative"))
}

/// `berth plan`.
#[allow(clippy::too_many_arguments, reason = "one per command-line option")]
pub(crate) fn plan(
    spec: &SpecArgs,
    state_args: &StateArgs,
    narrow: &Narrow,
    out: Option<&Path>,
    json: bool,
    detailed_exitcode: bool,
    refresh: bool,
    destroy: bool,
    format: DiagFormat,
) -> Result<ExitCode, String> {
    let wanted = match compile_wanted(spec, narrow, !destroy, false, format) {
        Ok(wanted) => wanted,
        Err(code) => return Ok(code),
    };
    runtime()?.block_on(async {
        let backend = backend(state_args, &spec.spec)?;
        let mut state = load(&*backend).await?;
        if refresh {
            let setup = Setup::new(&state, &wanted.resources, None);
            let engines = engines(&state, &wanted.resources, narrow, setup).await?;
            let (fresh, drift) = berth_apply::refresh(&state, &engines, &wanted.redactor).await?;
            print_drift(&drift);
            state = fresh;
        }
        let desired = if destroy { Vec::new() } else { live(wanted, &mut state) };
        // This state is not saved: the objects of engines `--only` leaves out need no diff.
        state.resources.retain(|_, r| narrow.includes(&r.engine));
        let mut plan = narrowed(berth_plan::diff(&desired, &state), &state, narrow);
        plan.spec.clone_from(&spec.spec);
        if out.is_some() || json {
            plan.spec_digest = berth_plan::spec_digest(&desired);
        }
        if let Some(path) = out {
            write_atomically(path, &plan.to_json())?;
        }
        if json {
            print!("{}", String::from_utf8_lossy(&plan.to_json()));
        } else {
            print!("{}", berth_plan::render(&plan, color(std::io::stdout().is_terminal())));
        }
        Ok(if detailed_exitcode && !plan.is_empty() { ExitCode::from(2) } else { ExitCode::SUCCESS })
    })
}

/// `berth apply` (of a spec or a saved plan) and `berth destroy`.
pub(crate) fn apply(
    spec: &SpecArgs,
    state_args: &StateArgs,
    narrow: &Narrow,
    run: &RunArgs,
    destroy: bool,
    format: DiagFormat,
) -> Result<ExitCode, String> {
    let saved = saved_plan(&spec.spec)?;
    // A saved plan holds neither secret data nor sensitive values: its spec is compiled again,
    // with the same variables, to give them back (and must still give the same objects).
    let spec_path = saved.as_ref().map_or_else(|| spec.spec.clone(), |p| p.spec.clone());
    let spec = SpecArgs { spec: spec_path.clone(), ..spec.clone() };
    let wanted = match compile_wanted(&spec, narrow, !destroy, true, format) {
        Ok(wanted) => Some(wanted),
        Err(code) => return Ok(code),
    };
    runtime()?.block_on(async {
        let stop = Arc::new(AtomicBool::new(false));
        watch_interrupts(stop.clone());
        let backend = backend(state_args, &spec_path)?;
        let backend = &*backend;
        let operation = if destroy { "destroy" } else { "apply" };
        locked(backend, operation, state_args.lock_timeout, async move |guard| {
            apply_locked(backend, guard, saved, wanted, spec_path, narrow, run, destroy, stop).await
        })
        .await
    })
}

/// Runs `work` holding the state's lock for `operation`, and releases the lock whatever `work`
/// returns.
async fn locked(
    backend: &dyn Backend,
    operation: &str,
    timeout: Duration,
    work: impl AsyncFnOnce(&mut dyn LockGuard) -> Result<ExitCode, String>,
) -> Result<ExitCode, String> {
    let info = LockInfo::new(operation, jiff::Timestamp::now());
    let mut guard = backend.lock(&info, timeout).await.map_err(|e| e.to_string())?;
    let result = work(&mut *guard).await;
    let released = guard.release().await;
    let code = result?;
    released.map_err(|e| format!("the state was saved, but releasing its lock failed: {e}"))?;
    Ok(code)
}

#[allow(clippy::too_many_arguments, reason = "the parts of one apply, prepared by the caller")]
async fn apply_locked(
    backend: &dyn Backend,
    guard: &mut dyn LockGuard,
    saved: Option<Plan>,
    wanted: Option<Wanted>,
    spec_path: String,
    narrow: &Narrow,
    run: &RunArgs,
    destroy: bool,
    stop: Arc<AtomicBool>,
) -> Result<ExitCode, String> {
    let mut state = load(backend).await?;
    let redactor = wanted.as_ref().map(|w| w.redactor.clone()).unwrap_or_default();
    let mut setup = Setup::new(&state, wanted.as_ref().map_or(&[], |w| &w.resources), Some(run));
    if let Some(w) = &wanted {
        setup.secrets.clone_from(&w.secrets);
    }
    let (plan, engines) = match saved {
        Some(plan) => {
            if plan.serial == 0 && state.serial == 0 {
                // Planned before anything existed: the plan's lineage becomes the state's.
                state.lineage.clone_from(&plan.lineage);
            }
            if plan.lineage != state.lineage || plan.serial != state.serial {
                return Err(format!(
                    "the saved plan was made against state {} serial {}, but the state is now {} serial {}: \
                     it changed since; run `berth plan {} -o PLANFILE` again",
                    plan.lineage, plan.serial, state.lineage, state.serial, plan.spec
                ));
            }
            if let Some(w) = &wanted {
                let expired = w.expired(&state);
                let mut live_now = w.resources.clone();
                live_now.retain(|r| r.environment.as_deref().is_none_or(|e| !expired.contains_key(e)));
                if berth_plan::spec_digest(&live_now) != plan.spec_digest {
                    return Err(format!(
                        "the saved plan was made from another version of {} or other variables: give the same \
                         --var and --var-file as to `berth plan`, or plan again",
                        plan.spec
                    ));
                }
            }
            let engines = engines_for(&plan, setup).await?;
            (plan, engines)
        }
        None => {
            let desired = wanted.map(|w| live(w, &mut state)).unwrap_or_default();
            let engines = engines(&state, &desired, narrow, setup).await?;
            if state.serial == 0 {
                match &run.lineage {
                    Some(lineage) => state.lineage.clone_from(lineage),
                    None => refuse_lost_state(&engines, &desired, backend).await?,
                }
            } else if run.lineage.as_ref().is_some_and(|l| *l != state.lineage) {
                return Err(format!("--lineage: the state exists already, with lineage {}", state.lineage));
            } else {
                // What was changed or deleted out of band is planned from what is real.
                let (fresh, drift) = berth_apply::refresh(&state, &engines, &redactor).await?;
                print_drift(&drift);
                state = fresh;
            }
            // A new state's fresh lineage tags nothing yet: refuse_lost_state has just looked at
            // every lineage, so only a state given one (or an existing one) has objects to adopt.
            let adopted = if state.serial == 0 && run.lineage.is_none() {
                berth_apply::Adopted::default()
            } else {
                let unfinished = if destroy { berth_apply::Unfinished::Delete } else { berth_apply::Unfinished::Leave };
                berth_apply::adopt(&mut state, &engines, &desired, &redactor, unfinished).await?
            };
            for address in &adopted.adopted {
                eprintln!(
                    "adopted {address}: it exists with this state's lineage, created by a run that did not record it"
                );
            }
            for address in &adopted.duplicates {
                eprintln!("found {address}: a second object of that address, to be deleted");
            }
            for address in &adopted.unfinished {
                eprintln!("found {address}: begun by a run that died before it was whole, to be deleted");
            }
            let target = if destroy { &[][..] } else { &desired[..] };
            let mut plan = narrowed(berth_plan::diff(target, &state), &state, narrow);
            plan.spec = spec_path;
            if plan.is_empty() && adopted != berth_apply::Adopted::default() {
                state.serial += 1;
                guard.save(&state.to_bytes()).await.map_err(|e| e.to_string())?;
            }
            (plan, engines)
        }
    };
    print!("{}", berth_plan::render(&plan, color(std::io::stdout().is_terminal())));
    if plan.is_empty() {
        return Ok(ExitCode::SUCCESS);
    }
    if !run.auto_approve {
        confirm(if destroy { "destroy" } else { "apply" })?;
    }
    if state.serial == 0 {
        // The lineage goes to disk before anything is created: objects are tagged with it, so
        // that a run killed before its first save is adopted by the next, not duplicated.
        state.serial = 1;
        guard.save(&state.to_bytes()).await.map_err(|e| e.to_string())?;
    }
    if stop.load(Ordering::SeqCst) {
        return Err("interrupted before anything was applied; nothing changed".into());
    }
    let options = Options { parallelism: run.parallelism, stop, redactor };
    let observer = observer(&plan);
    let report = berth_apply::apply(&plan, state, &engines, guard, &options, &*observer).await;
    summary(&report, &engines);
    Ok(if report.succeeded() { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

/// Refuses to start a new state where objects of the spec exist under another lineage: the
/// state was lost, and creating would double them. Names the lineage and the command that
/// adopts them.
async fn refuse_lost_state(engines: &Engines, desired: &[Resource], backend: &dyn Backend) -> Result<(), String> {
    let wanted: BTreeSet<&str> = desired.iter().map(|r| r.address.as_str()).collect();
    let mut found: BTreeMap<String, Vec<berth_plan::Found>> = BTreeMap::new();
    for (name, engine) in engines {
        let all = engine.find(None).await.map_err(|e| format!("looking for {name} objects of a lost state: {e}"))?;
        for f in all.into_iter().filter(|f| wanted.contains(f.address.as_str())) {
            found.entry(f.lineage.clone()).or_default().push(f);
        }
    }
    let Some((lineage, objects)) = found.into_iter().max_by_key(|(_, objects)| objects.len()) else { return Ok(()) };
    let example = &objects[0];
    Err(format!(
        "{} holds no state, but {} objects of this spec exist, made under state lineage {lineage} \
         (such as {} {}): the state was lost or is elsewhere, and applying would create them twice\n\
         help: restore the state (its previous snapshot is kept as a .backup beside it), or adopt them with \
         `berth apply SPEC --lineage {lineage}`",
        backend.describe(),
        objects.len(),
        example.address,
        example.id
    ))
}

/// `berth gc`: deletes the objects of every environment whose time is up, saying which and
/// why; with `dry_run`, only says.
pub(crate) fn gc(
    spec: &SpecArgs,
    state_args: &StateArgs,
    run: &RunArgs,
    dry_run: bool,
    format: DiagFormat,
) -> Result<ExitCode, String> {
    let wanted = match compile_wanted(spec, &Narrow::default(), false, false, format) {
        Ok(wanted) => wanted,
        Err(code) => return Ok(code),
    };
    runtime()?.block_on(async {
        let backend = backend(state_args, &spec.spec)?;
        locked(&*backend, "gc", state_args.lock_timeout, async |guard| {
            let state = load(&*backend).await?;
            let mut doomed: Vec<&str> = Vec::new();
            for e in &wanted.environments {
                match e.expired(&state, wanted.now) {
                    Some(why) => {
                        println!("environment {}: expired, {why}", e.name);
                        doomed.push(&e.name);
                    }
                    None => println!("environment {}: live", e.name),
                }
            }
            let in_doomed = |r: &Resource| r.environment.as_deref().is_some_and(|e| doomed.contains(&e));
            let targets: Vec<String> =
                wanted.resources.iter().filter(|r| in_doomed(r)).map(|r| r.address.clone()).collect();
            let kept: Vec<Resource> = wanted.resources.iter().filter(|r| !in_doomed(r)).cloned().collect();
            let mut plan = berth_plan::diff(&kept, &state);
            let doomed_or_dependent = dependents_closure(&targets, &state);
            plan.resource_changes.retain(|c| c.action == Action::Delete && doomed_or_dependent.contains(&c.address));
            plan.spec.clone_from(&spec.spec);
            print!("{}", berth_plan::render(&plan, color(std::io::stdout().is_terminal())));
            if dry_run || plan.is_empty() {
                return Ok(ExitCode::SUCCESS);
            }
            let engines = engines_for(&plan, Setup::new(&state, &wanted.resources, Some(run))).await?;
            let stop = Arc::new(AtomicBool::new(false));
            watch_interrupts(stop.clone());
            let options = Options { parallelism: run.parallelism, stop, redactor: wanted.redactor.clone() };
            let report = berth_apply::apply(&plan, state, &engines, guard, &options, &*observer(&plan)).await;
            summary(&report, &engines);
            Ok(if report.succeeded() { ExitCode::SUCCESS } else { ExitCode::from(1) })
        })
        .await
    })
}

/// `targets` and every recorded object that depends on one of them, directly or not.
fn dependents_closure(targets: &[String], state: &State) -> BTreeSet<String> {
    let mut dependents: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (address, rec) in &state.resources {
        for d in &rec.deps {
            dependents.entry(d.as_str()).or_default().push(address);
        }
    }
    let mut out = BTreeSet::new();
    let mut todo: Vec<&str> = targets.iter().map(String::as_str).filter(|t| state.resources.contains_key(*t)).collect();
    while let Some(address) = todo.pop() {
        if out.insert(address.to_owned()) {
            todo.extend(dependents.get(address).into_iter().flatten());
        }
    }
    out
}

/// `berth refresh`: reads the real objects, reports drift and records it in the state. The
/// spec gives the sensitive values to keep out of the state.
pub(crate) fn refresh(
    spec: &SpecArgs,
    state_args: &StateArgs,
    narrow: &Narrow,
    format: DiagFormat,
) -> Result<ExitCode, String> {
    let wanted = match compile_wanted(spec, narrow, false, false, format) {
        Ok(wanted) => wanted,
        Err(code) => return Ok(code),
    };
    runtime()?.block_on(async {
        let backend = backend(state_args, &spec.spec)?;
        locked(&*backend, "refresh", state_args.lock_timeout, async |guard| {
            let state = load(&*backend).await?;
            let engines = engines(&state, &[], narrow, Setup::new(&state, &[], None)).await?;
            let (mut fresh, drift) = berth_apply::refresh(&state, &engines, &wanted.redactor).await?;
            print_drift(&drift);
            if fresh != state {
                fresh.serial += 1;
                guard.save(&fresh.to_bytes()).await.map_err(|e| e.to_string())?;
            }
            Ok(ExitCode::SUCCESS)
        })
        .await
    })
}

/// `berth state list` and `berth state show ADDRESS`.
pub(crate) fn state(spec: &str, state_args: &StateArgs, show: Option<&str>) -> Result<ExitCode, String> {
    runtime()?.block_on(async {
        let backend = backend(state_args, spec)?;
        let state = load(&*backend).await?;
        let mut out = String::new();
        match show {
            None => {
                for (address, rec) in &state.resources {
                    out.push_str(&format!("{address}\t{}\n", rec.id));
                }
            }
            Some(address) => {
                let rec = state
                    .resources
                    .get(address)
                    .ok_or_else(|| format!("{address} is not in the state; `berth state list` shows what is"))?;
                let json = serde_json::to_string_pretty(rec).map_err(|e| e.to_string())?;
                out.push_str(&format!("# {address}\n{json}\n"));
            }
        }
        print!("{out}");
        Ok(ExitCode::SUCCESS)
    })
}

/// What a spec wants applied.
struct Wanted {
    /// Its objects, narrowed by `--only`.
    resources: Vec<Resource>,
    /// Its environments.
    environments: Vec<Environment>,
    /// The time the run takes as now (Unix seconds).
    now: i64,
    /// The bytes behind the Kubernetes Secrets' placeholders (empty for a plan).
    secrets: BTreeMap<String, Vec<u8>>,
    /// The values of sensitive variables, as tokens in `resources`.
    redactor: Arc<berth_plan::Redactor>,
}

impl Wanted {
    /// The environments whose time is up, with why.
    fn expired(&self, state: &State) -> BTreeMap<String, String> {
        self.environments.iter().filter_map(|e| Some((e.name.clone(), e.expired(state, self.now)?))).collect()
    }
}

/// An environment's lifetime.
struct Environment {
    name: String,
    expires_unix: Option<i64>,
    ttl_secs: Option<u64>,
}

impl Environment {
    /// Why the environment's time is up at `now`, if it is: its `expires` passed, or its `ttl`
    /// counted from its first apply.
    fn expired(&self, state: &State, now: i64) -> Option<String> {
        if let Some(at) = self.expires_unix.filter(|&at| at <= now) {
            return Some(format!("its expiry {} has passed", timestamp(at)));
        }
        let ttl = i64::try_from(self.ttl_secs?).ok()?;
        let first = *state.environments.get(&self.name)?;
        (first.saturating_add(ttl) <= now)
            .then(|| format!("its ttl of {ttl}s from the first apply at {} has passed", timestamp(first)))
    }
}

fn timestamp(unix: i64) -> String {
    jiff::Timestamp::from_second(unix).map_or_else(|_| format!("@{unix}"), |t| t.to_string())
}

/// Compiles the spec of a direct-apply verb, prints its diagnostics and lists what it wants;
/// with errors, the exit code instead. `creating`: the verb may create objects, so what berth
/// cannot create directly is an error too; `secrets`: with the Secrets' data (an apply).
fn compile_wanted(
    spec: &SpecArgs,
    narrow: &Narrow,
    creating: bool,
    secrets: bool,
    format: DiagFormat,
) -> Result<Wanted, ExitCode> {
    let mut c = compile(spec);
    if creating {
        check_creatable(&mut c, narrow);
    }
    let code = finish(&c, format, || {});
    desired(&c, narrow, secrets).ok_or(code)
}

/// Adds the errors of what berth cannot create directly (a cluster's missing IAM roles) when
/// the run may create AWS objects, so that it stops before anything is created.
fn check_creatable(c: &mut Compiled, narrow: &Narrow) {
    if !narrow.includes("aws") {
        return;
    }
    if let (Some(model), Some(graph)) = (&c.model, &c.graph) {
        c.diags.extend(berth_terraform::apply_diagnostics(EmitInput { model, graph }));
    }
}

/// What a compiled spec wants, with the Secrets' data when `secrets` (an apply); `None` if it
/// has errors.
fn desired(c: &Compiled, narrow: &Narrow, secrets: bool) -> Option<Wanted> {
    let (model, graph) = (c.model.as_ref()?, c.graph.as_ref()?);
    if c.diags.has_errors() {
        return None;
    }
    let input = EmitInput { model, graph };
    // Each target lists only its own engine's objects, so `--only` also saves listing the rest.
    let mut resources = Vec::new();
    if narrow.includes("aws") {
        resources.extend(berth_terraform::resources(input));
    }
    if narrow.includes("docker") {
        resources.extend(berth_docker::resources(input));
    }
    if narrow.includes("kubernetes") {
        resources.extend(berth_helm::resources(input, c.now_unix));
    }
    let secrets = if secrets && resources.iter().any(|r| r.engine == "kubernetes") {
        berth_helm::secret_data(input, c.now_unix).0
    } else {
        BTreeMap::new()
    };
    let environments = model
        .environments
        .iter()
        .map(|e| Environment { name: e.meta.name.to_string(), expires_unix: e.expires_unix, ttl_secs: e.ttl_secs })
        .collect();
    let redactor = berth_plan::Redactor::new(c.sensitive.iter().map(String::as_str));
    for r in &mut resources {
        redactor.redact(&mut r.attrs);
    }
    Some(Wanted { resources, environments, now: c.now_unix, secrets, redactor: Arc::new(redactor) })
}

/// The objects to apply: those of expired environments are left out (`berth gc` deletes
/// them), with a warning; environments applied for the first time are stamped for their `ttl`.
fn live(wanted: Wanted, state: &mut State) -> Vec<Resource> {
    let expired = wanted.expired(state);
    for (name, why) in &expired {
        eprintln!(
            "warning: environment {name} has expired ({why}): its objects are not applied; \
             `berth gc` deletes them, or extend its expiry in the spec"
        );
    }
    let mut live = wanted.resources;
    live.retain(|r| r.environment.as_deref().is_none_or(|e| !expired.contains_key(e)));
    for r in &live {
        if let Some(e) = &r.environment {
            state.environments.entry(e.clone()).or_insert(wanted.now);
        }
    }
    live
}

/// A plan with only the changes `--target` and `--only` select, and what they need.
fn narrowed(mut plan: Plan, state: &State, narrow: &Narrow) -> Plan {
    plan.resource_changes.retain(|c| narrow.includes(&c.engine));
    if narrow.targets.is_empty() {
        return plan;
    }
    let deps: BTreeMap<&str, Vec<String>> = plan
        .resource_changes
        .iter()
        .map(|c| {
            let recorded = state.resources.get(&c.address).map(|r| r.deps.clone()).unwrap_or_default();
            (c.address.as_str(), if c.after.is_some() { c.deps.clone() } else { recorded })
        })
        .collect();
    let matches = |address: &str| {
        narrow.targets.iter().any(|t| {
            address == t || address.strip_prefix(t.as_str()).is_some_and(|rest| rest.starts_with([':', '.', '/', '@']))
        })
    };
    // A creation or update takes what it needs along; a deletion takes what depends on it.
    let deleted: BTreeSet<&str> =
        plan.resource_changes.iter().filter(|c| c.action == Action::Delete).map(|c| c.address.as_str()).collect();
    let targets: Vec<String> =
        deps.keys().filter(|a| matches(a) && deleted.contains(*a)).map(|a| (*a).to_owned()).collect();
    let mut keep: BTreeSet<String> = dependents_closure(&targets, state);
    let mut todo: Vec<&str> = deps.keys().copied().filter(|a| matches(a) && !deleted.contains(*a)).collect();
    while let Some(address) = todo.pop() {
        if keep.insert(address.to_owned()) {
            todo.extend(deps.get(address).into_iter().flatten().map(String::as_str));
        }
    }
    plan.resource_changes.retain(|c| keep.contains(&c.address));
    plan
}

/// What the engines are built with: where they find objects, the Secrets' data, and whether
/// Kubernetes conflicts are taken over.
#[derive(Default)]
struct Setup {
    /// Docker endpoints of the spec's and the state's objects.
    docker_endpoints: BTreeSet<String>,
    /// Kubernetes contexts of the spec's and the state's objects.
    kube_contexts: BTreeSet<String>,
    /// Kind, region and (for the state's) id of the spec's and the state's AWS objects.
    aws_objects: BTreeSet<(String, Option<String>, Option<String>)>,
    /// The bytes behind the Secrets' placeholders.
    secrets: BTreeMap<String, Vec<u8>>,
    /// `--force-conflicts`.
    force_conflicts: bool,
}

impl Setup {
    fn new(state: &State, desired: &[Resource], run: Option<&RunArgs>) -> Self {
        let mut setup = Setup { force_conflicts: run.is_some_and(|r| r.force_conflicts), ..Setup::default() };
        let recorded = state.resources.values().map(|r| (r.engine.as_str(), &r.kind, Some(&r.id), &r.attrs));
        let wanted = desired.iter().map(|r| (r.engine.as_str(), &r.kind, None, &r.attrs));
        for (engine, kind, id, attrs) in recorded.chain(wanted) {
            let (set, key) = match engine {
                "aws" => {
                    let region = attrs.get("region").and_then(|v| v.as_str()).map(str::to_owned);
                    setup.aws_objects.insert((kind.clone(), region, id.cloned()));
                    continue;
                }
                "docker" => (&mut setup.docker_endpoints, "endpoint"),
                "kubernetes" => (&mut setup.kube_contexts, "cluster"),
                _ => continue,
            };
            if let Some(v) = attrs.get(key).and_then(|v| v.as_str()) {
                set.insert(v.to_owned());
            }
        }
        setup
    }
}

/// The engines the objects of the state and the spec need.
async fn engines(state: &State, desired: &[Resource], narrow: &Narrow, setup: Setup) -> Result<Engines, String> {
    let mut names: Vec<&str> = state.resources.values().map(|r| r.engine.as_str()).collect();
    names.extend(desired.iter().map(|r| r.engine.as_str()));
    names.retain(|n| narrow.includes(n));
    engines_named(names, setup).await
}

/// The engines of the changes of a plan.
async fn engines_for(plan: &Plan, setup: Setup) -> Result<Engines, String> {
    engines_named(plan.actions().map(|c| c.engine.as_str()).collect(), setup).await
}

/// One engine of each name.
async fn engines_named(mut names: Vec<&str>, setup: Setup) -> Result<Engines, String> {
    names.sort_unstable();
    names.dedup();
    let mut engines = Engines::new();
    let mut setup = Some(setup);
    for name in names {
        let engine: Arc<dyn berth_plan::Engine> = match name {
            "aws" => {
                let objects = setup.as_ref().map(|s| &s.aws_objects).into_iter().flatten();
                let objects = objects.map(|(kind, region, id)| (kind.as_str(), region.as_deref(), id.as_deref()));
                Arc::new(berth_aws::AwsEngine::from_env(berth_aws::Options::default()).await.with_objects(objects))
            }
            "docker" => {
                let endpoints = setup.as_ref().map(|s| s.docker_endpoints.clone()).unwrap_or_default();
                Arc::new(berth_dockerd::DockerEngine::from_env().with_endpoints(endpoints))
            }
            "kubernetes" => {
                let s = setup.take().unwrap_or_default();
                Arc::new(
                    berth_kube::KubeEngine::new()
                        .with_secrets(s.secrets)
                        .with_clusters(s.kube_contexts)
                        .force_conflicts(s.force_conflicts),
                )
            }
            other => return Err(format!("the objects need the {other} engine, which this berth lacks")),
        };
        engines.insert(name.to_owned(), engine);
    }
    Ok(engines)
}

/// The backend `--state` names, else the file beside the spec.
fn backend(args: &StateArgs, spec: &str) -> Result<Box<dyn Backend>, String> {
    match &args.state {
        Some(url) if url.starts_with("postgres://") || url.starts_with("postgresql://") => {
            Ok(Box::new(PostgresBackend::new(url, &args.state_name).map_err(|e| e.to_string())?))
        }
        Some(path) => Ok(Box::new(LocalBackend::new(path))),
        None => {
            let spec = Path::new(spec);
            let dir = if spec.is_dir() { spec } else { spec.parent().unwrap_or(Path::new(".")) };
            let dir = if dir.as_os_str().is_empty() { Path::new(".") } else { dir };
            Ok(Box::new(LocalBackend::new(dir.join("berth.state.json"))))
        }
    }
}

/// The stored state, or a new one of a new lineage.
async fn load(backend: &dyn Backend) -> Result<State, String> {
    let bytes = backend.load().await.map_err(|e| e.to_string())?;
    match bytes {
        None => Ok(State::new(berth_apply::new_lineage(jiff::Timestamp::now()))),
        Some(bytes) => State::parse(&bytes).map_err(|e| format!("{}: {e}\nhelp: {}", backend.describe(), e.help)),
    }
}

/// A saved plan, if `path` is one.
fn saved_plan(path: &str) -> Result<Option<Plan>, String> {
    let p = Path::new(path);
    if !p.is_file() || p.extension().is_some_and(|e| e == "hcl") {
        return Ok(None);
    }
    let bytes = std::fs::read(p).map_err(|e| format!("cannot read {path}: {e}"))?;
    Plan::parse(&bytes).map(Some).map_err(|e| format!("{path}: {e}"))
}

/// Writes a file whole or not at all.
fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), String> {
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let tmp: PathBuf = dir.join(format!(".{name}.berth-tmp-{}", std::process::id()));
    let fail = |e: std::io::Error| format!("cannot write {}: {e}", path.display());
    let mut f = std::fs::File::create(&tmp).map_err(fail)?;
    f.write_all(bytes).and_then(|()| f.sync_all()).map_err(fail)?;
    std::fs::rename(&tmp, path).map_err(fail)
}

/// Asks on the terminal; refuses when there is none.
fn confirm(verb: &str) -> Result<(), String> {
    if !std::io::stdin().is_terminal() {
        return Err(format!("not on a terminal: pass --auto-approve to {verb} without asking"));
    }
    print!("\nDo you want to {verb} these changes? Only 'yes' is accepted: ");
    std::io::stdout().flush().map_err(|e| e.to_string())?;
    let mut answer = String::new();
    std::io::stdin().read_line(&mut answer).map_err(|e| e.to_string())?;
    if answer.trim() == "yes" { Ok(()) } else { Err(format!("{verb} cancelled")) }
}

/// The first Ctrl-C stops starting new work; the second exits at once (the state on disk is
/// whole, since every save replaces it atomically).
fn watch_interrupts(stop: Arc<AtomicBool>) {
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            stop.store(true, Ordering::SeqCst);
            eprintln!("interrupted: finishing the calls in flight and saving the state; Ctrl-C again to exit now");
            if tokio::signal::ctrl_c().await.is_ok() {
                std::process::exit(130);
            }
        }
    });
}

/// Progress as the walk reports it: bars per kind on a terminal, plain timestamped lines
/// elsewhere (CI logs).
fn observer(plan: &Plan) -> Box<dyn Observer> {
    if std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()) {
        Box::new(Bars::new(plan))
    } else {
        Box::new(Lines { start: Instant::now() })
    }
}

/// Plain lines on stderr: the time of day, the time since the start, the step and the object.
struct Lines {
    start: Instant,
}

impl Observer for Lines {
    fn event(&self, event: &Event<'_>) {
        let now = jiff::Timestamp::now().strftime("%H:%M:%S");
        let t = self.start.elapsed().as_secs_f64();
        match event {
            Event::Started { .. } => {}
            Event::Finished { address, step, elapsed } => {
                eprintln!("{now} [{t:6.1}s] {:<6} {address} ({:.1}s)", step.name(), elapsed.as_secs_f64());
            }
            Event::Failed { address, step, error } => {
                eprintln!("{now} [{t:6.1}s] {:<6} {address} FAILED: {error}", step.name());
            }
            Event::Skipped { address, because } => eprintln!("{now} [{t:6.1}s] skip   {address}: {because}"),
        }
    }
}

/// One progress bar per kind; failures and skips are printed above the bars.
struct Bars {
    multi: indicatif::MultiProgress,
    /// The bar of each address's kind.
    bar_of: BTreeMap<String, indicatif::ProgressBar>,
}

impl Bars {
    fn new(plan: &Plan) -> Self {
        let multi = indicatif::MultiProgress::with_draw_target(indicatif::ProgressDrawTarget::stderr());
        let style = indicatif::ProgressStyle::with_template("{prefix:>28} {bar:30} {pos:>5}/{len:<5} {msg}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar());
        let mut by_kind: BTreeMap<&str, u64> = BTreeMap::new();
        for c in plan.actions() {
            *by_kind.entry(c.kind.as_str()).or_default() += if c.action == Action::Replace { 2 } else { 1 };
        }
        let bars: BTreeMap<&str, indicatif::ProgressBar> = by_kind
            .into_iter()
            .map(|(kind, steps)| {
                let bar = multi.add(indicatif::ProgressBar::new(steps).with_style(style.clone()));
                bar.set_prefix(kind.to_owned());
                (kind, bar)
            })
            .collect();
        let bar_of = plan.actions().map(|c| (c.address.clone(), bars[c.kind.as_str()].clone())).collect();
        Bars { multi, bar_of }
    }
}

impl Observer for Bars {
    fn event(&self, event: &Event<'_>) {
        let (address, line) = match event {
            Event::Started { address, step } => {
                if let Some(bar) = self.bar_of.get(*address) {
                    bar.set_message(format!("{} {address}", step.name()));
                }
                return;
            }
            Event::Finished { address, .. } => (address, None),
            Event::Failed { address, step, error } => {
                (address, Some(format!("{} {address} FAILED: {error}", step.name())))
            }
            Event::Skipped { address, because } => (address, Some(format!("skip {address}: {because}"))),
        };
        if let Some(line) = line {
            let _ = self.multi.println(line);
        }
        if let Some(bar) = self.bar_of.get(*address) {
            bar.inc(1);
            if bar.position() >= bar.length().unwrap_or(0) {
                bar.finish_with_message("done");
            }
        }
    }
}

/// The closing table: per kind, how many objects were created, updated, replaced, deleted,
/// failed; the wall time; the API calls.
fn summary(report: &Report, engines: &Engines) {
    let mut rows: BTreeMap<&str, [usize; 6]> = BTreeMap::new();
    for (kind, action, outcome) in report.outcomes.values() {
        let row = rows.entry(kind.as_str()).or_default();
        let column = match (outcome, action) {
            (Outcome::Done, Action::Create) => 0,
            (Outcome::Done, Action::Update) => 1,
            (Outcome::Done, Action::Replace) => 2,
            (Outcome::Done, Action::Delete) => 3,
            (Outcome::Failed(_), _) => 4,
            (Outcome::Skipped(_), _) | (Outcome::Done, Action::NoOp) => 5,
        };
        row[column] += 1;
    }
    let mut out = format!(
        "\n{:<28} {:>8} {:>8} {:>8} {:>8} {:>8} {:>8}\n",
        "kind", "created", "updated", "replaced", "deleted", "failed", "skipped"
    );
    let mut total = [0usize; 6];
    for (kind, row) in &rows {
        out.push_str(&format!(
            "{kind:<28} {:>8} {:>8} {:>8} {:>8} {:>8} {:>8}\n",
            row[0], row[1], row[2], row[3], row[4], row[5]
        ));
        for (t, n) in total.iter_mut().zip(row) {
            *t += n;
        }
    }
    out.push_str(&format!(
        "{:<28} {:>8} {:>8} {:>8} {:>8} {:>8} {:>8}\n",
        "total", total[0], total[1], total[2], total[3], total[4], total[5]
    ));
    for (name, engine) in engines {
        let calls = engine.calls();
        let list: Vec<String> = calls.iter().map(|(call, n)| format!("{call} {n}")).collect();
        out.push_str(&format!("API calls ({name}): {}\n", list.join(", ")));
    }
    if report.retries > 0 {
        out.push_str(&format!("Objects tried again after their API's own retries: {}\n", report.retries));
    }
    let verdict = if report.succeeded() { "complete" } else { "FAILED" };
    out.push_str(&format!(
        "Apply {verdict} in {:.1}s; state serial {}.\n",
        report.elapsed.as_secs_f64(),
        report.state.serial
    ));
    if let Some(e) = &report.save_error {
        out.push_str(&format!("error: saving the state failed: {e}\n"));
    }
    for (address, (_, _, outcome)) in &report.outcomes {
        if let Outcome::Failed(e) = outcome {
            out.push_str(&format!("error: {address}: {e}\n"));
        }
    }
    eprint!("{out}");
}

fn print_drift(drift: &[Drift]) {
    for d in drift {
        match d {
            Drift::Gone { address } => eprintln!("drift: {address} no longer exists"),
            Drift::Changed { address, attrs } => {
                for (attr, recorded, real) in attrs {
                    eprintln!("drift: {address}: {attr} was {recorded}, is {real}");
                }
            }
        }
    }
}

fn color(terminal: bool) -> bool {
    terminal && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

fn runtime() -> Result<tokio::runtime::Runtime, String> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the runtime: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use berth_plan::{Recorded, reference};
    use serde_json::{Map, json};

    /// A host with a volume attached: the attachment needs both.
    fn host() -> Vec<Resource> {
        let attrs = |v: serde_json::Value| v.as_object().cloned().unwrap_or_default();
        vec![
            Resource::new("host.a:aws_instance".into(), "aws", "aws_instance", attrs(json!({"ami": "x"}))),
            Resource::new("host.a.volume.d:aws_ebs_volume".into(), "aws", "aws_ebs_volume", attrs(json!({"size": 1}))),
            Resource::new(
                "host.a.volume.d:aws_volume_attachment".into(),
                "aws",
                "aws_volume_attachment",
                attrs(json!({
                    "instance_id": reference("host.a:aws_instance", "id"),
                    "volume_id": reference("host.a.volume.d:aws_ebs_volume", "id"),
                })),
            ),
        ]
    }

    fn addresses(plan: &Plan) -> Vec<&str> {
        plan.actions().map(|c| c.address.as_str()).collect()
    }

    #[test]
    fn a_target_takes_what_it_needs_and_a_deletion_what_depends_on_it() {
        let narrow = |t: &str| Narrow { targets: vec![t.to_owned()], only: Vec::new() };
        let empty = State::new("l".into());
        let plan =
            narrowed(berth_plan::diff(&host(), &empty), &empty, &narrow("host.a.volume.d:aws_volume_attachment"));
        assert_eq!(addresses(&plan).len(), 3, "the attachment needs the instance and the volume");
        let plan = narrowed(berth_plan::diff(&host(), &empty), &empty, &narrow("host.a.volume.d"));
        assert_eq!(addresses(&plan).len(), 3, "a prefix selects the volume and its attachment");
        let plan = narrowed(berth_plan::diff(&host(), &empty), &empty, &narrow("host.a.vol"));
        assert!(addresses(&plan).is_empty(), "a prefix ends at an address boundary");

        let mut state = State::new("l".into());
        for r in host() {
            let recorded = Recorded {
                engine: r.engine,
                kind: r.kind,
                id: "i".into(),
                attrs: Map::new(),
                outputs: Map::new(),
                deps: r.deps,
            };
            state.resources.insert(r.address, recorded);
        }
        let plan = narrowed(berth_plan::diff(&[], &state), &state, &narrow("host.a:aws_instance"));
        assert_eq!(addresses(&plan), ["host.a.volume.d:aws_volume_attachment", "host.a:aws_instance"]);
    }
}
