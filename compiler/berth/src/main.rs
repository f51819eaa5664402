//! `berth`: the command line. The only part of berth that reads files, the clock and the
//! terminal; every stage it drives is pure.

#![allow(clippy::disallowed_methods, reason = "the CLI is the one crate that reads files and the clock")]

mod apply;
mod loader;
mod output;
mod report;

use berth_diag::{Diagnostic, Diagnostics, Sources, codes};
use berth_model::{EmitInput, Emitter, Model, OutputTree, ResourceGraph};
use berth_resolve::Resolving;
use clap::{Args, CommandFactory, Parser, Subcommand};
use report::DiagFormat;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// mimalloc: a fleet build makes millions of small allocations, a third of its time in glibc's
/// allocator.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const EXAMPLES: &str = "\
Examples:
  berth check examples/bank-multicluster
  berth build examples/fleet --var-file fleet-16.json -o out/fleet
  berth graph examples/esw-central --format mermaid
  berth fmt --check examples
  berth explain capacity::pods-per-node";

/// berth compiles one spec language into Terraform, Helm charts and Docker host configs.
#[derive(Parser)]
#[command(name = "berth", version, about, after_help = EXAMPLES)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// How to print diagnostics.
    #[arg(long = "diagnostics", value_enum, default_value = "human", global = true, env = "BERTH_DIAGNOSTICS")]
    diagnostics: DiagFormat,
}

#[derive(Subcommand)]
enum Command {
    /// Checks a spec and reports every problem.
    #[command(
        after_help = "Examples:\n  berth check examples/esw-central\n  berth check spec.hcl --var env=test --diagnostics json"
    )]
    Check(SpecArgs),
    /// Builds every target of a spec into an output directory (replaced atomically).
    #[command(
        after_help = "Examples:\n  berth build examples/bank-multicluster -o out/bank\n  berth build examples/fleet --var-file fleet-1.json -o out/fleet"
    )]
    Build {
        #[command(flatten)]
        spec: SpecArgs,
        /// Output directory.
        #[arg(short, long, value_name = "OUT")]
        out: PathBuf,
        /// Where secret files (private keys) go, mode 0600; default OUT.secrets beside OUT.
        #[arg(long, value_name = "DIR")]
        secrets_dir: Option<PathBuf>,
        /// Also write the Terraform configuration as JSON.
        #[arg(long, value_enum, default_value = "hcl")]
        terraform_format: TerraformFormat,
        /// Threads the targets may use (0: what the machine offers); the output is the same
        /// whatever the number.
        #[arg(long, default_value_t = 0, env = "BERTH_THREADS")]
        threads: usize,
    },
    /// Shows what apply would change: per object, create, update, replace or delete.
    #[command(
        after_help = "Examples:\n  berth plan examples/esw-central\n  berth plan spec.hcl -o plan.json --detailed-exitcode\n  berth plan spec.hcl --refresh --json"
    )]
    Plan {
        #[command(flatten)]
        spec: SpecArgs,
        #[command(flatten)]
        state: apply::StateArgs,
        #[command(flatten)]
        narrow: apply::Narrow,
        /// Saves the plan, for `berth apply PLANFILE` to apply exactly.
        #[arg(short, long, value_name = "PLANFILE")]
        out: Option<PathBuf>,
        /// Prints the plan as a versioned JSON document.
        #[arg(long)]
        json: bool,
        /// Exits 0 without changes, 2 with changes, 1 on errors.
        #[arg(long)]
        detailed_exitcode: bool,
        /// Reads the real objects first and reports drift.
        #[arg(long)]
        refresh: bool,
        /// Plans the deletion of everything in the state.
        #[arg(long)]
        destroy: bool,
    },
    /// Applies a spec or a saved plan: creates, updates, replaces and deletes in parallel.
    #[command(
        after_help = "Examples:\n  berth apply examples/esw-central --auto-approve\n  berth apply plan.json\n  berth apply spec.hcl --target host.dh000 --parallelism 16"
    )]
    Apply {
        #[command(flatten)]
        spec: SpecArgs,
        #[command(flatten)]
        state: apply::StateArgs,
        #[command(flatten)]
        narrow: apply::Narrow,
        #[command(flatten)]
        run: apply::RunArgs,
    },
    /// Deletes everything the state records, in reverse dependency order.
    #[command(after_help = "Examples:\n  berth destroy examples/esw-central --auto-approve")]
    Destroy {
        #[command(flatten)]
        spec: SpecArgs,
        #[command(flatten)]
        state: apply::StateArgs,
        #[command(flatten)]
        narrow: apply::Narrow,
        #[command(flatten)]
        run: apply::RunArgs,
    },
    /// Deletes the objects of every environment whose expiry or ttl has passed.
    #[command(
        after_help = "Examples:\n  berth gc examples/bank-multicluster --dry-run\n  berth gc examples/bank-multicluster   # from cron, Friday evening"
    )]
    Gc {
        #[command(flatten)]
        spec: SpecArgs,
        #[command(flatten)]
        state: apply::StateArgs,
        #[command(flatten)]
        run: apply::RunArgs,
        /// Says what would be deleted and why, deleting nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// Reads the real objects, reports drift and records what is real in the state.
    #[command(after_help = "Examples:\n  berth refresh examples/esw-central")]
    Refresh {
        #[command(flatten)]
        spec: SpecArgs,
        #[command(flatten)]
        state: apply::StateArgs,
        #[command(flatten)]
        narrow: apply::Narrow,
    },
    /// Shows the state.
    #[command(subcommand)]
    State(StateCommand),
    /// Prints the resource graph.
    #[command(after_help = "Examples:\n  berth graph examples/esw-central --format dot | dot -Tsvg > graph.svg")]
    Graph {
        #[command(flatten)]
        spec: SpecArgs,
        /// Output format.
        #[arg(long, value_enum, default_value = "dot")]
        format: GraphFormat,
    },
    /// Rewrites spec files in canonical layout, keeping comments.
    #[command(after_help = "Examples:\n  berth fmt examples\n  berth fmt --check .")]
    Fmt {
        /// Files or directories (searched recursively for .hcl files).
        #[arg(default_value = ".")]
        paths: Vec<String>,
        /// Change nothing; exit 1 and list the files that are not formatted.
        #[arg(long)]
        check: bool,
    },
    /// Explains a diagnostic code, or lists them all.
    Explain {
        /// A code such as capacity::pods-per-node; all codes when omitted.
        code: Option<String>,
    },
    /// Prints shell completions.
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
    /// Builds an image without a daemon into an OCI layout, or pushes it to a registry.
    #[command(subcommand)]
    Image(ImageCommand),
}

