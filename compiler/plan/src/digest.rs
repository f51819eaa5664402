//! SHA-256 in hex, for idempotency tokens and spec digests.

use sha2::{Digest, Sha256};
use std::fmt::Write;

/// The SHA-256 of `bytes` as 64 lowercase hex digits.
pub fn hex_sha256(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

/// Bytes as lowercase hex digits.
pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().fold(String::with_capacity(bytes.len() * 2), |mut out, b| {
        let _ = write!(out, "{b:02x}");
        out
    })
}
