//! Secrets never leak: a spec with a CA issuer, a certificate on a cluster and a variable
//! marked `sensitive = true` is built, planned (`--json` and for people) and applied — its
//! AWS side to a real `moto` server, its Kubernetes side to the stand-in of
//! `tests/kube-standin/` — and every artifact (OUT, the plan, the state and its backup, every
//! stdout and stderr) is scanned for private key material: the PEM marker, and the key bytes
//! of OUT.secrets in base64 as a Secret's data and as the PEM body. The golden output of
//! every example is scanned for the PEM marker too.

#![allow(clippy::disallowed_methods, reason = "tests read and write files")]

use berth_tests::{KubeStandIn, Moto, TempDir, berth, output_within, root, text};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

const LIMIT: Duration = Duration::from_secs(120);

/// The value of the sensitive variable.
const TOKEN: &str = "zz9-hush-7f3a1c";

const SPEC: &str = r#"
variable "ami" {
  type = string
}

variable "subnet" {
  type = string
}

variable "api_token" {
  type      = string
  sensitive = true
  default   = "zz9-hush-7f3a1c"
}

cluster "c" {
  version       = "1.31"
  region        = "us-east-1"
  subnets       = [var.subnet]
  max_pods      = 100
  role_arn      = "arn:aws:iam::123456789012:role/eks"
  node_role_arn = "arn:aws:iam::123456789012:role/nodes"

  node_pool "pool" {
    instance_type = "m6i.4xlarge"
    min           = 2
    max           = 2
  }
}

issuer "ca" {
  type        = "ca"
  common_name = "Test CA"
}

certificate "api" {
  dns_names = ["api.web.svc.cluster.local"]
  issuer    = issuer.ca
}

service "api" {
  replicas    = 2
  image       = "registry.example/api:1.0"
  ports       = { https = 8443 }
  cpu         = "100m"
  memory      = "128Mi"
  namespace   = "web"
  certificate = certificate.api
  env         = { API_TOKEN = var.api_token }

  placement {
    clusters = [cluster.c]
  }
}

host "h" {
  instance_type = "m5.large"
  ami           = var.ami
  zone          = "us-east-1a"

  volume "data" {
    type   = "gp3"
    size   = "10Gi"
    device = "/dev/sdf"
    mount  = "/mnt/data"
  }
}
"#;

/// Every artifact of a build, plans and an apply of [`SPEC`], by name.
struct Run {
    artifacts: Vec<(String, Vec<u8>)>,
    /// The private keys berth wrote to OUT.secrets, as PEM text.
    keys: Vec<String>,
    _moto: Moto,
    _standin: KubeStandIn,
    _dir: TempDir,
}

fn run() -> Run {
    let moto = Moto::start();
    let dir = TempDir::new("secrets");
    let standin = KubeStandIn::start(&dir, "c");
    let spec = dir.path().join("spec");
    std::fs::create_dir(&spec).expect("spec dir");
    std::fs::write(spec.join("main.hcl"), SPEC).expect("spec");
    let state = dir.path().join("state.json");
    let out_dir = dir.path().join("OUT");
    let ami = format!("ami={}", moto.ami());
    let subnet = format!(
        "subnet={}",
        moto.python("print(next(s['SubnetId'] for s in ec2.describe_subnets()['Subnets'] if s['AvailabilityZone'] == 'us-east-1a'))")
    );
    let cmd = |verb: &str, extra: &[&str]| -> Command {
        let mut c = berth();
        c.arg(verb).arg(&spec).args(["--var", &ami, "--var", &subnet]).args(extra);
        if verb != "build" {
            c.arg("--state").arg(&state);
        }
        c.envs(moto.env()).env("KUBECONFIG", standin.kubeconfig());
        c
    };
    let mut artifacts = Vec::new();
    let mut logged = |name: &str, out: Output| -> Output {
        artifacts.push((format!("{name} stdout"), out.stdout.clone()));
        artifacts.push((format!("{name} stderr"), out.stderr.clone()));
        out
    };
    let build = logged("build", output_within(&mut cmd("build", &["-o", &out_dir.to_string_lossy()]), LIMIT));
    assert!(build.status.success(), "{:?}", text(&build));
    let plan = logged("plan --json", output_within(&mut cmd("plan", &["--json"]), LIMIT));
    assert!(plan.status.success(), "{:?}", text(&plan));
    let plan = logged("plan", output_within(&mut cmd("plan", &[]), LIMIT));
    assert!(plan.status.success(), "{:?}", text(&plan));
    let apply = logged("apply", output_within(&mut cmd("apply", &["--auto-approve"]), LIMIT));
    let (_, log) = text(&apply);
    assert!(apply.status.success(), "{log}");
    assert!(log.contains("v1/Secret") && log.contains("aws_instance"), "both sides applied: {log}");
    let again = logged("plan --refresh", output_within(&mut cmd("plan", &["--refresh", "--json"]), LIMIT));
    assert!(again.status.success(), "{:?}", text(&again));

    for file in files(&out_dir) {
        artifacts.push((file.display().to_string(), std::fs::read(&file).expect("an output file")));
    }
    for file in [state.clone(), state.with_extension("json.backup")] {
        if let Ok(bytes) = std::fs::read(&file) {
            artifacts.push((file.display().to_string(), bytes));
        }
    }
    let mut keys = Vec::new();
    for file in files(&dir.path().join("OUT.secrets")) {
        let text = std::fs::read_to_string(&file).expect("a secrets file");
        keys.extend(pem_blocks(&text).into_iter().filter(|b| b.contains("PRIVATE KEY-----")));
    }
    assert!(!keys.is_empty(), "no private key in OUT.secrets: the scan would prove nothing");
    Run { artifacts, keys, _moto: moto, _standin: standin, _dir: dir }
}