#[derive(Subcommand)]
enum StateCommand {
    /// Lists every recorded object with its id.
    #[command(after_help = "Examples:\n  berth state list examples/esw-central")]
    List {
        /// The spec whose state to read.
        spec: String,
        #[command(flatten)]
        state: apply::StateArgs,
    },
    /// Shows one recorded object.
    #[command(after_help = "Examples:\n  berth state show examples/esw-central host.central/0:aws_instance")]
    Show {
        /// The spec whose state to read.
        spec: String,
        /// The object's address.
        address: String,
        #[command(flatten)]
        state: apply::StateArgs,
    },
}

#[derive(Subcommand)]
enum ImageCommand {
    /// Builds one image into an OCI image layout, reproducibly and without a daemon.
    #[command(
        after_help = "Examples:\n  berth image build spec.hcl --image app -o out/app-oci\n  berth image build spec.hcl --image app -o out/app-oci --base-layout base-oci"
    )]
    Build {
        #[command(flatten)]
        spec: SpecArgs,
        /// The image: its name or address.
        #[arg(long, value_name = "NAME")]
        image: String,
        /// The OCI layout to write.
        #[arg(short, long, value_name = "DIR")]
        out: PathBuf,
        /// An OCI layout holding the base image, which the build does not pull.
        #[arg(long, value_name = "DIR")]
        base_layout: Option<PathBuf>,
    },
    /// Pushes one image to a registry, uploading only the blobs it lacks.
    #[command(
        after_help = "Examples:\n  berth image push spec.hcl --image app --registry http://127.0.0.1:5000 --layout out/app-oci"
    )]
    Push {
        #[command(flatten)]
        spec: SpecArgs,
        /// The image: its name or address.
        #[arg(long, value_name = "NAME")]
        image: String,
        /// The registry, http://127.0.0.1:PORT (plain HTTP to loopback only).
        #[arg(long, value_name = "URL")]
        registry: String,
        /// The layout `berth image build` wrote; else the image is built afresh.
        #[arg(long, value_name = "DIR")]
        layout: Option<PathBuf>,
        /// An OCI layout holding the base image, when building afresh.
        #[arg(long, value_name = "DIR")]
        base_layout: Option<PathBuf>,
    },
}

