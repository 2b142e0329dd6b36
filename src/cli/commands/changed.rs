//! `vigil changed --base REF [--head REF] [--format human|json]`

use clap::{ArgMatches, Args, Command, ValueEnum};

use super::super::{out, with, ExitCode, Global};
use crate::ops::changed;

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ChangedFormat {
    Human,
    Json,
}

#[derive(Args, Debug)]
pub struct ChangedArgs {
    /// The base ref (e.g. origin/main).
    #[arg(long, value_name = "REF")]
    pub base: String,
    /// The head ref; default: the work tree as it is on disk.
    #[arg(long, value_name = "REF")]
    pub head: Option<String>,
    #[arg(long, value_enum, default_value_t = ChangedFormat::Human)]
    pub format: ChangedFormat,
}

pub fn cli() -> Command {
    ChangedArgs::augment_args(
        Command::new("changed")
            .about("Definitions added, modified and deleted between two git refs."),
    )
}

pub fn exec(g: &Global, m: &ArgMatches) -> ExitCode {
    let a: ChangedArgs = match super::args(g, m) {
        Ok(a) => a,
        Err(c) => return c,
    };
    with(g, g.context(), |cx| {
        let c = changed::changed(&cx, &a.base, a.head.as_deref())?;
        match a.format {
            ChangedFormat::Json => out(&format!("{}\n", serde_json::to_string_pretty(&c)?))?,
            ChangedFormat::Human => {
                let mut s = String::new();
                for (sym, list) in [("A", &c.added), ("M", &c.modified), ("D", &c.deleted)] {
                    for d in list {
                        s.push_str(&format!("{sym} {:<9} {}  {}\n", d.kind, d.path, d.name));
                    }
                }
                s.push_str(&format!(
                    "{} added, {} modified, {} deleted ({}..{})\n",
                    c.added.len(),
                    c.modified.len(),
                    c.deleted.len(),
                    &c.base[..c.base.len().min(12)],
                    c.head
                ));
                out(&s)?;
            }
        }
        Ok(ExitCode::Clean)
    })
}
