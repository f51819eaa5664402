//! Names: Terraform identifiers from berth names and AWS resource names within their length
//! limits; berth addresses spelled with the characters AWS tags allow come from
//! [`berth_model::tag_address`].

pub use berth_model::tag_address;
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
}
