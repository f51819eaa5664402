//! The state: what berth created, with ids and attributes, so that the next plan knows what
//! exists. A versioned JSON document with a lineage (which state this is) and a serial (which
//! snapshot of it); backends in `berth-apply` store it.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::fmt;

/// The state format this berth writes and reads.
pub const STATE_FORMAT: u32 = 1;

/// The state document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct State {
    /// [`STATE_FORMAT`] when written.
    pub format_version: u32,
    /// Identifies this state across its snapshots; objects are tagged with it.
    pub lineage: String,
    /// Grows by one with every saved snapshot.
    pub serial: u64,
    /// How many times each address's object was deleted: part of its next idempotency token,
    /// so that a replacement is a new object while a retried creation is the same one.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub generations: BTreeMap<String, u32>,
    /// When each environment's objects were first applied (Unix seconds): where its `ttl`
    /// counts from.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub environments: BTreeMap<String, i64>,
    /// Recorded objects by resource address.
    pub resources: BTreeMap<String, Recorded>,
}

/// One object berth created.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Recorded {
    /// Its engine.
    pub engine: String,
    /// Its kind.
    pub kind: String,
    /// The API's id.
    pub id: String,
    /// The desired attributes it was last applied with, references resolved.
    pub attrs: Map<String, Value>,
    /// Attributes the API reported beyond the desired ones (`private_ip`, `arn`).
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub outputs: Map<String, Value>,
    /// The addresses it depended on when applied: deletion goes the other way.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub deps: Vec<String>,
}

impl Recorded {
    /// An attribute or output of the object.
    pub fn get(&self, name: &str) -> Option<&Value> {
        if name == "id" {
            return None;
        }
        self.attrs.get(name).or_else(|| self.outputs.get(name))
    }

    /// An attribute, an output, or `id`, as a value.
    pub fn value(&self, name: &str) -> Option<Value> {
        if name == "id" { Some(Value::String(self.id.clone())) } else { self.get(name).cloned() }
    }
}

/// Why a state document cannot be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StateError {
    /// What is wrong.
    pub message: String,
    /// What to do about it.
    pub help: String,
}

impl fmt::Display for StateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for StateError {}

impl State {
    /// An empty state of a new lineage.
    pub fn new(lineage: String) -> Self {
        Self {
            format_version: STATE_FORMAT,
            lineage,
            serial: 0,
            generations: BTreeMap::new(),
            environments: BTreeMap::new(),
            resources: BTreeMap::new(),
        }
    }

    /// Reads a stored document, refusing a broken one or one of a newer format.
    pub fn parse(bytes: &[u8]) -> Result<Self, StateError> {
        #[derive(Deserialize)]
        struct Version {
            format_version: Option<u64>,
        }
        // One pass over a good document; a failed one is read again for its version alone,
        // which tells a newer format from a broken file.
        let error = match serde_json::from_slice::<State>(bytes) {
            Ok(state) => {
                if let Some(e) = version_error(Some(u64::from(state.format_version))) {
                    return Err(e);
                }
                if state.lineage.is_empty() {
                    return Err(StateError {
                        message: "the state has an empty lineage".into(),
                        help: "restore it from its backup or from version control".into(),
                    });
                }
                return Ok(state);
            }
            Err(e) => e,
        };
        let version = serde_json::from_slice::<Version>(bytes).ok().map(|v| v.format_version);
        Err(version.and_then(version_error).unwrap_or_else(|| StateError {
            message: format!("the state is not a valid state document: {error}"),
            help: "restore it from its backup (the previous snapshot, kept beside it) or from version control; \
                   berth never writes a partial state, so this file was changed by something else"
                .into(),
        }))
    }

    /// The document as stored: pretty JSON with a final newline, the same bytes for the same
    /// state.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = serde_json::to_vec_pretty(self).expect("a state always serializes");
        out.push(b'\n');
        out
    }

    /// The idempotency token for the next creation of `address`: 64 hex digits that depend on
    /// the lineage, the address and its generation only.
    pub fn token(&self, address: &str) -> String {
        let generation = self.generations.get(address).copied().unwrap_or(0);
        crate::digest::hex_sha256(format!("{}/{address}/{generation}", self.lineage).as_bytes())
    }
}

/// Why a document of format `version` cannot be read, or `None` for [`STATE_FORMAT`].
fn version_error(version: Option<u64>) -> Option<StateError> {
    match version {
        Some(v) if v == u64::from(STATE_FORMAT) => None,
        Some(v) if v > u64::from(STATE_FORMAT) => Some(StateError {
            message: format!("the state has format version {v}, newer than the {STATE_FORMAT} this berth reads"),
            help: "use the berth release that wrote it, or a newer one; this one leaves it untouched".into(),
        }),
        v => Some(StateError {
            message: format!(
                "the state has format version {}, which no berth release wrote",
                v.map_or_else(|| "(none)".to_owned(), |v| v.to_string())
            ),
            help: "restore it from its backup or from version control".into(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_refuses_broken_or_newer_documents() {
        let mut s = State::new("lin".into());
        s.resources.insert(
            "a:k".into(),
            Recorded {
                engine: "aws".into(),
                kind: "k".into(),
                id: "i-1".into(),
                attrs: Map::new(),
                outputs: Map::new(),
                deps: vec![],
            },
        );
        let bytes = s.to_bytes();
        assert_eq!(State::parse(&bytes).unwrap(), s);

        let truncated = State::parse(&bytes[..bytes.len() / 2]).unwrap_err();
        assert!(truncated.message.contains("not a valid state document"), "{truncated}");
        let newer =
            State::parse(br#"{"format_version": 9, "lineage": "x", "serial": 1, "resources": {}}"#).unwrap_err();
        assert!(newer.message.contains("newer"), "{newer}");
        let unversioned = State::parse(br#"{"lineage": "x"}"#).unwrap_err();
        assert!(unversioned.message.contains("(none)"), "{unversioned}");
    }

    #[test]
    fn tokens_change_with_the_generation_only() {
        let mut s = State::new("lin".into());
        let first = s.token("a");
        assert_eq!(first.len(), 64);
        assert_eq!(s.token("a"), first);
        assert_ne!(s.token("b"), first);
        s.generations.insert("a".into(), 1);
        assert_ne!(s.token("a"), first);
    }
}
