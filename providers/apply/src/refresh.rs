//! Refresh: reads every recorded object through its engine, batched per engine, and reports
//! how the real objects drifted from the state.

use crate::walk::Engines;
use berth_plan::State;
use serde_json::Value;
use std::collections::BTreeMap;

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

/// The state with every recorded object as its engine reports it now: vanished objects left
/// out, changed attributes taken over. Objects of engines not in `engines` stay as recorded.
pub async fn refresh(state: &State, engines: &Engines) -> Result<(State, Vec<Drift>), String> {
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
            let Some(observed) = observed else {
                fresh.resources.remove(address);
                drift.push(Drift::Gone { address: address.to_owned() });
                continue;
            };
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
