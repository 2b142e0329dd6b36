//! `vigil sandbox init`

use clap::{ArgMatches, Command};

use super::super::{out, with, ExitCode, Global};
use crate::ops::sandbox_init;

pub fn cli() -> Command {
    Command::new("sandbox")
        .about("Manage the local sandbox data.")
        .subcommand_required(true)
        .subcommand(
            Command::new("init")
                .about("Generate seeded sample data for every table the content references."),
        )
}

pub fn exec(g: &Global, m: &ArgMatches) -> ExitCode {
    let Some(("init", _)) = m.subcommand() else {
        return ExitCode::Usage;
    };
    with(g, g.context(), |cx| {
        let o = sandbox_init::sandbox_init(&cx)?;
        let mut text = String::new();
        for (table, rows) in &o.tables {
            text.push_str(&format!("{table}: {rows} rows\n"));
        }
        text.push_str(&format!(
            "wrote {} table(s) to {}\n",
            o.tables.len(),
            o.dir.display()
        ));
        out(&text)?;
        Ok(ExitCode::Clean)
    })
}
