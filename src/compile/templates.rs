//! Handlebars templates for what users customise: the ARM template wrapper, the Markdown run
//! summary and the gate's PR comment. Built-in defaults are embedded from `templates/`; a content repository may override
//! them with files of the same name in its own `templates/` folder.

use handlebars::{handlebars_helper, Handlebars};
use serde_json::Value;

pub const ARM_TEMPLATE: &str = "arm-template.json.hbs";
pub const SUMMARY: &str = "summary.md.hbs";
pub const GATE_COMMENT: &str = "gate-comment.md.hbs";
/// The Markdown plan (`vigil plan --format markdown`).
pub const PLAN: &str = "plan.md.hbs";

const DEFAULT_ARM: &str = include_str!("../../templates/arm-template.json.hbs");
const DEFAULT_SUMMARY: &str = include_str!("../../templates/summary.md.hbs");
const DEFAULT_GATE_COMMENT: &str = include_str!("../../templates/gate-comment.md.hbs");
const DEFAULT_PLAN: &str = include_str!("../../templates/plan.md.hbs");

handlebars_helper!(json_helper: |v: Value| serde_json::to_string(&v).unwrap_or_default());
handlebars_helper!(md_helper: |v: Value| md_text(&plain(&v)));
handlebars_helper!(code_helper: |v: Value| code_span(&plain(&v)));

fn plain(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// One line of text with no control or invisible characters (they become spaces).
fn one_line(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_control() || crate::diagnostics::is_invisible(c) {
                ' '
            } else {
                c
            }
        })
        .collect()
}

/// Untrusted text (a rule's name, a message quoting content) as inert Markdown in a table
/// cell: one line (so it cannot start a heading or a block); brackets, pipes, backticks and
/// HTML escaped, so it cannot open a link, an image, an HTML block, a code span or a new cell; words that would mention someone
/// (`@team`) or link somewhere (`https://...`, `www.`) put in code spans, where GitHub neither
/// notifies nor links. Content cannot forge a "gate passed" block in the PR comment.
pub fn md_text(s: &str) -> String {
    let line = one_line(s);
    let mut out = String::with_capacity(line.len() + 8);
    for (i, word) in line.split(' ').enumerate() {
        if i > 0 {
            out.push(' ');
        }
        let lower = word.to_ascii_lowercase();
        if word.contains('@') || lower.contains("://") || lower.contains("www.") {
            out.push_str(&code_span(word));
            continue;
        }
        for c in word.chars() {
            match c {
                '&' => out.push_str("&amp;"),
                '<' => out.push_str("&lt;"),
                '>' => out.push_str("&gt;"),
                // Links and images need brackets, cells split at pipes, code spans at
                // backticks; emphasis and the like are left alone (harmless mid-cell).
                '\\' | '`' | '[' | ']' | '|' => {
                    out.push('\\');
                    out.push(c);
                }
                c => out.push(c),
            }
        }
    }
    out
}

/// Untrusted text as one Markdown code span (a path, a location): a fence longer than any run
/// of backticks inside, pipes escaped for tables, on one line.
pub fn code_span(s: &str) -> String {
    let text = one_line(s).replace('|', "\\|");
    if text.is_empty() {
        return String::new();
    }
    let longest = text.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest + 1);
    let pad = if text.starts_with('`') || text.ends_with('`') {
        " "
    } else {
        ""
    };
    format!("{fence}{pad}{text}{pad}{fence}")
}

/// The template registry. Construct with [`Templates::new`], override with [`Templates::set`].
/// Built-in templates are compiled on first use (a command renders one or two of them; compiling
/// all four took about a millisecond per run).
pub struct Templates {
    inner: std::sync::Mutex<Registry>,
}

struct Registry {
    hb: Handlebars<'static>,
    /// Built-in templates not compiled yet.
    pending: Vec<(&'static str, &'static str)>,
}

impl Default for Templates {
    fn default() -> Self {
        Templates::new()
    }
}

impl Templates {
    pub fn new() -> Templates {
        let mut hb = Handlebars::new();
        hb.set_strict_mode(true);
        hb.register_escape_fn(handlebars::no_escape);
        hb.register_helper("json", Box::new(json_helper));
        hb.register_helper("md", Box::new(md_helper));
        hb.register_helper("code", Box::new(code_helper));
        Templates {
            inner: std::sync::Mutex::new(Registry {
                hb,
                pending: vec![
                    (ARM_TEMPLATE, DEFAULT_ARM),
                    (SUMMARY, DEFAULT_SUMMARY),
                    (GATE_COMMENT, DEFAULT_GATE_COMMENT),
                    (PLAN, DEFAULT_PLAN),
                ],
            }),
        }
    }

