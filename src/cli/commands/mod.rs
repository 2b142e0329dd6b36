//! The commands, one file each (`cli()` builds the clap command, `exec()` runs it), in the
//! manner of cargo's `src/bin/cargo/commands/`.

mod apply;
mod changed;
mod compile;
mod debug;
mod draft;
mod dry_run;
mod emulate;
mod export;
mod gate;
mod guard;
mod hash;
mod health;
mod kql;
mod mcp;
mod outcomes;
mod plan;
mod query;
mod rollback;
mod sandbox;
mod schema;
mod test;
mod tune;
mod validate;

use clap::{ArgMatches, Args, Command, FromArgMatches};

use super::{fail, ExitCode, Global};
use crate::ops::OpError;

/// A built-in command.
struct Builtin {
    name: &'static str,
    cli: fn() -> Command,
    exec: fn(&Global, &ArgMatches) -> ExitCode,
}

const BUILTIN: &[Builtin] = &[
    Builtin {
        name: "validate",
        cli: validate::cli,
        exec: validate::exec,
    },
    Builtin {
        name: "compile",
        cli: compile::cli,
        exec: compile::exec,
    },
    Builtin {
        name: "schema",
        cli: schema::cli,
        exec: schema::exec,
    },
    Builtin {
        name: "gate",
        cli: gate::cli,
        exec: gate::exec,
    },
    Builtin {
        name: "hash",
        cli: hash::cli,
        exec: hash::exec,
    },
    Builtin {
        name: "kql",
        cli: kql::cli,
        exec: kql::exec,
    },
    Builtin {
        name: "query",
        cli: query::cli,
        exec: query::exec,
    },
    Builtin {
        name: "test",
        cli: test::cli,
        exec: test::exec,
    },
    Builtin {
        name: "dry-run",
        cli: dry_run::cli,
        exec: dry_run::exec,
    },
    Builtin {
        name: "sandbox",
        cli: sandbox::cli,
        exec: sandbox::exec,
    },
    Builtin {
        name: "debug",
        cli: debug::cli,
        exec: debug::exec,
    },
    Builtin {
        name: "plan",
        cli: plan::cli,
        exec: plan::exec,
    },
    Builtin {
        name: "apply",
        cli: apply::cli,
        exec: apply::exec,
    },
    Builtin {
        name: "rollback",
        cli: rollback::cli,
        exec: rollback::exec,
    },
    Builtin {
        name: "health",
        cli: health::cli,
        exec: health::exec,
    },
    Builtin {
        name: "outcomes",
        cli: outcomes::cli,
        exec: outcomes::exec,
    },
    Builtin {
        name: "guard",
        cli: guard::cli,
        exec: guard::exec,
    },
    Builtin {
        name: "mcp",
        cli: mcp::cli,
        exec: mcp::exec,
    },
    Builtin {
        name: "tune",
        cli: tune::cli,
        exec: tune::exec,
    },
    Builtin {
        name: "draft",
        cli: draft::cli,
        exec: draft::exec,
    },
    Builtin {
        name: "export",
        cli: export::cli,
        exec: export::exec,
    },
    Builtin {
        name: "changed",
        cli: changed::cli,
        exec: changed::exec,
    },
    Builtin {
        name: "emulate",
        cli: emulate::cli,
        exec: emulate::exec,
    },
];

/// Every command path and the operation it calls. `tests/architecture.rs` walks clap's command
/// tree and fails on a command missing here, and checks that the named operation exists in
/// `src/ops/` and is what the command's file calls.
pub const OPERATIONS: &[(&str, &str)] = &[
    ("validate", "ops::validate::validate"),
    ("compile", "ops::compile::compile"),
    ("schema", "ops::schema::schemas"),
    ("schema pull", "ops::schema_pull::schema_pull"),
    ("gate", "ops::gate::gate"),
    ("hash", "ops::hash::hash"),
    ("kql check", "ops::kql_check::check_files"),
    ("query", "ops::query::open"),
    ("test", "ops::test::test"),
    ("dry-run", "ops::dry_run::dry_run"),
    ("sandbox init", "ops::sandbox_init::sandbox_init"),
    ("debug", "ops::debug::debug"),
    ("plan", "ops::plan::plan"),
    ("apply", "ops::apply::apply"),
    ("rollback", "ops::rollback::rollback"),
    ("health", "ops::health::health"),
    ("outcomes", "ops::outcomes::outcomes"),
    ("guard", "ops::guard::guard"),
    ("mcp", "ops::mcp::mcp"),
    ("draft", "ops::draft::draft"),
    ("tune rule", "ops::tune::tune_rule"),
    ("tune anomaly", "ops::tune::tune_anomaly"),
    ("export", "ops::export::export"),
    ("changed", "ops::changed::changed"),
    ("emulate", "ops::emulate::emulate"),
];

const AFTER_HELP: &str = "Examples:\n  \
  vigil validate                          check the whole repository\n  \
  vigil validate detections/ --format github --sarif vigil.sarif\n  \
  vigil compile --out out --env prod      payloads and ARM templates with prod overrides\n  \
  vigil hash detections/rule.yaml         the hash to put in review.query_sha256\n  \
  vigil gate --all --comment c.md --sarif g.sarif --junit g.xml --json g.json\n  \
  vigil schema --write schemas            regenerate the JSON Schemas\n  \
  vigil debug codes                       every diagnostic code\n  \
  vigil emulate &                         a local Sentinel for the `local` environment\n  \
  vigil plan --env local                  what apply would change\n  \
  vigil apply --env local                 deploy; restores everything on failure\n  \
  vigil rollback --env local --to ID      back to the state before deployment ID\n  \
  vigil changed --base origin/main        definitions a branch adds, modifies, deletes\n\n\
  Exit codes: 0 clean, 1 findings or failed, 2 usage or internal error, 3 plan changes\n\
  (with --detailed-exitcode).\n\
  Configuration: vigil.toml at the repository root (see README.md).";

/// The whole command line.
pub fn command() -> Command {
    let c = Command::new("vigil")
        .version(env!("CARGO_PKG_VERSION"))
        .about(env!("CARGO_PKG_DESCRIPTION"))
        .max_term_width(100)
        .subcommand_required(true)
        .arg_required_else_help(true)
        .after_help(AFTER_HELP);
    Global::augment_args(c).subcommands(BUILTIN.iter().map(|b| (b.cli)()))
}

/// The command line as a clap `CommandFactory` (what tests walk).
pub struct Cli;

impl clap::CommandFactory for Cli {
    fn command() -> Command {
        command()
    }
    fn command_for_update() -> Command {
        command()
    }
}

/// Run the command the matches name.
pub fn exec(m: &ArgMatches) -> ExitCode {
    let g = match Global::from_arg_matches(m) {
        Ok(g) => g,
        Err(e) => {
            let _ = e.print();
            return ExitCode::Usage;
        }
    };
    let Some((name, sub)) = m.subcommand() else {
        return ExitCode::Usage;
    };
    match BUILTIN.iter().find(|b| b.name == name) {
        Some(b) => (b.exec)(&g, sub),
        None => ExitCode::Usage,
    }
}

/// A command's typed arguments from its matches.
fn args<T: FromArgMatches>(g: &Global, m: &ArgMatches) -> Result<T, ExitCode> {
    T::from_arg_matches(m).map_err(|e| fail(g, &OpError::usage(e.to_string())))
}