#[derive(Args, Clone)]
struct SpecArgs {
    /// A spec file or a directory of .hcl files.
    spec: String,
    /// Sets a variable: NAME=VALUE (repeatable).
    #[arg(long = "var", value_name = "NAME=VALUE")]
    vars: Vec<String>,
    /// Reads variables from a file: .json, else HCL (repeatable).
    #[arg(long = "var-file", value_name = "FILE")]
    var_files: Vec<String>,
    /// The time checks take as now (RFC 3339), for reproducible runs.
    #[arg(long, value_name = "TIMESTAMP", env = "BERTH_NOW")]
    now: Option<String>,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum GraphFormat {
    Dot,
    Json,
    Mermaid,
    Text,
}

/// The result of running the compiler stages on a spec.
struct Compiled {
    sources: Sources,
    model: Option<Model>,
    graph: Option<ResourceGraph>,
    diags: Diagnostics,
    sensitive: Vec<String>,
    /// The time the run took as now.
    now_unix: i64,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let format = cli.diagnostics;
    match run(cli.command, format) {
        Ok(code) => code,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::from(1)
        }
    }
}

fn run(command: Command, format: DiagFormat) -> Result<ExitCode, String> {
    match command {
        Command::Check(spec) => {
            let c = compile(&spec);
            let code = finish(&c, format, || {
                if format == DiagFormat::Human && !c.diags.has_errors() {
                    eprintln!("{}: ok", spec.spec);
                }
            });
            exit_without_freeing(c);
            Ok(code)
        }
        Command::Graph { spec, format: gf } => {
            let c = compile(&spec);
            let graph_format = match gf {
                GraphFormat::Dot => berth_graph::Format::Dot,
                GraphFormat::Json => berth_graph::Format::Json,
                GraphFormat::Mermaid => berth_graph::Format::Mermaid,
                GraphFormat::Text => berth_graph::Format::Text,
            };
            Ok(finish(&c, format, || {
                if let Some(g) = &c.graph {
                    print_stdout(&berth_graph::render(g, graph_format));
                }
            }))
        }
        Command::Build { spec, out, secrets_dir, terraform_format, threads } => {
            let mut c = compile(&spec);
            let mut written = None;
            let mut tree = OutputTree::default();
            if let (Some(model), Some(graph), false) = (&c.model, &c.graph, c.diags.has_errors()) {
                let options = EmitOptions { terraform_format, now_unix: c.now_unix, threads };
                let emit_diags;
                (tree, emit_diags) = emit(model, graph, &options);
                if !emit_diags.has_errors() {
                    let secrets = secrets_dir.unwrap_or_else(|| sibling(&out, "secrets"));
                    let timer = Timer::from_env();
                    let w = output::write_tree(&tree, &out, &secrets)
                        .map_err(|e| format!("cannot write {}: {e}", out.display()))?;
                    timer.lap("write");
                    written = Some((w, tree.len()));
                }
                c.diags.extend(emit_diags);
            }
            let code = finish(&c, format, || {
                if let (Some((w, n)), DiagFormat::Human) = (written, format) {
                    let what = if w == output::Written::Unchanged { "unchanged" } else { "written" };
                    eprintln!("{}: {n} files {what}", out.display());
                }
            });
            exit_without_freeing((c, tree));
            Ok(code)
        }
        Command::Plan { spec, state, narrow, out, json, detailed_exitcode, refresh, destroy } => {
            apply::plan(&spec, &state, &narrow, out.as_deref(), json, detailed_exitcode, refresh, destroy, format)
        }
        Command::Apply { spec, state, narrow, run } => apply::apply(&spec, &state, &narrow, &run, false, format),
        Command::Destroy { spec, state, narrow, run } => apply::apply(&spec, &state, &narrow, &run, true, format),
        Command::Gc { spec, state, run, dry_run } => apply::gc(&spec, &state, &run, dry_run, format),
        Command::Refresh { spec, state, narrow } => apply::refresh(&spec, &state, &narrow, format),
        Command::State(StateCommand::List { spec, state }) => apply::state(&spec, &state, None),
        Command::State(StateCommand::Show { spec, address, state }) => apply::state(&spec, &state, Some(&address)),
        Command::Fmt { paths, check } => fmt(&paths, check, format),
        Command::Explain { code } => explain(code.as_deref()),
        Command::Completions { shell } => {
            clap_complete::generate(shell, &mut Cli::command(), "berth", &mut std::io::stdout());
            Ok(ExitCode::SUCCESS)
        }
        Command::Image(command) => image(command, format),
    }
}

