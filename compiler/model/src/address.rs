//! Typed addresses: every object berth knows has one, written in the spec's own traversal
//! syntax (`host.dh000`, `module.db.service.mongo["a"]`, `cluster.c000.node_pool.np00`,
//! `service.api[c001]`). Diagnostics, graph nodes, plan lines and file names all use them.

use arcstr::ArcStr;
use serde::{Serialize, Serializer};
use std::fmt;

/// A `for_each` key or `count` index of an expanded block.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Key {
    /// A `for_each` key: `["name"]`.
    Str(ArcStr),
    /// A `count` index: `[3]`.
    Int(u64),
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.write(f)
    }
}

impl Key {
    fn write(&self, f: &mut impl fmt::Write) -> fmt::Result {
        match self {
            // Keys are almost always plain ASCII, which `{:?}` writes as it is.
            Key::Str(s) if s.bytes().all(|b| (b' '..=b'~').contains(&b) && b != b'"' && b != b'\\') => {
                f.write_str("[\"")?;
                f.write_str(s)?;
                f.write_str("\"]")
            }
            Key::Str(s) => write!(f, "[{s:?}]"),
            Key::Int(i) => write!(f, "[{i}]"),
        }
    }
}

/// One `module.NAME[KEY]` step of an address.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ModuleStep {
    /// The module call's label.
    pub name: String,
    /// Its instance key, when the call has for_each or count.
    pub key: Option<Key>,
}

/// One nested-block step (`.volume.data0`, `.node_pool.pools["np00"]`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct NestedStep {
    /// The nested block type.
    pub block: String,
    /// Its label.
    pub label: String,
    /// Its instance key, when the nested block has for_each or count.
    pub key: Option<Key>,
}

/// The address of a resource, a nested object in one, or a placed share of one.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Address {
    /// The module instances it sits in, outermost first (empty in the root module).
    pub module: Vec<ModuleStep>,
    /// The block type: `host`, `service`, ... (shared: a fleet has tens of thousands of
    /// instances of a few declarations).
    pub kind: ArcStr,
    /// The block label.
    pub label: ArcStr,
    /// The instance key, when the block has for_each or count.
    pub key: Option<Key>,
    /// Nested-block steps, outermost first.
    pub nested: Vec<NestedStep>,
    /// The cluster or host a placed share runs on: `service.api[c001]`.
    pub share: Option<ArcStr>,
}

impl Address {
    /// The address `kind.label` in the root module.
    pub fn new(kind: impl Into<ArcStr>, label: impl Into<ArcStr>) -> Self {
        Address {
            module: Vec::new(),
            kind: kind.into(),
            label: label.into(),
            key: None,
            nested: Vec::new(),
            share: None,
        }
    }

    /// The same address with an instance key.
    #[must_use]
    pub fn with_key(mut self, key: Option<Key>) -> Self {
        self.key = key;
        self
    }

    /// The address of a nested block in this object.
    #[must_use]
    pub fn nested(&self, block: impl Into<String>, label: impl Into<String>, key: Option<Key>) -> Self {
        let mut a = self.clone();
        a.nested.push(NestedStep { block: block.into(), label: label.into(), key });
        a
    }

    /// The address of this object's share on a cluster or host.
    #[must_use]
    pub fn share(&self, on: impl Into<ArcStr>) -> Self {
        let mut a = self.clone();
        a.share = Some(on.into());
        a
    }

    /// The resource this address is in: without nested steps and share.
    #[must_use]
    pub fn resource(&self) -> Self {
        let mut a = self.clone();
        a.nested.clear();
        a.share = None;
        a
    }
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.write(f)
    }
}

impl Address {
    /// Appends the address's text to `out`, as `Display` writes it but without the formatting
    /// machinery (ranking a fleet's graph writes every address).
    pub fn push_to(&self, out: &mut String) {
        let _ = self.write(out);
    }

