//! `vigil schema [KIND] [--write DIR | --check DIR]` and `vigil schema pull --env E`

use std::path::PathBuf;

use clap::{ArgMatches, Args, Command};

use super::super::{err, out, with, ExitCode, Global};
use crate::ops::{schema, schema_pull};

#[derive(Args, Debug)]
pub struct SchemaArgs {
    /// Content kind: rule, hunt, function, anomaly, watchlist, `config` (vigil.toml) or `tests`
    /// (x.tests.yaml);
    /// default: all, with --write/--check.
    pub kind: Option<String>,
    /// Write every schema into DIR (as committed in schemas/).
    #[arg(long, value_name = "DIR", conflicts_with = "check")]
    pub write: Option<PathBuf>,
    /// Exit 1 if the schemas in DIR differ from the generated ones.
    #[arg(long, value_name = "DIR")]
    pub check: Option<PathBuf>,
}

#[derive(Args, Debug)]
pub struct PullArgs {
    /// The environment whose workspaces to read.
    #[arg(long, value_name = "ENV")]
    pub env: String,
}

pub fn cli() -> Command {
    SchemaArgs::augment_args(
        Command::new("schema")
            .about("Print or write the JSON Schemas of the content kinds and of vigil.toml.")
            .args_conflicts_with_subcommands(true)
            .subcommand(PullArgs::augment_args(Command::new("pull").about(
                "Each workspace's tables, functions and table plans into schemas/workspaces/ENV/ (commit it).",
            ))),
    )
}

pub fn exec(g: &Global, m: &ArgMatches) -> ExitCode {
    if let Some(("pull", sub)) = m.subcommand() {
        let a: PullArgs = match super::args(g, sub) {
            Ok(a) => a,
            Err(c) => return c,
        };
        return with(g, g.context(), |cx| {
            let pulled = schema_pull::schema_pull(&cx, &a.env)?;
            if !g.quiet {
                for p in pulled {
                    out(&format!(
                        "{}: {} table(s) beyond the embedded catalog, {} missing, {} function(s), {} table(s) on a Basic or Auxiliary plan → {}\n",
                        p.label,
                        p.tables,
                        p.missing,
                        p.functions,
                        p.charged_tables,
                        crate::diagnostics::render::display_path(&p.path)
                    ))?;
                }
            }
            Ok(ExitCode::Clean)
        });
    }
    let a: SchemaArgs = match super::args(g, m) {
        Ok(a) => a,
        Err(c) => return c,
    };
    with(g, g.context(), |cx| {
        let files = schema::schemas(a.kind.as_deref())?;
        if let Some(dir) = &a.write {
            schema::write(&cx, dir, &files)?;
            return Ok(ExitCode::Clean);
        }
        if let Some(dir) = &a.check {
            let stale = schema::stale(&cx, dir, &files);
            if stale.is_empty() {
                return Ok(ExitCode::Clean);
            }
            let names: Vec<String> = stale.iter().map(|p| p.display().to_string()).collect();
            err(&format!(
                "schemas out of date: {}\nrun `vigil schema --write {}`\n",
                names.join(", "),
                dir.display()
            ));
            return Ok(ExitCode::Failed);
        }
        match files.as_slice() {
            [one] => {
                out(&one.text)?;
                Ok(ExitCode::Clean)
            }
            _ => Err(crate::ops::OpError::usage(
                "name a kind to print (rule, hunt, function, anomaly, watchlist, config, tests), or use --write DIR",
            )),
        }
    })
}
