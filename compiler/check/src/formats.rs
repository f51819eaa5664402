//! Parsers for the value formats a spec writes as strings: quantities, sizes, durations,
//! timestamps, CIDRs, image references and DNS labels. Each returns what was expected on error.

use ipnet::IpNet;

/// Parses a Kubernetes CPU quantity (`500m`, `2`, `0.5`) into millicores.
pub fn cpu_millis(s: &str) -> Result<u64, String> {
    let (num, scale) = match s.strip_suffix('m') {
        Some(n) => (n, 1.0),
        None => (s, 1000.0),
    };
    match num.parse::<f64>() {
        Ok(n) if n >= 0.0 && n.is_finite() => Ok((n * scale).round() as u64),
        _ => Err(format!("{s:?} is not a CPU quantity; expected e.g. \"500m\" or \"2\"")),
    }
}

/// Parses a byte size or Kubernetes memory quantity (`512Mi`, `16Gi`, `1G`, `1048576`).
pub fn size_bytes(s: &str) -> Result<u64, String> {
    const UNITS: &[(&str, f64)] = &[
        ("Ki", 1024.0),
        ("Mi", 1048576.0),
        ("Gi", 1073741824.0),
        ("Ti", 1099511627776.0),
        ("Pi", 1125899906842624.0),
        ("k", 1e3),
        ("K", 1e3),
        ("M", 1e6),
        ("G", 1e9),
        ("T", 1e12),
        ("P", 1e15),
    ];
    let (num, mult) = UNITS.iter().find_map(|(u, m)| s.strip_suffix(u).map(|n| (n, *m))).unwrap_or((s, 1.0));
    match num.parse::<f64>() {
        Ok(n) if n >= 0.0 && n.is_finite() && !num.starts_with('+') => Ok((n * mult).round() as u64),
        _ => Err(format!("{s:?} is not a size; expected a number with a unit such as Mi, Gi or Ti")),
    }
}

/// Parses a duration (`90s`, `15m`, `48h`, `7d`, `1h30m`) into seconds.
pub fn duration_secs(s: &str) -> Result<u64, String> {
    let err = || format!("{s:?} is not a duration; expected e.g. \"90s\", \"48h\" or \"7d\"");
    if s.is_empty() {
        return Err(err());
    }
    let mut total: u64 = 0;
    let mut digits = String::new();
    for c in s.chars() {
        if c.is_ascii_digit() {
            digits.push(c);
            continue;
        }
        let unit = match c {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            'd' => 86400,
            'w' => 604800,
            _ => return Err(err()),
        };
        let n: u64 = digits.parse().map_err(|_| err())?;
        total = total.checked_add(n.checked_mul(unit).ok_or_else(err)?).ok_or_else(err)?;
        digits.clear();
    }
    if digits.is_empty() { Ok(total) } else { Err(err()) }
}

/// Parses an RFC 3339 timestamp into seconds since the Unix epoch.
pub fn timestamp_unix(s: &str) -> Result<i64, String> {
    s.parse::<jiff::Timestamp>()
        .map(|t| t.as_second())
        .map_err(|_| format!("{s:?} is not an RFC 3339 timestamp; expected e.g. \"2026-11-27T18:00:00Z\""))
}

/// Parses a CIDR network; host bits must be zero.
pub fn cidr(s: &str) -> Result<IpNet, String> {
    let net: IpNet = s.parse().map_err(|_| format!("{s:?} is not a CIDR network; expected e.g. \"10.0.0.0/8\""))?;
    if net.trunc() != net {
        return Err(format!("{s:?} has host bits set; the network is {}", net.trunc()));
    }
    Ok(net)
}

