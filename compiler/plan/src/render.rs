//! The plan for humans: a diff per address, coloured on a terminal, plain otherwise.

use crate::diff::{Action, Change, Plan, is_unknown};
use anstyle::{AnsiColor, Style};
use serde_json::Value;
use std::fmt::Write;

/// Renders a plan. `color` adds ANSI colours (the caller decides: a terminal, no `NO_COLOR`).
pub fn render(plan: &Plan, color: bool) -> String {
    let mut out = String::new();
    let paint = |style: Style, text: &str| {
        if color { format!("{}{text}{}", style.render(), style.render_reset()) } else { text.to_owned() }
    };
    for change in plan.actions() {
        let (sigil, style) = match change.action {
            Action::Create => ("+", AnsiColor::Green.on_default()),
            Action::Update => ("~", AnsiColor::Yellow.on_default()),
            Action::Replace => ("-/+", AnsiColor::Magenta.on_default()),
            Action::Delete => ("-", AnsiColor::Red.on_default()),
            Action::NoOp => continue,
        };
        let _ = write!(out, "{} {}", paint(style, &format!("{sigil:>3}")), paint(style.bold(), &change.address));
        if !change.replace_because.is_empty() {
            let _ = write!(out, " (replaced because {} changes)", change.replace_because.join(", "));
        }
        out.push('\n');
        attributes(&mut out, change, &paint);
    }
    let counts = plan.counts();
    let count = |a: Action| counts.get(&a).copied().unwrap_or(0);
    if plan.is_empty() {
        let _ = writeln!(out, "No changes: the {} objects match the spec.", count(Action::NoOp));
    } else {
        let _ = writeln!(
            out,
            "\nPlan: {} to create, {} to update, {} to replace, {} to delete, {} unchanged.",
            count(Action::Create),
            count(Action::Update),
            count(Action::Replace),
            count(Action::Delete),
            count(Action::NoOp)
        );
    }
    out
}

fn attributes(out: &mut String, change: &Change, paint: &dyn Fn(Style, &str) -> String) {
    let empty = serde_json::Map::new();
    let before = change.before.as_ref().unwrap_or(&empty);
    let after = change.after.as_ref().unwrap_or(&empty);
    let names: Vec<&String> = match change.action {
        Action::Create => after.keys().collect(),
        Action::Delete => return,
        _ => change.changed.iter().collect(),
    };
    // Lines of (path, text): a changed object shows only the leaves that differ.
    let mut lines: Vec<(String, String, bool)> = Vec::new();
    for name in names {
        let forces = change.replace_because.contains(name);
        match (change.action, before.get(name), after.get(name)) {
            (Action::Create, _, Some(a)) => lines.push((name.clone(), show(a), forces)),
            (_, Some(b), Some(a)) => {
                let mut leaves = Vec::new();
                differences(name.clone(), b, a, &mut leaves);
                lines.extend(leaves.into_iter().map(|(path, text)| (path, text, forces)));
            }
            (_, None, Some(a)) => lines.push((name.clone(), format!("(none) -> {}", show(a)), forces)),
            (_, Some(b), None) => lines.push((name.clone(), format!("{} -> (none)", show(b)), forces)),
            (_, None, None) => {}
        }
    }
    let width = lines.iter().map(|(p, _, _)| p.len()).max().unwrap_or(0);
    let dim = Style::new().dimmed();
    for (path, text, forces) in lines {
        let forces = if forces { paint(dim, "  # forces replacement") } else { String::new() };
        let _ = writeln!(out, "      {path:<width$} = {text}{forces}");
    }
}

/// The leaves in which two values differ, as `(path, "before -> after")`: objects by key,
/// lists of the same length by index, anything else whole.
fn differences(path: String, before: &Value, after: &Value, out: &mut Vec<(String, String)>) {
    if before == after {
        return;
    }
    match (before, after) {
        (Value::Object(b), Value::Object(a)) if !is_unknown(after) => {
            let keys: std::collections::BTreeSet<&String> = b.keys().chain(a.keys()).collect();
            for key in keys {
                let (b, a) = (b.get(key).unwrap_or(&Value::Null), a.get(key).unwrap_or(&Value::Null));
                differences(format!("{path}.{key}"), b, a, out);
            }
        }
        (Value::Array(b), Value::Array(a)) if b.len() == a.len() => {
            for (i, (b, a)) in b.iter().zip(a).enumerate() {
                differences(format!("{path}[{i}]"), b, a, out);
            }
        }
        _ => out.push((path, format!("{} -> {}", show(before), show(after)))),
    }
}

fn show(value: &Value) -> String {
    if is_unknown(value) { "(known after apply)".to_owned() } else { value.to_string() }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Resource, State, diff, reference};
    use serde_json::json;

    #[test]
    fn shows_each_change_with_its_attributes() {
        let attrs = |v: Value| v.as_object().unwrap().clone();
        let desired = [Resource::new(
            "h.v:aws_volume_attachment".into(),
            "aws",
            "aws_volume_attachment",
            attrs(json!({"device": "/dev/sdf", "instance_id": reference("h:aws_instance", "id")})),
        )];
        let text = render(&diff(&desired, &State::new("l".into())), false);
        assert_eq!(
            text,
            "  + h.v:aws_volume_attachment\n      device      = \"/dev/sdf\"\n      instance_id = (known after apply)\n\n\
             Plan: 1 to create, 0 to update, 0 to replace, 0 to delete, 0 unchanged.\n"
        );
        assert!(render(&diff(&desired, &State::new("l".into())), true).contains("\u{1b}["));
        assert_eq!(render(&diff(&[], &State::new("l".into())), false), "No changes: the 0 objects match the spec.\n");
    }

    #[test]
    fn a_changed_object_shows_only_the_leaves_that_differ() {
        let mut out = Vec::new();
        let before = json!({"spec": {"replicas": 3, "image": "a"}, "ports": [80, 443], "env": [1]});
        let after = json!({"spec": {"replicas": 5, "image": "a"}, "ports": [80, 8443], "env": [1, 2]});
        differences("manifest".into(), &before, &after, &mut out);
        assert_eq!(
            out,
            [
                ("manifest.env".to_owned(), "[1] -> [1,2]".to_owned()),
                ("manifest.ports[1]".to_owned(), "443 -> 8443".to_owned()),
                ("manifest.spec.replicas".to_owned(), "3 -> 5".to_owned()),
            ]
        );
    }
}
