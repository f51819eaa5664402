//! Certificates as Kubernetes Secrets.
//!
//! Where a certificate's Secret comes from depends on its issuer:
//!
//! - **`ca`**: berth is the CA. Each build makes one CA per issuer (shared by every cluster,
//!   so pods in different clusters trust each other) and issues every certificate in use with
//!   [`rcgen`] (ECDSA P-256). The PEM texts of every certificate a cluster uses go to one Helm
//!   values file in the secrets directory, `helm/<cluster>/secrets.yaml`
//!   (`berthTls: {<certificate>: {ca.crt, tls.crt, tls.key}}`, see [`secrets_values`]), which
//!   the install passes with `-f`; the reviewed chart holds only a Secret template whose data
//!   reads those values (and fails the install, naming the file, when they are missing), so no
//!   key or certificate bytes, which are new on every build, ever reach the reviewed (golden)
//!   output. The CA's private key is dropped once the leaves are signed. Issuing needs
//!   randomness and a time of issue, which the CLI passes in as [`crate::HelmEmitter::now_unix`].
//! - **`vault`**: an External Secrets Operator `ExternalSecret` that reads `tls.crt` and
//!   `tls.key` from the issuer's Vault path through its SecretStore into a `kubernetes.io/tls`
//!   Secret.
//! - **`cert-manager`**: a cert-manager `Certificate` from the named ClusterIssuer.
//!
//! Every Secret-like object and every pod that mounts the certificate carries
//! [`HASH_ANNOTATION`], a SHA-256 of the certificate's public identity (Secret name, DNS
//! names, validity, issuer): a change of any of them changes the pod template, so the pods
//! roll. Key material that is merely re-issued under the same identity reaches running pods
//! through the kubelet's update of mounted Secrets, without a restart of every pod.

use crate::objects::SecretValue;
use crate::workload::{add_labels, address_annotation};
use berth_diag::{Diagnostic, Diagnostics, codes};
use berth_model::{Certificate, IssuerKind, Model};
use rcgen::{BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair, KeyUsagePurpose};
use serde_json::{Value, json};
use std::collections::BTreeMap;

/// The pod and Secret annotation with the hash of a certificate's public identity.
pub(crate) const HASH_ANNOTATION: &str = "berth.dev/certificate-hash";

/// Kubernetes caps a Secret at 1 MiB.
pub(crate) const MAX_SECRET_BYTES: usize = 1 << 20;

/// Certificates younger than this, by their notBefore, are still accepted by peers whose
/// clocks run behind.
const CLOCK_SKEW_SECS: i64 = 3600;

/// The top-level key of the secrets values file, under which the Secret templates read the
/// certificates berth issued, beside the values of `release` blocks under their names.
pub(crate) const VALUES_KEY: &str = "berthTls";

/// The PEM texts of one certificate that berth issued.
#[derive(Debug, Clone)]
pub(crate) struct IssuedFiles {
    /// The leaf certificate.
    pub(crate) cert_pem: String,
    /// Its private key (PKCS#8).
    pub(crate) key_pem: String,
    /// The issuing CA's certificate.
    pub(crate) ca_pem: String,
}

impl IssuedFiles {
    /// The PEM texts by their key in the Secret (and in the secrets values), in key order.
    pub(crate) fn by_name(&self) -> [(&'static str, &str); 3] {
        [("ca.crt", &self.ca_pem), ("tls.crt", &self.cert_pem), ("tls.key", &self.key_pem)]
    }
}

/// The certificates berth issued in this build, by index into [`Model::certificates`].
#[derive(Debug, Default)]
pub(crate) struct Issued {
    files: BTreeMap<usize, IssuedFiles>,
}

impl Issued {
    /// Issues the given certificates (all of issuers of type `ca`), one CA per issuer, signing
    /// on up to `threads` threads (0: what the machine offers, at most 8); what it reports
    /// comes in certificate order whatever the number.
    pub(crate) fn issue(
        model: &Model,
        certificates: impl IntoIterator<Item = usize>,
        now: i64,
        threads: usize,
        diags: &mut Diagnostics,
    ) -> Self {
        let mut cas: BTreeMap<usize, Option<Ca>> = BTreeMap::new();
        let mut todo = Vec::new();
        for ci in certificates {
            let cert = &model.certificates[ci];
            let Some(issuer) = model.issuers.get(cert.issuer) else { continue };
            let IssuerKind::Ca { common_name, validity_secs } = &issuer.kind else { continue };
            let ca = cas.entry(cert.issuer).or_insert_with(|| match Ca::new(common_name, now, *validity_secs) {
                Ok(ca) => Some(ca),
                Err(e) => {
                    diags.push(
                        Diagnostic::error(
                            &codes::CERTIFICATE_ISSUE,
                            issuer.meta.span,
                            format!("cannot make the CA of {}: {e}", issuer.meta.address),
                        )
                        .with_label("this issuer")
                        .with_help(codes::CERTIFICATE_ISSUE.fix),
                    );
                    None
                }
            });
            if ca.is_some() {
                todo.push(ci);
            }
        }
        let signed = berth_model::par::map(todo, threads, |ci| {
            let cert = &model.certificates[ci];
            let ca = cas[&cert.issuer].as_ref().expect("only certificates with a CA are signed");
            (ci, ca.sign(cert, now))
        });
        let mut files = BTreeMap::new();
        for (ci, result) in signed {
            let cert = &model.certificates[ci];
            match result {
                Ok(f) => {
                    let size: usize = f.by_name().iter().map(|(_, v)| v.len().div_ceil(3) * 4).sum();
                    if size > MAX_SECRET_BYTES {
                        diags.push(
                            Diagnostic::error(
                                &codes::HELM_SIZE,
                                cert.meta.span,
                                format!(
                                    "the Secret of {} would hold {size} bytes, over Kubernetes' 1 MiB cap",
                                    cert.meta.address
                                ),
                            )
                            .with_label("this certificate")
                            .with_help(codes::HELM_SIZE.fix),
                        );
                    }
                    files.insert(ci, f);
                }
                Err(e) => diags.push(
                    Diagnostic::error(
                        &codes::CERTIFICATE_ISSUE,
                        cert.meta.span,
                        format!("cannot issue {}: {e}", cert.meta.address),
                    )
                    .with_label("this certificate")
                    .with_help(codes::CERTIFICATE_ISSUE.fix),
                ),
            }
        }
        Issued { files }
    }

