//! `vigil export --env E [--out DIR] [--update]`

use std::path::PathBuf;

use clap::{ArgMatches, Args, Command};

use super::super::{out, with, ExitCode, Global};
use crate::ops::export::{self, ExportOptions};

#[derive(Args, Debug)]
pub struct ExportArgs {
    #[arg(long, value_name = "ENV")]
    pub env: String,
    /// Output folder (one subfolder per workspace when the environment has several).
    #[arg(long, value_name = "DIR", default_value = "export")]
    pub out: PathBuf,
    /// Write into the repository instead: each item over the file that defines it (same
    /// resource name), keeping the file's vigil keys (provenance, review, rollout,
    /// environments, tests); items the repository does not define go to `--out`. This is how
    /// drift made in the portal comes back into git (the drift workflow opens a PR with it).
    #[arg(long)]
    pub update: bool,
}

pub fn cli() -> Command {
    ExportArgs::augment_args(
        Command::new("export")
            .about("Write the live content of an environment's workspaces as vigil YAML."),
    )
}

pub fn exec(g: &Global, m: &ArgMatches) -> ExitCode {
    let a: ExportArgs = match super::args(g, m) {
        Ok(a) => a,
        Err(c) => return c,
    };
    with(g, g.context(), |cx| {
        let o = export::export(
            &cx,
            &ExportOptions {
                env: a.env.clone(),
                out: a.out.clone(),
                update: a.update,
            },
        )?;
        if g.quiet {
            return Ok(ExitCode::Clean);
        }
        let mut text = String::new();
        for w in &o.workspaces {
            if a.update {
                text.push_str(&format!(
                    "{}: {} file(s) updated in place\n",
                    w.label, w.updated
                ));
                for n in &w.notes {
                    text.push_str(&format!("  not updated: {n}\n"));
                }
            }
            text.push_str(&format!(
                "{}: {} file(s) written to {}\n",
                w.label,
                w.files,
                crate::diagnostics::render::display_path(&w.dir)
            ));
            for sk in &w.skipped {
                text.push_str(&format!("  skipped {sk}\n"));
            }
        }
        out(&text)?;
        Ok(ExitCode::Clean)
    })
}
