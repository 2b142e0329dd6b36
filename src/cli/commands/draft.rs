//! `vigil draft (--hypothesis TEXT | --from FILE...) [--kind hunt|rule] [--env E] [--out PATH] [--json FILE] [--audit FILE]`

use std::path::PathBuf;

use clap::{ArgMatches, Args, Command};

use super::super::{append_report, out, with, write_report, ExitCode, Global};
use crate::ops::draft::{self, DraftKind, DraftOptions};

#[derive(Args, Debug)]
pub struct DraftArgs {
    /// What to hunt for, in words.
    #[arg(long, value_name = "TEXT", required_unless_present = "from")]
    pub hypothesis: Option<String>,
    /// Threat reports or notes to draft from (repeatable).
    #[arg(long, value_name = "FILE")]
    pub from: Vec<PathBuf>,
    /// What to draft: a `hunt`, or a Scheduled `rule` with entity mappings and detection tests.
    #[arg(long, value_name = "KIND", default_value = "hunt", value_parser = ["hunt", "rule"])]
    pub kind: String,
    /// Ground the draft in an environment's first workspace (its pulled catalog, the tables with
    /// data there) and dry-run candidates through its query API (default: the sandbox).
    #[arg(long, value_name = "ENV")]
    pub env: Option<String>,
    /// Where to write the draft (default: the first hunts or rules folder, <name>.yaml; a rule's
    /// tests go beside it as <name>.tests.yaml). An existing file is never overwritten.
    #[arg(long, value_name = "PATH")]
    pub out: Option<PathBuf>,
    /// Also write the result as JSON to FILE.
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
    /// Append one audit line (JSON) per round to FILE.
    #[arg(long, value_name = "FILE")]
    pub audit: Option<PathBuf>,
}

pub fn cli() -> Command {
    DraftArgs::augment_args(Command::new("draft").about(
        "Draft a hunt or a rule with the model of [ai], each draft checked by vigil (parse, bind, lints, AI policy, a sandbox run) and sent back with the problems until it passes or [ai] max_repairs is reached; writes a shadow hunt or rule (with detection tests) with provenance, or nothing.",
    ))
}

pub fn exec(g: &Global, m: &ArgMatches) -> ExitCode {
    let a: DraftArgs = match super::args(g, m) {
        Ok(a) => a,
        Err(c) => return c,
    };
    with(g, g.context(), |cx| {
        let r = draft::draft(
            &cx,
            &DraftOptions {
                hypothesis: a.hypothesis.clone(),
                from: a.from.clone(),
                out: a.out.clone(),
                kind: if a.kind == "rule" {
                    DraftKind::Rule
                } else {
                    DraftKind::Hunt
                },
                env: a.env.clone(),
            },
        );
        let o = r?;
        if let Some(p) = &a.audit {
            let lines: Vec<String> = o.audit.iter().map(|l| l.to_string()).collect();
            append_report(&cx, p, &lines)?;
        }
        let mut text = String::new();
        if let Some(e) = &o.error {
            text.push_str(&format!("error: {e}\n"));
        }
        match o.written.first() {
            Some(p) => {
                text.push_str(&format!(
                    "drafted {} in {} round(s); it needs a human review (review: block) before it merges\n",
                    p.display(),
                    o.rounds
                ));
                for t in &o.written[1..] {
                    text.push_str(&format!("  with its detection tests in {}\n", t.display()));
                }
            }
            None if o.error.is_some() => {}
            None => {
                text.push_str(&format!(
                    "no draft passed in {} round(s); nothing was written. Last problems:\n",
                    o.rounds
                ));
                for p in &o.problems {
                    text.push_str(&format!("  - {p}\n"));
                }
            }
        }
        out(&text)?;
        if let Some(p) = &a.json {
            write_report(
                &cx,
                p,
                &serde_json::to_string_pretty(&serde_json::json!({
                    "written": o.written, "rounds": o.rounds, "problems": o.problems, "error": o.error, "audit": o.audit,
                }))?,
            )?;
        }
        Ok(ExitCode::failed_if(o.written.is_empty()))
    })
}