    /// The files of an issued certificate.
    pub(crate) fn get(&self, certificate: usize) -> Option<&IssuedFiles> {
        self.files.get(&certificate)
    }
}

/// A CA for one build.
struct Ca {
    cert: rcgen::Certificate,
    key: KeyPair,
    not_after: i64,
}

impl Ca {
    fn new(common_name: &str, now: i64, validity_secs: u64) -> Result<Self, rcgen::Error> {
        let key = KeyPair::generate()?;
        let mut params = CertificateParams::new(Vec::<String>::new())?;
        params.distinguished_name.push(DnType::CommonName, common_name);
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages =
            vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign, KeyUsagePurpose::DigitalSignature];
        let not_after = now.saturating_add(i64::try_from(validity_secs).unwrap_or(i64::MAX / 2));
        params.not_before = datetime(now - CLOCK_SKEW_SECS);
        params.not_after = datetime(not_after);
        let cert = params.self_signed(&key)?;
        Ok(Ca { cert, key, not_after })
    }

    fn sign(&self, cert: &Certificate, now: i64) -> Result<IssuedFiles, rcgen::Error> {
        let key = KeyPair::generate()?;
        let mut params = CertificateParams::new(cert.dns_names.clone())?;
        if let Some(first) = cert.dns_names.first() {
            params.distinguished_name.push(DnType::CommonName, first.as_str());
        }
        // ECDSA keys sign; they never encipher (RFC 5480).
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth, ExtendedKeyUsagePurpose::ClientAuth];
        params.use_authority_key_identifier_extension = true;
        let until = now.saturating_add(i64::try_from(cert.validity_secs).unwrap_or(i64::MAX / 2)).min(self.not_after);
        params.not_before = datetime(now - CLOCK_SKEW_SECS);
        params.not_after = datetime(until);
        let leaf = params.signed_by(&key, &self.cert, &self.key)?;
        Ok(IssuedFiles { cert_pem: leaf.pem(), key_pem: key.serialize_pem(), ca_pem: self.cert.pem() })
    }
}

/// The last second X.509 can express: 9999-12-31T23:59:59Z.
const LAST_SECOND: i64 = 253_402_300_799;

fn datetime(unix: i64) -> time::OffsetDateTime {
    time::OffsetDateTime::from_unix_timestamp(unix.clamp(0, LAST_SECOND)).unwrap_or(time::OffsetDateTime::UNIX_EPOCH)
}

/// The SHA-256, in hex, of a certificate's public identity: what it is for and who issues it,
/// never its key material.
pub(crate) fn identity_hash(model: &Model, certificate: usize) -> String {
    let cert = &model.certificates[certificate];
    let mut text = format!("secret={}\nvalidity={}\n", cert.secret_name, cert.validity_secs);
    for name in &cert.dns_names {
        text.push_str(&format!("dns={name}\n"));
    }
    if let Some(issuer) = model.issuers.get(cert.issuer) {
        text.push_str(&format!("issuer={}\n", issuer.meta.address));
        match &issuer.kind {
            IssuerKind::Ca { common_name, validity_secs } => {
                text.push_str(&format!("ca={common_name}\nca_validity={validity_secs}\n"))
            }
            IssuerKind::Vault { path, store } => text.push_str(&format!("vault={path}\nstore={store}\n")),
            IssuerKind::CertManager { issuer } => text.push_str(&format!("cert-manager={issuer}\n")),
        }
    }
    berth_plan::hex_sha256(text.as_bytes())
}