/// Checks an OCI image reference: `[registry[:port]/]path[:tag][@digest]`. Byte by byte, in
/// one pass per part: a fleet has an image per container.
pub fn image_reference(s: &str) -> Result<(), String> {
    let err = |why: &str| format!("{s:?} is not a valid image reference: {why}");
    let bytes = s.as_bytes();
    let (rest, digest) = match bytes.iter().position(|&b| b == b'@') {
        Some(i) => (&bytes[..i], Some(&bytes[i + 1..])),
        None => (bytes, None),
    };
    if let Some(d) = digest {
        let ok = d.iter().position(|&b| b == b':').is_some_and(|i| {
            let hex = &d[i + 1..];
            i > 0 && hex.len() >= 32 && hex.iter().all(u8::is_ascii_hexdigit)
        });
        if !ok {
            return Err(err("the digest must be ALGORITHM:HEX"));
        }
    }
    let last_slash = rest.iter().rposition(|&b| b == b'/').map_or(0, |i| i + 1);
    let (name, tag) = match rest[last_slash..].iter().rposition(|&b| b == b':') {
        Some(i) => (&rest[..last_slash + i], Some(&rest[last_slash + i + 1..])),
        None => (rest, None),
    };
    if let Some(tag) = tag {
        let ok = !tag.is_empty()
            && tag.len() <= 128
            && tag.iter().all(|&b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
            && !matches!(tag[0], b'.' | b'-');
        if !ok {
            return Err(err("a tag is 1-128 letters, digits, '_', '.' or '-'"));
        }
    }
    if name.is_empty() {
        return Err(err("the repository name is empty"));
    }
    let path = match name.iter().position(|&b| b == b'/') {
        Some(i) if name[..i].iter().any(|&b| matches!(b, b'.' | b':')) || &name[..i] == b"localhost" => &name[i + 1..],
        _ => name,
    };
    let alphanumeric = |b: &u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    let component = |p: &[u8]| {
        p.iter().all(|b| alphanumeric(b) || matches!(b, b'.' | b'_' | b'-'))
            && p.first().is_some_and(alphanumeric)
            && p.last().is_some_and(alphanumeric)
    };
    if !path.split(|&b| b == b'/').all(component) {
        return Err(err("repository components are lower-case letters, digits and separators"));
    }
    Ok(())
}

/// Checks a DNS label (RFC 1123): what Kubernetes object names and host names must be.
pub fn dns_label(s: &str) -> Result<(), String> {
    let ok = !s.is_empty()
        && s.len() <= 63
        && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-');
    if ok {
        Ok(())
    } else {
        Err(format!(
            "{s:?} is not a DNS label: lower-case letters, digits and '-', at most 63, starting and ending alphanumeric"
        ))
    }
}

/// Checks a DNS subdomain (RFC 1123): dot-separated DNS labels, at most 253 characters, as
/// Kubernetes wants for Secret names and label-key prefixes.
pub fn dns_subdomain(s: &str) -> Result<(), String> {
    if s.len() <= 253 && s.split('.').all(|l| dns_label(l).is_ok()) {
        Ok(())
    } else {
        Err(format!("{s:?} is not a DNS subdomain: DNS labels joined by '.', at most 253 characters"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantities_and_sizes() {
        assert_eq!(cpu_millis("500m"), Ok(500));
        assert_eq!(cpu_millis("2"), Ok(2000));
        assert!(cpu_millis("2x").is_err());
        assert_eq!(size_bytes("512Mi"), Ok(512 << 20));
        assert_eq!(size_bytes("16000Gi"), Ok(16000 << 30));
        assert!(size_bytes("512Mx").unwrap_err().contains("512Mx"));
    }

    #[test]
    fn durations_and_timestamps() {
        assert_eq!(duration_secs("1h30m"), Ok(5400));
        assert_eq!(duration_secs("7d"), Ok(604800));
        assert!(duration_secs("10").is_err());
        assert!(duration_secs("5y").is_err());
        assert_eq!(timestamp_unix("1970-01-01T00:01:00Z"), Ok(60));
        assert!(timestamp_unix("next friday").is_err());
    }

    #[test]
    fn networks_images_labels() {
        assert!(cidr("10.0.0.0/8").is_ok());
        assert!(cidr("10.0.0.1/8").unwrap_err().contains("host bits"));
        assert!(cidr("10.0.0.0/33").is_err());
        assert!(image_reference("registry.acme.internal:5000/fleet/svc-0001:1.2.3").is_ok());
        assert!(image_reference("busybox:1.36").is_ok());
        assert!(image_reference("Busybox").is_err());
        assert!(image_reference("a:b:c").is_err());
        assert!(image_reference("localhost/app@sha256:0123456789abcdef0123456789abcdef").is_ok());
        assert!(image_reference("Registry.Example:5000/app:v1").is_ok());
        assert!(image_reference("app@sha256:0123").is_err());
        assert!(image_reference("app@:0123456789abcdef0123456789abcdef").is_err());
        assert!(image_reference("fleet//app").is_err());
        assert!(image_reference("fleet/-app").is_err());
        assert!(image_reference("app:.v1").is_err());
        assert!(image_reference(":v1").is_err());
        assert!(dns_label("svc-0001").is_ok());
        assert!(dns_label("Svc_1").is_err());
        assert!(dns_subdomain("calc.risk-tls").is_ok());
        assert!(dns_subdomain("calc..tls").is_err());
    }
}
