//! Renderers: turn diagnostics into text for humans (miette), JSON, SARIF 2.1.0 and GitHub
//! workflow annotations. Pure functions from data to `String`; the CLI decides where to write.

use std::fmt::Write as _;

use serde::Serialize;
use serde_json::json;

use super::{Counts, Diagnostic, Severity};
use crate::source::SourceDb;

/// Output formats for diagnostics.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Human,
    Json,
    Sarif,
    Github,
}

/// Options for human rendering.
#[derive(Clone, Copy, Debug)]
pub struct HumanOptions {
    pub color: bool,
    pub width: usize,
}

struct MietteView<'a> {
    diag: &'a Diagnostic,
    source: miette::NamedSource<String>,
}

impl std::fmt::Debug for MietteView<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.diag.message)
    }
}

impl std::fmt::Display for MietteView<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.diag.message)
    }
}

impl std::error::Error for MietteView<'_> {}

impl miette::Diagnostic for MietteView<'_> {
    fn code<'b>(&'b self) -> Option<Box<dyn std::fmt::Display + 'b>> {
        Some(Box::new(self.diag.code.as_str()))
    }

    fn severity(&self) -> Option<miette::Severity> {
        Some(match self.diag.severity {
            Severity::Error => miette::Severity::Error,
            Severity::Warning => miette::Severity::Warning,
            Severity::Note => miette::Severity::Advice,
        })
    }

    fn help<'b>(&'b self) -> Option<Box<dyn std::fmt::Display + 'b>> {
        self.diag
            .hint
            .as_ref()
            .map(|h| Box::new(h) as Box<dyn std::fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        Some(&self.source)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = miette::LabeledSpan> + '_>> {
        let d = self.diag;
        let mut labels = vec![miette::LabeledSpan::new_primary_with_span(
            d.label.clone(),
            (d.span.start as usize, d.span.len()),
        )];
        for r in &d.related {
            if r.span.file == d.span.file {
                labels.push(miette::LabeledSpan::new_with_span(
                    Some(r.message.clone()),
                    (r.span.start as usize, r.span.len()),
                ));
            }
        }
        Some(Box::new(labels.into_iter()))
    }
}

/// Human-readable, with source snippets. Related locations in other files are listed as notes.
pub fn human(db: &SourceDb, diags: &[Diagnostic], opts: HumanOptions) -> String {
    let theme = if opts.color {
        miette::GraphicalTheme::unicode()
    } else {
        miette::GraphicalTheme::unicode_nocolor()
    };
    let handler = miette::GraphicalReportHandler::new_themed(theme).with_width(opts.width);
    let mut out = String::new();
    for d in diags {
        let file = db.get(d.span.file);
        let view = MietteView {
            diag: d,
            source: miette::NamedSource::new(display_path(&file.path), file.text.to_string()),
        };
        let _ = handler.render_report(&mut out, &view);
        for r in d.related.iter().filter(|r| r.span.file != d.span.file) {
            let f = db.get(r.span.file);
            let lc = f.line_col(r.span.start);
            let _ = writeln!(
                out,
                "  note: {} ({}:{}:{})",
                r.message,
                display_path(&f.path),
                lc.line,
                lc.col
            );
        }
        out.push('\n');
    }
    out
}

/// A one-line summary such as `3 errors, 1 warning in 12 files`.
pub fn summary_line(counts: Counts, files: usize) -> String {
    fn plural(n: usize, word: &str) -> String {
        if n == 1 {
            format!("{n} {word}")
        } else {
            format!("{n} {word}s")
        }
    }
    format!(
        "{}, {}, {} in {}",
        plural(counts.errors, "error"),
        plural(counts.warnings, "warning"),
        plural(counts.notes, "note"),
        plural(files, "file")
    )
}

/// Paths are shown with forward slashes on every platform.
pub fn display_path(p: &std::path::Path) -> String {
    let s = p.to_string_lossy();
    // On Windows the separator is shown as `/`; elsewhere a backslash is part of a name
    // (and of a byte-escaped one, `x\\xfe.yaml`).
    if cfg!(windows) {
        s.replace('\\', "/")
    } else {
        s.into_owned()
    }
}

#[derive(Serialize)]
struct JsonRelated {
    file: String,
    line: u32,
    column: u32,
    message: String,
}

#[derive(Serialize)]
struct JsonDiag {
    code: &'static str,
    severity: &'static str,
    message: String,
    file: String,
    line: u32,
    column: u32,
    end_line: u32,
    end_column: u32,
    byte_start: u32,
    byte_length: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    label: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    hint: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    related: Vec<JsonRelated>,
}