/// The secrets values file of a cluster: every berth-issued certificate it uses (indices into
/// [`Model::certificates`]), as `berthTls: {<certificate name>: {<Secret key>: PEM}}`.
pub(crate) fn secrets_values(model: &Model, issued: &Issued, certificates: &[usize]) -> Value {
    let certs: serde_json::Map<String, Value> = certificates
        .iter()
        .filter_map(|&ci| {
            let files = issued.get(ci)?;
            let keys = files.by_name().iter().map(|(k, pem)| (k.to_string(), json!(pem))).collect();
            Some((model.certificates[ci].meta.name.to_string(), Value::Object(keys)))
        })
        .collect();
    json!({ VALUES_KEY: certs })
}

/// The path, relative to berth's secrets directory, of a cluster's secrets values file.
pub(crate) fn secrets_values_path(cluster: &str) -> String {
    format!("helm/{cluster}/secrets.yaml")
}

/// The template action that reads one PEM text of a berth-issued certificate from the secrets
/// values, base64-encoded, and fails the render, naming the values file, when it is missing.
/// `dig` over `.Values.AsMap` takes any key, and a missing level as missing, not as an error.
pub(crate) fn secret_value_action(certificate: &str, key: &str, cluster: &str) -> String {
    format!(
        "{{{{ dig \"{VALUES_KEY}\" \"{certificate}\" \"{key}\" \"\" .Values.AsMap | required \"{VALUES_KEY}.{certificate}.{key} is missing: install with -f OUT.secrets/{path}\" | b64enc }}}}",
        path = secrets_values_path(cluster)
    )
}

/// The object that delivers a certificate's Secret into a namespace of a cluster: a Secret
/// (whose data of a berth-issued certificate comes from `secret_value`), an `ExternalSecret`
/// or a cert-manager `Certificate`.
pub(crate) fn object(
    model: &Model,
    certificate: usize,
    namespace: &str,
    labels: &BTreeMap<String, String>,
    secret_value: SecretValue<'_>,
) -> Value {
    let cert = &model.certificates[certificate];
    let hash = identity_hash(model, certificate);
    let mut annotations = address_annotation(&cert.meta.address.to_string());
    annotations.insert(HASH_ANNOTATION.to_string(), json!(hash));
    let metadata = |name: &str| json!({"name": name, "namespace": namespace, "labels": add_labels(labels, &[]), "annotations": annotations});
    match model.issuers.get(cert.issuer).map(|i| &i.kind) {
        Some(IssuerKind::Vault { path, store }) => {
            let data: Vec<Value> = ["tls.crt", "tls.key"]
                .iter()
                .map(|k| json!({"secretKey": k, "remoteRef": {"key": path, "property": k}}))
                .collect();
            json!({
            "apiVersion": "external-secrets.io/v1beta1",
            "kind": "ExternalSecret",
            "metadata": metadata(&cert.secret_name),
            "spec": {
                "refreshInterval": "1h",
                "secretStoreRef": {"kind": "SecretStore", "name": store},
                "target": {"name": cert.secret_name, "creationPolicy": "Owner", "template": {"type": "kubernetes.io/tls"}},
                "data": data,
            },
            })
        }
        Some(IssuerKind::CertManager { issuer }) => json!({
            "apiVersion": "cert-manager.io/v1",
            "kind": "Certificate",
            "metadata": metadata(&cert.meta.name),
            "spec": {
                "secretName": cert.secret_name,
                "dnsNames": cert.dns_names,
                "duration": go_duration(cert.validity_secs),
                "privateKey": {"algorithm": "ECDSA", "size": 256, "rotationPolicy": "Always"},
                "issuerRef": {"group": "cert-manager.io", "kind": "ClusterIssuer", "name": issuer},
            },
        }),
        Some(IssuerKind::Ca { .. }) | None => {
            let data: serde_json::Map<String, Value> = ["ca.crt", "tls.crt", "tls.key"]
                .iter()
                .map(|k| (k.to_string(), secret_value(certificate, k)))
                .collect();
            json!({
                "apiVersion": "v1",
                "kind": "Secret",
                "metadata": metadata(&cert.secret_name),
                "type": "kubernetes.io/tls",
                "data": data,
            })
        }
    }
}

/// A duration as Go writes it (`2160h0m0s`), as cert-manager reads it.
fn go_duration(secs: u64) -> String {
    format!("{}h{}m{}s", secs / 3600, secs % 3600 / 60, secs % 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_durations() {
        assert_eq!(go_duration(2160 * 3600), "2160h0m0s");
        assert_eq!(go_duration(3661), "1h1m1s");
    }
}
