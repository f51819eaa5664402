//! Names: Terraform identifiers from berth names, AWS resource names within their length
//! limits, and berth addresses spelled with the characters AWS tags allow.

use berth_model::{Address, Key};
use std::collections::HashMap;

/// A Terraform identifier from the parts of a berth name: lower-case letters and digits kept,
/// everything else `_`, parts joined with `_` (`["dh000", "vol-0"]` → `dh000_vol_0`).
pub(crate) fn ident(parts: &[&str]) -> String {
    let mut s = String::with_capacity(parts.iter().map(|p| p.len() + 1).sum());
    for (i, part) in parts.iter().enumerate() {
        if i > 0 {
            s.push('_');
        }
        s.extend(part.chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '_' }));
    }
    if !s.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_') {
        s.insert_str(0, "r_");
    }
    s
}

/// Makes candidate identifiers unique: every member of a group that would share an
/// identifier gets `_` and a hash of its berth address appended, so the outcome does not
/// depend on the order objects were declared in. `candidates` pairs an identifier with the
/// address it stands for.
pub(crate) fn unique(candidates: Vec<(String, String)>) -> Vec<String> {
    let mut seen: HashMap<&str, usize> = HashMap::with_capacity(candidates.len());
    for (name, _) in &candidates {
        *seen.entry(name.as_str()).or_default() += 1;
    }
    let clashes: Vec<bool> = candidates.iter().map(|(name, _)| seen[name.as_str()] > 1).collect();
    candidates
        .into_iter()
        .zip(clashes)
        .map(|((name, address), clash)| if clash { format!("{name}_{:08x}", fnv1a(&address)) } else { name })
        .collect()
}

/// An AWS name of at most `max` characters: the identifier with `-` for `_`, shortened with a
/// hash of the full name when too long (load balancers and target groups take 32).
pub(crate) fn aws_name(ident: &str, max: usize) -> String {
    let full = ident.replace('_', "-");
    if full.len() <= max {
        return full;
    }
    let head = full[..max - 9].trim_end_matches('-');
    format!("{head}-{:08x}", fnv1a(&full))
}

/// 32-bit FNV-1a: a short, stable hash for disambiguating names.
fn fnv1a(s: &str) -> u32 {
    s.bytes().fold(0x811c_9dc5, |h, b| (h ^ u32::from(b)).wrapping_mul(0x0100_0193))
}

/// A berth address spelled with the characters every AWS tag value allows (letters, digits,
/// spaces and `_ . : / = + - @`): keys follow a `/` instead of `["..."]`, a placed share an
/// `@`, and any other character becomes `_`. `cluster.fleet["c000"].node_pool.pool["np00"]`
/// is tagged `cluster.fleet/c000.node_pool.pool/np00`, `forward.api[c001]` `forward.api@c001`.
pub fn tag_address(address: &Address) -> String {
    let mut s = String::with_capacity(64);
    for m in &address.module {
        s.push_str("module.");
        tag_text(&mut s, &m.name);
        key(&mut s, m.key.as_ref());
        s.push('.');
    }
    tag_text(&mut s, &address.kind);
    s.push('.');
    tag_text(&mut s, &address.label);
    key(&mut s, address.key.as_ref());
    for n in &address.nested {
        s.push('.');
        tag_text(&mut s, &n.block);
        s.push('.');
        tag_text(&mut s, &n.label);
        key(&mut s, n.key.as_ref());
    }
    if let Some(on) = &address.share {
        s.push('@');
        tag_text(&mut s, on);
    }
    s
}

fn key(s: &mut String, key: Option<&Key>) {
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
    fn identifiers_are_valid_and_clashes_resolved_by_address() {
        assert_eq!(ident(&["dh000"]), "dh000");
        assert_eq!(ident(&["svc-0000", "c001"]), "svc_0000_c001");
        assert_eq!(ident(&["0a"]), "r_0a");
        let names = unique(vec![
            ("a_b_c".into(), "cluster.a-b.node_pool.c".into()),
            ("a_b_c".into(), "cluster.a.node_pool.b-c".into()),
            ("d".into(), "cluster.d".into()),
        ]);
        assert_ne!(names[0], names[1]);
        assert!(names[0].starts_with("a_b_c_") && names[1].starts_with("a_b_c_"));
        assert_eq!(names[2], "d");
    }

    #[test]
    fn aws_names_fit_their_limit() {
        assert_eq!(aws_name("svc_0000", 32), "svc-0000");
        let long = aws_name("a_very_long_forward_name_for_a_service_c001", 32);
        assert_eq!(long.len(), 32);
        assert!(long.starts_with("a-very-long-forward-na"));
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
