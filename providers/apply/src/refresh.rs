//! Refresh: reads every recorded object through its engine, batched per engine, and reports
//! how the real objects drifted from the state; adoption: records the objects of the state's
//! lineage that a dead run created but never recorded.

use crate::walk::Engines;
use berth_plan::{Found, Recorded, Redactor, Resource, State, is_unknown};
use serde_json::{Map, Value};
use std::collections::{BTreeMap, BTreeSet};

/// How one recorded object differs from what its engine reports.
#[derive(Debug, Clone, PartialEq)]
pub enum Drift {
    /// The object no longer exists.
    Gone {
        /// Resource address.
        address: String,
    },
    /// Attributes changed out of band: name, recorded value, real value.
    Changed {
        /// Resource address.
        address: String,
        /// `(attribute, recorded, real)` for each changed attribute.
        attrs: Vec<(String, Value, Value)>,
    },
}

/// The state with every recorded object as its engine reports it now (sensitive values
/// redacted as in the state): vanished objects left out, changed attributes taken over.
/// Objects of engines not in `engines` stay as recorded.
pub async fn refresh(state: &State, engines: &Engines, redactor: &Redactor) -> Result<(State, Vec<Drift>), String> {
    let mut fresh = state.clone();
    let mut drift = Vec::new();
    let mut by_engine: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (address, rec) in &state.resources {
        by_engine.entry(rec.engine.as_str()).or_default().push(address);
    }
    for (name, addresses) in by_engine {
        let Some(engine) = engines.get(name) else { continue };
        let objects: Vec<(&str, &str)> = addresses
            .iter()
            .map(|a| {
                let rec = &state.resources[*a];
                (rec.kind.as_str(), rec.id.as_str())
            })
            .collect();
        let read = engine.read(&objects).await.map_err(|e| format!("reading the {name} objects: {e}"))?;
        for (address, observed) in addresses.into_iter().zip(read) {
            let Some(mut observed) = observed else {
                fresh.resources.remove(address);
                drift.push(Drift::Gone { address: address.to_owned() });
                continue;
            };
            redactor.redact(&mut observed.attrs);
            let rec = fresh.resources.get_mut(address).expect("every address read is recorded");
            let mut changed = Vec::new();
            // An attribute the engine cannot observe (the region of a client, a group's subnet)
            // stays as recorded.
            for (attr, recorded) in rec.attrs.iter_mut() {
                if let Some(real) = observed.attrs.get(attr)
                    && recorded != real
                {
                    changed.push((attr.clone(), recorded.clone(), real.clone()));
                    *recorded = real.clone();
                }
            }
            for (attr, value) in observed.attrs {
                if !rec.attrs.contains_key(&attr) {
                    rec.outputs.insert(attr, value);
                }
            }
            if !changed.is_empty() {
                drift.push(Drift::Changed { address: address.to_owned(), attrs: changed });
            }
        }
    }
    Ok((fresh, drift))
}

/// What [`adopt`] took into the state.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Adopted {
    /// Addresses of objects that existed with this state's lineage but were not recorded (a
    /// run died between creating and saving them): recorded now, so they are not created
    /// again.
    pub adopted: Vec<String>,
    /// Second objects of an address (`ADDRESS~ID`): recorded so that the plan deletes them.
    pub duplicates: Vec<String>,
    /// Objects with this state's lineage that a dead run began but never finished (a
    /// container created and never started), which the engine reads as absent
    /// (`ADDRESS~ID`): recorded, when asked, so that a destroy deletes them too.
    pub unfinished: Vec<String>,
}

/// What [`adopt`] does with objects a dead run began but never finished.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unfinished {
    /// Leave them: an apply's create finds and replaces them.
    Leave,
    /// Record them, so that the plan deletes them (a destroy).
    Delete,
}

/// Records in `state` every object the engines find with the state's lineage that the state
/// lacks: after a crash, what the dead run created is adopted instead of created twice, and a
/// second object of one address is recorded under `ADDRESS~ID`, which the plan then deletes.
/// Attributes are what the engine reads, completed by the desired literal values the engine
/// cannot observe. An object the engine finds but reads as absent is unfinished, and handled
/// as `unfinished` says.
pub async fn adopt(
    state: &mut State,
    engines: &Engines,
    desired: &[Resource],
    redactor: &Redactor,
    unfinished: Unfinished,
) -> Result<Adopted, String> {
    let wanted: BTreeMap<&str, &Resource> = desired.iter().map(|r| (r.address.as_str(), r)).collect();
    let mut outcome = Adopted::default();
    for (name, engine) in engines {
        let found = engine.find(Some(&state.lineage)).await.map_err(|e| format!("finding the {name} objects: {e}"))?;
        let known: BTreeSet<&str> =
            state.resources.values().filter(|r| r.engine == *name).map(|r| r.id.as_str()).collect();
        let orphans: Vec<&Found> = found.iter().filter(|f| !known.contains(f.id.as_str())).collect();
        if orphans.is_empty() {
            continue;
        }
        let objects: Vec<(&str, &str)> = orphans.iter().map(|f| (f.kind.as_str(), f.id.as_str())).collect();
        let read = engine.read(&objects).await.map_err(|e| format!("reading the {name} objects: {e}"))?;
        for (found, observed) in orphans.into_iter().zip(read) {
            let desired = wanted.get(found.address.as_str()).copied();
            let Some(mut observed) = observed else {
                if unfinished == Unfinished::Delete {
                    // Deleted before what it depends on, like the object it was meant to be.
                    let deps = desired.map(|r| r.deps.clone()).unwrap_or_default();
                    let address = format!("{}~{}", found.address, found.id);
                    outcome.unfinished.push(address.clone());
                    let recorded = Recorded {
                        engine: name.clone(),
                        kind: found.kind.clone(),
                        id: found.id.clone(),
                        attrs: Map::new(),
                        outputs: Map::new(),
                        deps,
                    };
                    state.resources.insert(address, recorded);
                }
                continue;
            };
            redactor.redact(&mut observed.attrs);
            let address = if state.resources.contains_key(&found.address) {
                outcome.duplicates.push(format!("{}~{}", found.address, found.id));
                format!("{}~{}", found.address, found.id)
            } else {
                outcome.adopted.push(found.address.clone());
                found.address.clone()
            };
            let mut attrs = Map::new();
            let mut outputs = observed.attrs;
            if let Some(r) = desired.filter(|_| !address.contains('~')) {
                for (key, want) in &r.attrs {
                    match outputs.remove(key) {
                        Some(real) => {
                            attrs.insert(key.clone(), real);
                        }
                        None if !is_unknown(want) => {
                            attrs.insert(key.clone(), want.clone());
                        }
                        None => {}
                    }
                }
            }
            let deps = desired.filter(|_| !address.contains('~')).map(|r| r.deps.clone()).unwrap_or_default();
            state.resources.insert(
                address,
                Recorded { engine: name.clone(), kind: found.kind.clone(), id: found.id.clone(), attrs, outputs, deps },
            );
        }
    }
    Ok(outcome)
}