/// `berth image build|push`: checks the spec, then builds or pushes one of its images, whose
/// layer sources are relative to the file that declares it; prints the digests.
fn image(command: ImageCommand, format: DiagFormat) -> Result<ExitCode, String> {
    let (ImageCommand::Build { spec, image, .. } | ImageCommand::Push { spec, image, .. }) = &command;
    let c = compile(spec);
    let code = finish(&c, format, || {});
    let Some(model) = c.model.as_ref().filter(|_| !c.diags.has_errors()) else { return Ok(code) };
    let found: Vec<_> =
        model.images.iter().filter(|i| i.meta.name == *image || i.meta.address.to_string() == *image).collect();
    let [img] = found.as_slice() else {
        let all: Vec<String> = model.images.iter().map(|i| i.meta.address.to_string()).collect();
        return Err(format!("{} declares no single image {image:?}; it declares [{}]", spec.spec, all.join(", ")));
    };
    let declared_in = Path::new(c.sources.get(img.meta.span.file).name());
    let spec_dir = declared_in.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let report = match command {
        ImageCommand::Build { out, base_layout, .. } => {
            berth_images::build_layout(img, spec_dir, &out, base_layout.as_deref()).map(|d| d.to_string())
        }
        ImageCommand::Push { registry, layout: Some(dir), .. } => {
            berth_images::push(&dir, img, &registry).map(|r| r.to_string())
        }
        ImageCommand::Push { registry, layout: None, base_layout, .. } => {
            berth_images::build_and_push(img, spec_dir, base_layout.as_deref(), &registry).map(|r| r.to_string())
        }
    }
    .map_err(|e| e.to_string())?;
    // With --diagnostics json, stdout stays one JSON array.
    match format {
        DiagFormat::Human => print!("{report}"),
        DiagFormat::Json => eprint!("{report}"),
    }
    Ok(code)
}

/// How many resolved items go to the checker at a time: enough to make handing over cheap,
/// few enough that the checker starts at once.
const BATCH: usize = 256;

/// The checker thread's stack: values nest as deep as the spec writes them, and the main
/// thread, where checking ran before, has 8 MiB.
const CHECKER_STACK: usize = 8 << 20;

