//! Plans as data for reports: one JSON document (`vigil plan --format json`), rendered as text
//! for people and as Markdown through the `plan.md.hbs` template.

use serde_json::{json, Value};

use super::plan::{Totals, WorkspacePlan};
use super::DeployError;

/// The plan report as JSON (also the data of the Markdown template).
pub fn report(environment: &str, plans: &[WorkspacePlan], problems: &[DeployError]) -> Value {
    let totals = Totals::of(plans);
    json!({
        "environment": environment,
        "hasChanges": totals.changes() > 0,
        "totals": totals,
        "workspaces": plans.iter().map(|p| json!({
            "label": p.workspace.label(),
            "workspace": p.workspace,
            "unchanged": p.unchanged,
            "changes": p.changes.iter().map(|c| json!({
                "action": c.action.as_str(),
                "type": c.rtype,
                "name": c.name,
                "kind": c.kind,
                "displayName": c.display_name,
                "source": c.source,
                "drift": c.drift,
                "fields": c.fields,
            })).collect::<Vec<_>>(),
            "unmanaged": p.unmanaged,
            "unmanagedCount": p.unmanaged.len(),
        })).collect::<Vec<_>>(),
        "diagnostics": problems.iter().map(|d| json!({
            "code": d.code.as_str(),
            "message": d.message,
            "hint": d.hint,
        })).collect::<Vec<_>>(),
    })
}

fn short(v: &Option<Value>) -> String {
    let s = match v {
        None => "(none)".to_string(),
        Some(Value::String(s)) => format!("{s:?}"),
        Some(v) => v.to_string(),
    };
    if s.chars().count() > 70 {
        format!("{}…", s.chars().take(69).collect::<String>())
    } else {
        s
    }
}

/// The plan for people.
pub fn human(environment: &str, plans: &[WorkspacePlan], verbose: bool) -> String {
    use std::fmt::Write as _;
    let mut s = String::new();
    let _ = writeln!(
        s,
        "Plan for environment `{environment}` ({} workspace{})",
        plans.len(),
        if plans.len() == 1 { "" } else { "s" }
    );
    for p in plans {
        let _ = writeln!(s, "\nworkspace {}", p.workspace.label());
        if p.changes.is_empty() {
            let _ = writeln!(s, "  no changes");
        }
        for c in &p.changes {
            let sym = match c.action {
                super::plan::Action::Create => "+",
                super::plan::Action::Update => "~",
                super::plan::Action::Replace => "-/+",
                super::plan::Action::Adopt => "=",
                super::plan::Action::Delete => "-",
            };
            let _ = write!(
                s,
                "  {sym:>3} {:<8} {:<9} {}",
                c.action.as_str(),
                c.kind,
                c.display_name
            );
            if let Some(src) = &c.source {
                let _ = write!(s, "  ({src})");
            }
            if c.drift {
                let _ = write!(
                    s,
                    "  [drift: changed in the portal since vigil deployed it]"
                );
            }
            s.push('\n');
            let limit = if verbose { usize::MAX } else { 8 };
            for f in c.fields.iter().take(limit) {
                let _ = writeln!(
                    s,
                    "        {}: {} → {}",
                    f.path,
                    short(&f.old),
                    short(&f.new)
                );
            }
            if c.fields.len() > limit {
                let _ = writeln!(s, "        … {} more fields", c.fields.len() - limit);
            }
        }
        if !p.unmanaged.is_empty() {
            let _ = writeln!(
                s,
                "  {} unmanaged resource(s) not owned by this repository, left alone",
                p.unmanaged.len()
            );
            if verbose {
                for u in &p.unmanaged {
                    let _ = writeln!(s, "      {:?} {} ({})", u.rtype, u.name, u.display_name);
                }
            }
        }
    }
    let t = Totals::of(plans);
    let _ = writeln!(
        s,
        "\nPlan: {} to create, {} to update, {} to replace, {} to adopt, {} to delete; {} unchanged, {} drifted, {} unmanaged.",
        t.create, t.update, t.replace, t.adopt, t.delete, t.unchanged, t.drift, t.unmanaged
    );
    s
}
