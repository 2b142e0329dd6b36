//! The workflows in `.github/workflows/` and the composite `action.yml` run vigil commands;
//! every subcommand they name must exist in the CLI, or be on the explicit list of commands
//! other streams are building (printed, so it is never forgotten).

mod common;

use clap::CommandFactory;
use vigil::source::FileId;
use vigil::yaml::{self, Kind, Node};

/// Documented product commands that workflows use before they exist (issues 4 and 5). Remove an
/// entry when its command lands: the test fails while a listed command exists.
const PENDING: &[&str] = &[];
/// Global flags that take a value before the subcommand.
const VALUE_FLAGS: &[&str] = &["-C", "--root", "--color"];

fn run_scripts(node: &Node, out: &mut Vec<String>) {
    match &node.kind {
        Kind::Map(entries) => {
            for e in entries {
                if e.key == "run" {
                    if let Some(s) = e.value.as_scalar() {
                        out.push(s.text.clone());
                    }
                }
                run_scripts(&e.value, out);
            }
        }
        Kind::Seq(items) => items.iter().for_each(|i| run_scripts(i, out)),
        _ => {}
    }
}

/// The vigil subcommands a shell script runs (`vigil [-C DIR] [--flags] SUBCOMMAND ...`).
fn subcommands(script: &str) -> Vec<String> {
    let joined = script.replace("\\\n", " ");
    let mut out = Vec::new();
    for line in joined.lines() {
        let tokens: Vec<String> = line
            .split_whitespace()
            .map(|t| t.trim_matches(|c| c == '"' || c == '\'').to_string())
            .collect();
        for (i, t) in tokens.iter().enumerate() {
            if t != "vigil" && !t.ends_with("/vigil") {
                continue;
            }
            let mut j = i + 1;
            while let Some(next) = tokens.get(j) {
                if VALUE_FLAGS.contains(&next.as_str()) {
                    j += 2;
                } else if next.starts_with('-') {
                    j += 1;
                } else {
                    break;
                }
            }
            if let Some(sub) = tokens.get(j) {
                let is_word =
                    sub.chars().all(|c| c.is_ascii_lowercase() || c == '-') && !sub.is_empty();
                if is_word {
                    out.push(sub.clone());
                }
            }
        }
    }
    out
}

#[test]
fn every_vigil_subcommand_in_workflows_exists_or_is_pending() {
    let root = common::manifest_dir();
    let mut files: Vec<_> = std::fs::read_dir(root.join(".github/workflows"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "yml" || x == "yaml"))
        .collect();
    files.sort();
    files.push(root.join("action.yml"));
    for f in [
        "pr.yml",
        "release.yml",
        "rollback.yml",
        "drift.yml",
        "guard.yml",
    ] {
        assert!(files.iter().any(|p| p.ends_with(f)), "missing workflow {f}");
    }
    let cli = vigil::cli::Cli::command();
    let known: Vec<String> = cli
        .get_subcommands()
        .map(|s| s.get_name().to_string())
        .collect();
    for p in PENDING {
        assert!(
            !known.contains(&p.to_string()),
            "`vigil {p}` exists now: remove it from PENDING in tests/workflows.rs"
        );
    }
    let mut used_pending = std::collections::BTreeSet::new();
    let mut total = 0;
    for path in &files {
        let text = std::fs::read_to_string(path).unwrap();
        let parsed = yaml::parse(FileId::default(), &text);
        assert!(
            parsed.diagnostics.is_empty(),
            "{} does not parse: {:?}",
            path.display(),
            parsed.diagnostics
        );
        let root_node = parsed.root.expect("a YAML document");
        assert!(
            root_node.get("name").is_some(),
            "{} has no name",
            path.display()
        );
        let mut scripts = Vec::new();
        run_scripts(&root_node, &mut scripts);
        for s in &scripts {
            for sub in subcommands(s) {
                total += 1;
                if PENDING.contains(&sub.as_str()) {
                    used_pending.insert(sub);
                    continue;
                }
                assert!(
                    known.contains(&sub),
                    "{} runs `vigil {sub}`, which is neither a command ({}) nor pending",
                    path.display(),
                    known.join(", ")
                );
            }
        }
    }
    assert!(total > 0, "no vigil command found in the workflows");
    println!(
        "workflows reference {total} vigil commands; not yet in the CLI (pending): {}",
        used_pending.into_iter().collect::<Vec<_>>().join(", ")
    );
}

#[test]
fn the_extractor_reads_global_flags_and_ignores_other_uses() {
    assert_eq!(
        subcommands("vigil -C pr gate --all \\\n  --stage trusted"),
        ["gate"]
    );
    assert_eq!(
        subcommands("\"$dest/vigil\" --version\ncargo install --git x vigil\nvigil validate"),
        ["validate"]
    );
    assert!(subcommands("vigil $VIGIL_ARGS").is_empty());
    let cli = vigil::cli::Cli::command();
    assert_eq!(
        invocations(
            "vigil -C pr gate --base \"$B\" --bogus=1 > out.md --not-a-flag",
            &cli
        ),
        [(
            vec!["gate".to_string()],
            vec!["--base".to_string(), "--bogus".to_string()]
        )]
    );
    assert_eq!(
        invocations("vigil kql check --jsonl", &cli)[0].0,
        ["kql", "check"]
    );
}