/// Runs parse, resolve, check and graph; later stages run only on what earlier ones accepted.
fn compile(spec: &SpecArgs) -> Compiled {
    let mut sources = Sources::new();
    let mut diags = Diagnostics::new();
    let mut inputs = berth_resolve::Inputs::default();
    for v in &spec.vars {
        match v.split_once('=') {
            Some((k, val)) => inputs.vars.push((k.trim().to_string(), val.to_string())),
            None => diags.push(
                Diagnostic::error(&codes::VAR_UNDECLARED, None, format!("--var {v:?} is not NAME=VALUE"))
                    .with_help("write --var name=value"),
            ),
        }
    }
    for f in &spec.var_files {
        match std::fs::read_to_string(f) {
            Ok(text) => inputs.var_files.push(sources.add(f.clone(), text)),
            Err(e) => diags.push(
                Diagnostic::error(&codes::IO_READ, None, format!("cannot read variable file {f}: {e}"))
                    .with_help("check the --var-file path"),
            ),
        }
    }
    let now_unix = match &spec.now {
        Some(t) => match berth_check::formats::timestamp_unix(t) {
            Ok(n) => n,
            Err(e) => {
                diags.push(
                    Diagnostic::error(&codes::FORMAT_TIMESTAMP, None, format!("--now: {e}"))
                        .with_help(codes::FORMAT_TIMESTAMP.fix),
                );
                0
            }
        },
        None => jiff::Timestamp::now().as_second(),
    };
    let timer = Timer::from_env();
    // The checker converts each resource instance on a thread of its own as soon as the
    // resolver hands it on: the two stages overlap, and no stage holds every instance at once.
    let (send, receive) = std::sync::mpsc::sync_channel::<Vec<Resolving>>(4);
    let checker_thread = std::thread::Builder::new().name("check".into()).stack_size(CHECKER_STACK);
    let checking = checker_thread.spawn(move || {
        let mut checker = berth_check::Checker::default();
        for item in receive.into_iter().flatten() {
            checker.add(item);
        }
        checker
    });
    let (resolved, d, checker) = match checking {
        Ok(checking) => {
            let mut batch = Vec::with_capacity(BATCH);
            let (resolved, d) =
                berth_resolve::resolve_into(&loader::FsLoader, &mut sources, &spec.spec, &inputs, &mut |item| {
                    batch.push(item);
                    if batch.len() == BATCH {
                        // Only a checker that panicked stops receiving; joining it says so.
                        let _ = send.send(std::mem::replace(&mut batch, Vec::with_capacity(BATCH)));
                    }
                });
            let _ = send.send(batch);
            drop(send);
            let checker = checking.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic));
            (resolved, d, checker)
        }
        // Without a second thread, the same work one after the other.
        Err(_) => {
            let mut checker = berth_check::Checker::default();
            let (resolved, d) =
                berth_resolve::resolve_into(&loader::FsLoader, &mut sources, &spec.spec, &inputs, &mut |item| {
                    checker.add(item);
                });
            (resolved, d, checker)
        }
    };
    timer.lap("resolve + convert");
    diags.extend(d);
    let Some(resolved) = resolved else {
        return Compiled { sources, model: None, graph: None, diags, sensitive: Vec::new(), now_unix };
    };
    let sensitive = resolved.sensitive_values.clone();
    let (model, d) = checker.finish(resolved.outputs, berth_check::CheckContext { now_unix });
    timer.lap("place + capacity");
    diags.extend(d);
    let (graph, d) = berth_graph::build(&model);
    timer.lap("graph");
    diags.extend(d);
    Compiled { sources, model: Some(model), graph: Some(graph), diags, sensitive, now_unix }
}

/// Leaves `value` to the exit, which returns its memory at once: a fleet's model and output
/// are millions of allocations, freed one by one for nothing. Only for the last step of a
/// command before the process exits.
fn exit_without_freeing<T>(value: T) {
    std::mem::forget(value);
}

/// Every build target, in output order.
fn emitters(options: &EmitOptions) -> Vec<Box<dyn Emitter>> {
    vec![
        Box::new(berth_terraform::TerraformEmitter { json: options.terraform_format == TerraformFormat::Json }),
        Box::new(berth_helm::HelmEmitter { now_unix: options.now_unix, threads: options.threads }),
        Box::new(berth_docker::DockerEmitter { threads: options.threads }),
        Box::new(berth_nftables::NftablesEmitter),
        Box::new(berth_images::ImagesEmitter),
    ]
}

/// What the targets are told besides the model.
struct EmitOptions {
    terraform_format: TerraformFormat,
    /// The time certificates are issued at.
    now_unix: i64,
    /// Threads the targets may use; 0 is what the machine offers.
    threads: usize,
}

/// Which Terraform files `berth build` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum TerraformFormat {
    /// `.tf` files only.
    Hcl,
    /// `.tf` files and the same configuration as `.tf.json`.
    Json,
}

/// Runs every emitter, one after the other: on threads of their own they gained about 5 % of a
/// fleet build's time on two cores but held every target's work at once (+28 MB peak at S=16).
/// Berth's placement report goes beside the targets (`berth graph` prints the graph).
fn emit(model: &Model, graph: &ResourceGraph, options: &EmitOptions) -> (OutputTree, Diagnostics) {
    let mut tree = OutputTree::new();
    let mut diags = Diagnostics::new();
    let timer = Timer::from_env();
    tree.add("berth/placement.json", berth_check::placement_report(model));
    timer.lap("placement.json");
    let input = EmitInput { model, graph };
    for e in emitters(options) {
        let (files, d) = e.emit(input);
        timer.lap(e.target());
        tree.merge_under(e.target(), files);
        diags.extend(d);
    }
    (tree, diags)
}