/// Every file below `dir`, sorted.
fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for entry in std::fs::read_dir(&d).unwrap_or_else(|e| panic!("{}: {e}", d.display())).flatten() {
            let path = entry.path();
            if path.is_dir() { todo.push(path) } else { out.push(path) }
        }
    }
    out.sort();
    out
}

/// The PEM blocks of a text (indentation removed), each from its BEGIN line to its END line.
fn pem_blocks(text: &str) -> Vec<String> {
    let mut blocks = Vec::new();
    let mut current: Option<String> = None;
    for line in text.lines().map(str::trim) {
        if line.starts_with("-----BEGIN ") {
            current = Some(String::new());
        }
        if let Some(block) = &mut current {
            block.push_str(line);
            block.push('\n');
            if line.starts_with("-----END ") {
                blocks.extend(current.take());
            }
        }
    }
    blocks
}

/// Standard base64 with padding.
fn base64(bytes: &[u8]) -> String {
    const ABC: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk.iter().enumerate().fold(0u32, |n, (i, b)| n | u32::from(*b) << (16 - 8 * i));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ABC[(n >> (18 - 6 * i) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// The artifacts that contain `needle`.
fn holding<'a>(run: &'a Run, needle: &str) -> Vec<&'a str> {
    let needle = needle.as_bytes();
    run.artifacts
        .iter()
        .filter(|(_, bytes)| bytes.windows(needle.len()).any(|w| w == needle))
        .map(|(name, _)| name.as_str())
        .collect()
}

#[test]
fn no_private_key_reaches_output_plan_state_or_logs() {
    let run = run();
    assert!(run.artifacts.len() > 20, "{} artifacts", run.artifacts.len());
    let mut needles = vec![("the PEM marker".to_owned(), "PRIVATE KEY-----".to_owned())];
    for (n, key) in run.keys.iter().enumerate() {
        // As a Secret's data holds it, and the key bytes themselves (a line of the PEM body).
        needles.push((format!("key {n} as Secret data"), base64(key.as_bytes())[..64].to_owned()));
        let body: String = key.lines().filter(|l| !l.starts_with("-----")).collect();
        needles.push((format!("key {n} bytes"), body[..body.len().min(64)].to_owned()));
    }
    for (what, needle) in &needles {
        assert_eq!(holding(&run, needle), Vec::<&str>::new(), "{what} ({needle}) leaked");
    }
    // The golden output of every example too.
    let leaked: Vec<PathBuf> = files(&root().join("golden"))
        .into_iter()
        .filter(|f| std::fs::read(f).is_ok_and(|b| b.windows(16).any(|w| w == b"PRIVATE KEY-----")))
        .collect();
    assert!(leaked.is_empty(), "private keys in golden output: {leaked:?}");
}

/// The value of a `sensitive` variable, used in a service's `env`, is a token in the plan
/// (`--json` and for people, so also in apply's log) and in the state; only the engine gets
/// the value. (The rendered Helm templates in OUT carry it, as the chart must.)
#[test]
fn a_sensitive_value_is_redacted_in_plan_state_and_logs() {
    let run = run();
    let leaked: Vec<&str> = holding(&run, TOKEN).into_iter().filter(|name| !name.contains("/OUT/")).collect();
    assert!(leaked.is_empty(), "the sensitive value is in {leaked:#?}");
}

#[test]
fn base64_is_standard() {
    assert_eq!(base64(b""), "");
    assert_eq!(base64(b"f"), "Zg==");
    assert_eq!(base64(b"fo"), "Zm8=");
    assert_eq!(base64(b"foo"), "Zm9v");
    assert_eq!(base64(b"-----BEGIN"), "LS0tLS1CRUdJTg==");
}