    fn write(&self, f: &mut impl fmt::Write) -> fmt::Result {
        for m in &self.module {
            f.write_str("module.")?;
            f.write_str(&m.name)?;
            if let Some(k) = &m.key {
                k.write(f)?;
            }
            f.write_str(".")?;
        }
        f.write_str(&self.kind)?;
        f.write_str(".")?;
        f.write_str(&self.label)?;
        if let Some(k) = &self.key {
            k.write(f)?;
        }
        for n in &self.nested {
            f.write_str(".")?;
            f.write_str(&n.block)?;
            f.write_str(".")?;
            f.write_str(&n.label)?;
            if let Some(k) = &n.key {
                k.write(f)?;
            }
        }
        if let Some(on) = &self.share {
            f.write_str("[")?;
            f.write_str(on)?;
            f.write_str("]")?;
        }
        Ok(())
    }
}

impl Serialize for Address {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// A berth address spelled with the characters every AWS tag value and Docker label allows (letters, digits,
/// spaces and `_ . : / = + - @`): keys follow a `/` instead of `["..."]`, a placed share an
/// `@`, and any other character becomes `_`. `cluster.fleet["c000"].node_pool.pool["np00"]`
/// is tagged `cluster.fleet/c000.node_pool.pool/np00`, `forward.api[c001]` `forward.api@c001`.
pub fn tag_address(address: &Address) -> String {
    let mut s = String::with_capacity(64);
    for m in &address.module {
        s.push_str("module.");
        tag_text(&mut s, &m.name);
        tag_key(&mut s, m.key.as_ref());
        s.push('.');
    }
    tag_text(&mut s, &address.kind);
    s.push('.');
    tag_text(&mut s, &address.label);
    tag_key(&mut s, address.key.as_ref());
    for n in &address.nested {
        s.push('.');
        tag_text(&mut s, &n.block);
        s.push('.');
        tag_text(&mut s, &n.label);
        tag_key(&mut s, n.key.as_ref());
    }
    if let Some(on) = &address.share {
        s.push('@');
        tag_text(&mut s, on);
    }
    s
}

fn tag_key(s: &mut String, key: Option<&Key>) {
    match key {
        Some(Key::Str(k)) => {
            s.push('/');
            tag_text(s, k);
        }
        Some(Key::Int(i)) => {
            s.push('/');
            s.push_str(&i.to_string());
        }
        None => {}
    }
}

fn tag_text(s: &mut String, text: &str) {
    s.extend(text.chars().map(|c| {
        if c.is_alphanumeric() || matches!(c, ' ' | '_' | '.' | ':' | '/' | '=' | '+' | '-' | '@') { c } else { '_' }
    }));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_uses_traversal_syntax() {
        let host = Address::new("host", "dh000");
        assert_eq!(host.nested("volume", "data0", None).to_string(), "host.dh000.volume.data0");
        let svc = Address::new("service", "svc").with_key(Some(Key::Str("svc-0000".into())));
        assert_eq!(svc.share("c001").to_string(), r#"service.svc["svc-0000"][c001]"#);
        let mut m = Address::new("release", "mongo").with_key(Some(Key::Int(2)));
        m.module.push(ModuleStep { name: "db".into(), key: Some(Key::Str("a\"b".into())) });
        assert_eq!(m.to_string(), r#"module.db["a\"b"].release.mongo[2]"#);
        let mut pushed = String::from("> ");
        m.push_to(&mut pushed);
        assert_eq!(pushed, format!("> {m}"));
    }

    #[test]
    fn string_keys_are_quoted_as_hcl_writes_them() {
        for key in ["svc-0000", "a b'c~", "a\"b", "back\\slash", "tab\t", "caf\u{e9}", ""] {
            assert_eq!(Key::Str(key.into()).to_string(), format!("[{key:?}]"), "{key}");
        }
        assert_eq!(Key::Str("a\"b".into()).to_string(), r#"["a\"b"]"#);
    }

    #[test]
    fn tag_addresses_use_tag_characters_only() {
        let a = Address::new("cluster", "fleet").with_key(Some(Key::Str("c000".into()))).nested(
            "node_pool",
            "pool",
            Some(Key::Str("np00".into())),
        );
        assert_eq!(tag_address(&a), "cluster.fleet/c000.node_pool.pool/np00");
        let f = Address::new("forward", "api").share("c001");
        assert_eq!(tag_address(&f), "forward.api@c001");
        let odd = Address::new("host", "h").with_key(Some(Key::Str("a\"b[c]".into())));
        assert_eq!(tag_address(&odd), "host.h/a_b_c_");
    }
}