/// Prints diagnostics, then runs `on_success` if there are no errors; returns the exit code.
fn finish(c: &Compiled, format: DiagFormat, on_success: impl FnOnce()) -> ExitCode {
    let diags = c.diags.clone().sorted();
    let color = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
    let text = report::render(&diags, &c.sources, format, color, &c.sensitive);
    match format {
        DiagFormat::Json => print_stdout(&text),
        DiagFormat::Human => eprint!("{text}"),
    }
    if diags.iter().any(Diagnostic::is_error) {
        return ExitCode::from(1);
    }
    on_success();
    ExitCode::SUCCESS
}

/// Stage timings on stderr when `BERTH_TIMINGS` is set, for profiling.
struct Timer(Option<std::cell::Cell<std::time::Instant>>);

impl Timer {
    fn from_env() -> Self {
        Timer(std::env::var_os("BERTH_TIMINGS").map(|_| std::cell::Cell::new(std::time::Instant::now())))
    }

    fn lap(&self, stage: &str) {
        if let Some(start) = &self.0 {
            let now = std::time::Instant::now();
            let peak = std::fs::read_to_string("/proc/self/status")
                .ok()
                .and_then(|s| {
                    s.lines().find(|l| l.starts_with("VmHWM:")).map(|l| l["VmHWM:".len()..].trim().to_string())
                })
                .unwrap_or_default();
            eprintln!(
                "timing: {stage:<16} {:>8.1} ms  peak {peak}",
                now.duration_since(start.get()).as_secs_f64() * 1e3
            );
            start.set(now);
        }
    }
}

/// Writes to stdout; a closed pipe (`berth graph | head`) is not an error.
fn print_stdout(text: &str) {
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes()).and_then(|()| out.flush());
}

fn sibling(out: &Path, suffix: &str) -> PathBuf {
    let name = out.file_name().map_or_else(|| "out".into(), |n| n.to_string_lossy().into_owned());
    out.with_file_name(format!("{name}.{suffix}"))
}

fn fmt(paths: &[String], check: bool, format: DiagFormat) -> Result<ExitCode, String> {
    let files = loader::spec_files(paths)?;
    let mut sources = Sources::new();
    let mut diags = Diagnostics::new();
    let mut unformatted = Vec::new();
    for path in &files {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{path}: {e}"))?;
        let formatted = match berth_syntax::format::format_source(&text) {
            Ok(f) => f,
            Err(_) => {
                let id = sources.add(path.clone(), text);
                if let Err(d) = berth_syntax::parse(&sources, id) {
                    diags.push(*d);
                }
                continue;
            }
        };
        if formatted != text {
            unformatted.push(path.clone());
            if !check {
                output::write_file(Path::new(path), formatted.as_bytes()).map_err(|e| format!("{path}: {e}"))?;
            }
        }
    }
    let c = Compiled { sources, model: None, graph: None, diags, sensitive: Vec::new(), now_unix: 0 };
    let code = finish(&c, format, || {});
    let listing: String = unformatted.iter().map(|f| format!("{f}\n")).collect();
    match format {
        DiagFormat::Human => print_stdout(&listing),
        DiagFormat::Json => eprint!("{listing}"),
    }
    if check && !unformatted.is_empty() {
        eprintln!("{} file(s) not in canonical format; run `berth fmt`", unformatted.len());
        return Ok(ExitCode::from(1));
    }
    Ok(code)
}

fn explain(code: Option<&str>) -> Result<ExitCode, String> {
    match code {
        None => {
            let listing: String =
                berth_diag::ALL_CODES.iter().map(|c| format!("{:<32} {}\n", c.name, c.summary)).collect();
            print_stdout(&listing);
            Ok(ExitCode::SUCCESS)
        }
        Some(name) => {
            let Some(c) = berth_diag::Code::by_name(name) else {
                let hint = berth_diag::did_you_mean(name, berth_diag::ALL_CODES.iter().map(|c| c.name))
                    .map(|s| format!("; did you mean {s}?"))
                    .unwrap_or_default();
                return Err(format!("no diagnostic code {name:?}{hint} (`berth explain` lists them)"));
            };
            print_stdout(&format!("{}: {}\n\n{}\n\nFix: {}\n", c.name, c.summary, c.explanation, c.fix));
            Ok(ExitCode::SUCCESS)
        }
    }
}