/// Machine-readable JSON: `{"version":1,"summary":{...},"diagnostics":[...]}`.
pub fn json(db: &SourceDb, diags: &[Diagnostic], files: usize) -> String {
    let list: Vec<JsonDiag> = diags
        .iter()
        .map(|d| {
            let f = db.get(d.span.file);
            let s = f.line_col(d.span.start);
            let e = f.line_col(d.span.end);
            JsonDiag {
                code: d.code.as_str(),
                severity: d.severity.as_str(),
                message: d.message.clone(),
                file: display_path(&f.path),
                line: s.line,
                column: s.col,
                end_line: e.line,
                end_column: e.col,
                byte_start: d.span.start,
                byte_length: d.span.end - d.span.start,
                label: d.label.clone(),
                hint: d.hint.clone(),
                related: d
                    .related
                    .iter()
                    .map(|r| {
                        let rf = db.get(r.span.file);
                        let lc = rf.line_col(r.span.start);
                        JsonRelated {
                            file: display_path(&rf.path),
                            line: lc.line,
                            column: lc.col,
                            message: r.message.clone(),
                        }
                    })
                    .collect(),
            }
        })
        .collect();
    let counts = Counts::of(diags);
    let v = json!({
        "version": 1,
        "summary": { "files": files, "errors": counts.errors, "warnings": counts.warnings, "notes": counts.notes },
        "diagnostics": list,
    });
    let mut s = serde_json::to_string_pretty(&v).expect("JSON values serialize");
    s.push('\n');
    s
}

fn sarif_level(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Note => "note",
    }
}

/// SARIF 2.1.0, for GitHub code scanning and other viewers.
pub fn sarif(db: &SourceDb, diags: &[Diagnostic]) -> String {
    let mut used: Vec<&'static str> = diags.iter().map(|d| d.code.as_str()).collect();
    used.sort_unstable();
    used.dedup();
    let rules: Vec<_> = used
        .iter()
        .map(|c| {
            let info = super::Code(c).info();
            json!({
                "id": info.code,
                "name": info.name,
                "shortDescription": { "text": info.summary },
                "fullDescription": { "text": info.why },
                "help": { "text": format!("{}\n\nWhy: {}\n\nExample:\n{}", info.summary, info.why, info.example) },
                "defaultConfiguration": { "level": sarif_level(info.default_severity) },
            })
        })
        .collect();
    let results: Vec<_> = diags
        .iter()
        .map(|d| {
            let f = db.get(d.span.file);
            let s = f.line_col(d.span.start);
            let e = f.line_col(d.span.end);
            let mut text = d.message.clone();
            if let Some(h) = &d.hint {
                text.push_str("\nhint: ");
                text.push_str(h);
            }
            json!({
                "ruleId": d.code.as_str(),
                "ruleIndex": used.iter().position(|c| *c == d.code.as_str()),
                "level": sarif_level(d.severity),
                "message": { "text": text },
                "locations": [{
                    "physicalLocation": {
                        "artifactLocation": { "uri": display_path(&f.path) },
                        "region": {
                            "startLine": s.line, "startColumn": s.col,
                            "endLine": e.line, "endColumn": e.col,
                        }
                    }
                }],
            })
        })
        .collect();
    let v = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": { "driver": {
                "name": "vigil",
                "version": env!("CARGO_PKG_VERSION"),
                "informationUri": "https://github.com/vigil-sentinel/vigil",
                "rules": rules,
            }},
            "results": results,
        }],
    });
    let mut s = serde_json::to_string_pretty(&v).expect("JSON values serialize");
    s.push('\n');
    s
}

fn gh_escape_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

fn gh_escape_prop(s: &str) -> String {
    gh_escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

/// GitHub Actions workflow commands (`::error file=...,line=...::message`).
pub fn github(db: &SourceDb, diags: &[Diagnostic]) -> String {
    let mut out = String::new();
    for d in diags {
        let f = db.get(d.span.file);
        let s = f.line_col(d.span.start);
        let e = f.line_col(d.span.end);
        let cmd = match d.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Note => "notice",
        };
        let mut msg = d.message.clone();
        if let Some(h) = &d.hint {
            msg.push_str("\nhint: ");
            msg.push_str(h);
        }
        let _ = writeln!(
            out,
            "::{cmd} file={},line={},col={},endLine={},endColumn={},title={}::{}",
            gh_escape_prop(&display_path(&f.path)),
            s.line,
            s.col,
            e.line,
            e.col,
            gh_escape_prop(d.code.as_str()),
            gh_escape_data(&msg)
        );
    }
    out
}
