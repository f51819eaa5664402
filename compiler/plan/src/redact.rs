//! Sensitive values out of plans and state: each value of a variable marked `sensitive` is
//! replaced, wherever it appears inside a desired string, by a token naming a digest of it.
//! Plans, state and logs hold the token; only the call to the engine gets the value back. A
//! changed value gives a changed token, so the plan still sees the change.

use crate::digest::hex_sha256;
use serde_json::{Map, Value};

/// Replaces sensitive values by tokens and back.
#[derive(Debug, Clone, Default)]
pub struct Redactor {
    /// `(value, token)`, longest value first, so that a value inside another is not split.
    pairs: Vec<(String, String)>,
}

impl Redactor {
    /// A redactor of these values (empty ones are ignored).
    pub fn new<'a>(values: impl IntoIterator<Item = &'a str>) -> Self {
        let mut pairs: Vec<(String, String)> = values
            .into_iter()
            .filter(|v| !v.is_empty())
            .map(|v| (v.to_owned(), format!("(sensitive {})", &hex_sha256(v.as_bytes())[..12])))
            .collect();
        pairs.sort_by(|a, b| b.0.len().cmp(&a.0.len()).then_with(|| a.0.cmp(&b.0)));
        pairs.dedup();
        Self { pairs }
    }

    /// True if there is nothing to redact.
    pub fn is_empty(&self) -> bool {
        self.pairs.is_empty()
    }

    /// Replaces every sensitive value inside the strings of `attrs` by its token.
    pub fn redact(&self, attrs: &mut Map<String, Value>) {
        if !self.is_empty() {
            attrs.values_mut().for_each(|v| self.walk(v, true));
        }
    }

    /// Puts the values back where `attrs` hold tokens.
    pub fn reveal(&self, attrs: &mut Map<String, Value>) {
        if !self.is_empty() {
            attrs.values_mut().for_each(|v| self.walk(v, false));
        }
    }

    fn walk(&self, value: &mut Value, redact: bool) {
        match value {
            Value::String(s) => {
                for (secret, token) in &self.pairs {
                    let (from, to) = if redact { (secret, token) } else { (token, secret) };
                    if s.contains(from.as_str()) {
                        *s = s.replace(from.as_str(), to);
                    }
                }
            }
            Value::Array(items) => items.iter_mut().for_each(|v| self.walk(v, redact)),
            Value::Object(m) => m.values_mut().for_each(|v| self.walk(v, redact)),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn values_become_tokens_inside_strings_and_come_back() {
        let r = Redactor::new(["hunter2", "", "hunter2-long"]);
        let original = json!({"env": ["DSN=pg://u:hunter2@db", "KEY=hunter2-long"], "n": 1});
        let mut attrs = original.as_object().unwrap().clone();
        r.redact(&mut attrs);
        let text = serde_json::to_string(&attrs).unwrap();
        assert!(!text.contains("hunter2"), "{text}");
        assert!(text.contains("DSN=pg://u:(sensitive "), "{text}");
        r.reveal(&mut attrs);
        assert_eq!(Value::Object(attrs), original);
        let mut other = json!({"a": "hunter3"}).as_object().unwrap().clone();
        Redactor::new(["hunter3"]).redact(&mut other);
        assert_ne!(other["a"], Value::String(Redactor::new(["hunter2"]).pairs[0].1.clone()));
    }
}