#[test]
fn the_trusted_job_never_checks_out_fork_code_to_run_it() {
    // pull_request_target runs with the base repository's token: the job must build vigil from
    // the base checkout and read the pull request only as data.
    let text =
        std::fs::read_to_string(common::manifest_dir().join(".github/workflows/pr.yml")).unwrap();
    let parsed = yaml::parse(FileId::default(), &text);
    let root = parsed.root.unwrap();
    let trusted = root.get("jobs").and_then(|j| j.get("trusted")).unwrap();
    let mut scripts = Vec::new();
    run_scripts(trusted, &mut scripts);
    let all = scripts.join("\n");
    assert!(all.contains("cargo install --locked --path base"), "{all}");
    assert!(
        !all.contains("--path pr") && !all.contains("cd pr"),
        "{all}"
    );
    // Paths are relative to `-C pr`: the policy comes from the base checkout beside it.
    assert!(all.contains("--policy ../base/vigil.toml"), "{all}");
}

/// Each vigil invocation of a script: the subcommand path (`["kql", "check"]`) and the long
/// flags given after it.
fn invocations(script: &str, cli: &clap::Command) -> Vec<(Vec<String>, Vec<String>)> {
    let joined = script.replace("\\\n", " ");
    let mut out = Vec::new();
    for line in joined.lines() {
        let tokens: Vec<String> = line
            .split_whitespace()
            .map(|t| t.trim_matches(|c| c == '"' || c == '\'').to_string())
            .collect();
        for (i, t) in tokens.iter().enumerate() {
            if t != "vigil" && !t.ends_with("/vigil") {
                continue;
            }
            let mut j = i + 1;
            while let Some(next) = tokens.get(j) {
                if VALUE_FLAGS.contains(&next.as_str()) {
                    j += 2;
                } else if next.starts_with('-') {
                    j += 1;
                } else {
                    break;
                }
            }
            let mut cmd = cli;
            let mut path = Vec::new();
            while let Some(sub) = tokens.get(j).and_then(|s| cmd.find_subcommand(s.as_str())) {
                path.push(sub.get_name().to_string());
                cmd = sub;
                j += 1;
            }
            if path.is_empty() {
                continue;
            }
            let flags = tokens[j..]
                .iter()
                .take_while(|t| !matches!(t.as_str(), ">" | ">>" | "|" | "||" | "&&" | ";"))
                .filter(|t| t.starts_with("--"))
                .map(|t| t.split('=').next().unwrap_or(t).to_string())
                .collect();
            out.push((path, flags));
        }
    }
    out
}

#[test]
fn every_flag_a_workflow_passes_exists_on_its_command() {
    let root = common::manifest_dir();
    let mut files: Vec<_> = std::fs::read_dir(root.join(".github/workflows"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "yml" || x == "yaml"))
        .collect();
    files.sort();
    let mut cli = vigil::cli::Cli::command();
    cli.build();
    let globals: Vec<String> = cli
        .get_arguments()
        .filter_map(|a| a.get_long().map(|l| format!("--{l}")))
        .collect();
    let mut checked = 0;
    for path in &files {
        let text = std::fs::read_to_string(path).unwrap();
        let root_node = yaml::parse(FileId::default(), &text).root.unwrap();
        let mut scripts = Vec::new();
        run_scripts(&root_node, &mut scripts);
        for s in &scripts {
            for (sub, flags) in invocations(s, &cli) {
                let mut cmd = &cli;
                for name in &sub {
                    cmd = cmd.find_subcommand(name).unwrap();
                }
                let known: Vec<String> = cmd
                    .get_arguments()
                    .filter_map(|a| a.get_long().map(|l| format!("--{l}")))
                    .chain(globals.iter().cloned())
                    .chain(["--help".to_string()])
                    .collect();
                for f in flags {
                    checked += 1;
                    assert!(
                        known.contains(&f),
                        "{} runs `vigil {} {f}`, which `vigil {} --help` does not list ({})",
                        path.display(),
                        sub.join(" "),
                        sub.join(" "),
                        known.join(" ")
                    );
                }
            }
        }
    }
    assert!(checked > 20, "only {checked} flags found in the workflows");
}

/// The guard workflow acts with production credentials: it must run from the default branch
/// only (never on a pull request event) and check the default branch out explicitly, so the
/// environments and `[policy.guard]` it uses are the default branch's.
#[test]
fn the_guard_workflow_takes_its_configuration_from_the_default_branch_only() {
    let root = common::manifest_dir();
    let text = std::fs::read_to_string(root.join(".github/workflows/guard.yml")).unwrap();
    let doc = yaml::parse(FileId::default(), &text).root.unwrap();
    let on = doc.get("on").unwrap();
    let triggers: Vec<&str> = on
        .as_map()
        .unwrap()
        .iter()
        .map(|e| e.key.as_str())
        .collect();
    assert_eq!(
        triggers,
        ["schedule", "workflow_dispatch"],
        "no pull_request trigger"
    );
    let job = doc.get("jobs").unwrap().get("guard").unwrap();
    let cond = job.get("if").and_then(|n| n.as_scalar()).unwrap();
    assert!(
        cond.text.contains("github.event.repository.default_branch"),
        "{}",
        cond.text
    );
    let steps = job.get("steps").unwrap().as_seq().unwrap();
    let checkout = steps
        .iter()
        .find(|s| {
            s.get("uses")
                .and_then(|u| u.as_scalar())
                .is_some_and(|u| u.text.starts_with("actions/checkout"))
        })
        .unwrap();
    let with = checkout.get("with").unwrap();
    assert_eq!(
        with.get("ref").unwrap().as_scalar().unwrap().text,
        "${{ github.event.repository.default_branch }}"
    );
    assert!(text.contains("vigil guard --env prod --apply"));
}
