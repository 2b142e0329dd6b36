//! Handlebars templates for what users customise: the ARM template wrapper and the Markdown run
//! summary. Built-in defaults are embedded from `templates/`; a content repository may override
//! them with files of the same name in its own `templates/` folder.

use handlebars::{handlebars_helper, Handlebars};
use serde_json::Value;

pub const ARM_TEMPLATE: &str = "arm-template.json.hbs";
pub const SUMMARY: &str = "summary.md.hbs";

const DEFAULT_ARM: &str = include_str!("../../templates/arm-template.json.hbs");
const DEFAULT_SUMMARY: &str = include_str!("../../templates/summary.md.hbs");

handlebars_helper!(json_helper: |v: Value| serde_json::to_string(&v).unwrap_or_default());
handlebars_helper!(md_helper: |v: Value| {
    let s = match &v { Value::String(s) => s.clone(), Value::Null => String::new(), other => other.to_string() };
    s.replace('|', "\\|").replace('\n', " ")
});

/// The template registry. Construct with [`Templates::new`], override with [`Templates::set`].
pub struct Templates {
    hb: Handlebars<'static>,
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
        hb.register_template_string(ARM_TEMPLATE, DEFAULT_ARM)
            .expect("built-in ARM template parses");
        hb.register_template_string(SUMMARY, DEFAULT_SUMMARY)
            .expect("built-in summary template parses");
        Templates { hb }
    }

    /// Replace a template with user text.
    pub fn set(&mut self, name: &str, text: &str) -> Result<(), String> {
        self.hb
            .register_template_string(name, text)
            .map_err(|e| format!("template {name}: {e}"))
    }

    pub fn render(&self, name: &str, data: &Value) -> Result<String, String> {
        self.hb
            .render(name, data)
            .map_err(|e| format!("template {name}: {e}"))
    }

    /// An ARM template holding `resources`, parsed back to check it is JSON.
    pub fn arm(&self, resources: &[Value], description: &str) -> Result<Value, String> {
        let data = serde_json::json!({
            "contentVersion": "1.0.0.0",
            "vigilVersion": env!("CARGO_PKG_VERSION"),
            "description": description,
            "resources": serde_json::to_string_pretty(resources).map_err(|e| e.to_string())?,
        });
        let text = self.render(ARM_TEMPLATE, &data)?;
        serde_json::from_str(&text)
            .map_err(|e| format!("template {ARM_TEMPLATE} did not render JSON: {e}"))
    }
}