    fn registry(&self) -> std::sync::MutexGuard<'_, Registry> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Replace a template with user text (compiled now, so a syntax error is reported here).
    pub fn set(&mut self, name: &str, text: &str) -> Result<(), String> {
        let r = self.inner.get_mut().unwrap_or_else(|e| e.into_inner());
        r.pending.retain(|(n, _)| *n != name);
        r.hb.register_template_string(name, text)
            .map_err(|e| format!("template {name}: {e}"))
    }

    pub fn render(&self, name: &str, data: &Value) -> Result<String, String> {
        let mut r = self.registry();
        if let Some(i) = r.pending.iter().position(|(n, _)| *n == name) {
            let (n, text) = r.pending.remove(i);
            r.hb.register_template_string(n, text)
                .unwrap_or_else(|e| panic!("built-in template {n} parses: {e}"));
        }
        r.hb.render(name, data)
            .map_err(|e| format!("template {name}: {e}"))
    }

    /// The ARM wrapper, rendered once and checked to produce JSON; [`ArmWrapper::assemble`]
    /// then fills in each template's description and resources without re-rendering.
    pub fn arm_wrapper(&self) -> Result<ArmWrapper, String> {
        const DESC: &str = "\u{1}VIGIL_DESCRIPTION\u{1}";
        const RES: &str = "\u{1}VIGIL_RESOURCES\u{1}";
        let data = serde_json::json!({
            "contentVersion": "1.0.0.0",
            "vigilVersion": env!("CARGO_PKG_VERSION"),
            "description": DESC,
            "resources": RES,
        });
        let text = self.render(ARM_TEMPLATE, &data)?;
        let desc_json = serde_json::to_string(DESC).map_err(|e| e.to_string())?;
        let mut pieces = Vec::new();
        let mut rest = text.as_str();
        let mut slots = Vec::new();
        loop {
            let d = rest.find(&desc_json);
            let r = rest.find(RES);
            let (pos, len, slot) = match (d, r) {
                (Some(d), Some(r)) if d < r => (d, desc_json.len(), Slot::Description),
                (Some(d), None) => (d, desc_json.len(), Slot::Description),
                (_, Some(r)) => (r, RES.len(), Slot::Resources),
                (None, None) => break,
            };
            pieces.push(rest[..pos].to_string());
            slots.push(slot);
            rest = &rest[pos + len..];
        }
        pieces.push(rest.to_string());
        if !slots.contains(&Slot::Resources) {
            return Err(format!(
                "template {ARM_TEMPLATE} does not place {{{{{{resources}}}}}}"
            ));
        }
        let w = ArmWrapper { pieces, slots };
        let probe = w.assemble("probe", "[]");
        serde_json::from_str::<Value>(&probe)
            .map_err(|e| format!("template {ARM_TEMPLATE} does not render JSON: {e}"))?;
        Ok(w)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Slot {
    Description,
    Resources,
}

/// A rendered ARM wrapper with holes for the description and the resources array.
#[derive(Clone, Debug)]
pub struct ArmWrapper {
    pieces: Vec<String>,
    slots: Vec<Slot>,
}

impl ArmWrapper {
    /// A whole template: `resources` is the JSON text of the resources array.
    pub fn assemble(&self, description: &str, resources: &str) -> String {
        let desc = serde_json::to_string(description).expect("strings serialize");
        let mut out = String::with_capacity(resources.len() + 1024);
        for (i, piece) in self.pieces.iter().enumerate() {
            out.push_str(piece);
            match self.slots.get(i) {
                Some(Slot::Description) => out.push_str(&desc),
                Some(Slot::Resources) => out.push_str(resources),
                None => {}
            }
        }
        out
    }
}

#[cfg(test)]
mod built_in_tests {
    use super::*;

    /// Built-ins are compiled on first use; each must compile.
    #[test]
    fn every_built_in_template_compiles() {
        let t = Templates::new();
        let r = t.registry();
        assert_eq!(r.pending.len(), 4);
        for (name, text) in &r.pending {
            let mut hb = Handlebars::new();
            assert!(hb.register_template_string(name, *text).is_ok(), "{name}");
        }
    }
}
