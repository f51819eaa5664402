//! Showing diagnostics: miette's graphical report for people, a JSON array for CI.

use berth_diag::{Diagnostic, Severity, Sources};
use miette::{GraphicalReportHandler, GraphicalTheme, LabeledSpan, MietteDiagnostic, NamedSource, Report};

/// How diagnostics are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum DiagFormat {
    /// Source excerpts with labels and hints.
    Human,
    /// One JSON array on stdout.
    Json,
}

/// Renders diagnostics in the chosen format. `secrets` are replaced by `(sensitive)`.
pub fn render(diags: &[Diagnostic], sources: &Sources, format: DiagFormat, color: bool, secrets: &[String]) -> String {
    let text = match format {
        DiagFormat::Json => {
            let items: Vec<serde_json::Value> = diags.iter().map(|d| to_json(d, sources)).collect();
            let mut s = serde_json::to_string_pretty(&items).unwrap_or_default();
            s.push('\n');
            s
        }
        DiagFormat::Human => {
            let theme = if color { GraphicalTheme::unicode() } else { GraphicalTheme::unicode_nocolor() };
            let handler = GraphicalReportHandler::new_themed(theme).with_width(100).with_links(false);
            let mut out = String::new();
            for d in diags {
                let report = to_report(d, sources);
                let mut s = String::new();
                if handler.render_report(&mut s, report.as_ref()).is_ok() {
                    out.push_str(&s);
                    out.push('\n');
                }
            }
            let errors = diags.iter().filter(|d| d.is_error()).count();
            let warnings = diags.len() - errors;
            if !diags.is_empty() {
                out.push_str(&format!("{errors} error(s), {warnings} warning(s)\n"));
            }
            out
        }
    };
    redact(text, secrets)
}

fn redact(mut text: String, secrets: &[String]) -> String {
    for s in secrets {
        if s.len() >= 3 {
            text = text.replace(s.as_str(), "(sensitive)");
        }
    }
    text
}

fn to_report(d: &Diagnostic, sources: &Sources) -> Report {
    let mut m = MietteDiagnostic::new(format!("{}: {}", d.code.summary, d.message))
        .with_code(d.code.name)
        .with_severity(match d.severity {
            Severity::Error => miette::Severity::Error,
            Severity::Warning => miette::Severity::Warning,
        });
    let mut help = d.help.clone().unwrap_or_default();
    let Some(span) = d.span else {
        if !help.is_empty() {
            m = m.with_help(help);
        }
        return Report::new(m);
    };
    let file = sources.get(span.file);
    let mut labels =
        vec![LabeledSpan::new_primary_with_span(Some(d.label.clone().unwrap_or_else(|| "here".into())), span.range())];
    for note in &d.notes {
        if note.span.file == span.file {
            labels.push(LabeledSpan::new_with_span(Some(note.message.clone()), note.span.range()));
        } else {
            let (name, at) = sources.locate(note.span);
            help.push_str(&format!("\nnote: {} ({name}:{}:{})", note.message, at.line, at.column));
        }
    }
    m = m.with_labels(labels);
    if !help.is_empty() {
        m = m.with_help(help);
    }
    Report::new(m).with_source_code(NamedSource::new(file.name(), file.text().to_string()).with_language("hcl"))
}

fn to_json(d: &Diagnostic, sources: &Sources) -> serde_json::Value {
    let place = |span: berth_diag::Span| {
        let f = sources.get(span.file);
        let start = f.line_col(span.start as usize);
        let end = f.line_col(span.end as usize);
        serde_json::json!({"file": f.name(), "line": start.line, "column": start.column, "end_line": end.line, "end_column": end.column})
    };
    serde_json::json!({
        "code": d.code.name,
        "severity": d.severity,
        "summary": d.code.summary,
        "message": d.message,
        "location": d.span.map(place),
        "label": d.label,
        "help": d.help,
        "notes": d.notes.iter().map(|n| serde_json::json!({"message": n.message, "location": place(n.span)})).collect::<Vec<_>>(),
    })
}
