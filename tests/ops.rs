//! The operations layer called directly, without the CLI (each command's operation, on a copy of
//! the bundled content and on the embedded emulator), plus the two defects the house issue
//! names: partial paths must still know the repository's functions and watchlists, and a
//! broken `vigil.toml` stops every command with a located diagnostic and exit 1.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use vigil::ops::{self, Context, ContextOptions};

/// A copy of the bundled content (with its sandbox data) in a fresh git repository.
fn bundled() -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    let root = common::manifest_dir();
    for dir in [
        "detections",
        "hunts",
        "functions",
        "watchlists",
        "anomalies",
        "sandbox",
    ] {
        common::copy_dir(&root.join(dir), &tmp.path().join(dir));
    }
    std::fs::copy(root.join("vigil.toml"), tmp.path().join("vigil.toml")).unwrap();
    git(tmp.path(), &["init", "-q"]);
    git(tmp.path(), &["add", "-A"]);
    git(
        tmp.path(),
        &[
            "-c",
            "user.name=t",
            "-c",
            "user.email=t@x",
            "commit",
            "-qm",
            "v1",
        ],
    );
    tmp
}

fn git(dir: &Path, args: &[&str]) {
    let st = Command::new("git")
        .args(args)
        .current_dir(dir)
        .status()
        .unwrap();
    assert!(st.success(), "git {args:?}");
}

fn cx(root: &Path) -> Context {
    let mut o = ContextOptions::new(root);
    // The embedded emulator, never one some other test or user left running.
    o.env = std::sync::Arc::new(|k: &str| match k {
        "VIGIL_EMULATOR" => None,
        _ => std::env::var(k).ok(),
    });
    Context::open(o).unwrap()
}

const SPRAY: &str = "detections/entra_password_spray.yaml";
const RARE: &str = "detections/rare_process_high_value_host.yaml";

#[test]
fn partial_paths_still_know_the_repository_functions_and_watchlists() {
    // entra_password_spray calls the repository function vigil_SigninFailures;
    // rare_process_high_value_host reads the HighValueAssets watchlist.
    let tmp = bundled();
    let cx = cx(tmp.path());
    for f in [SPRAY, RARE] {
        let v = ops::validate::validate(
            &cx,
            &ops::validate::ValidateOptions {
                paths: vec![PathBuf::from(f)],
                kql: true,
            },
        )
        .unwrap();
        assert_eq!(v.stats.files, 1, "{f}");
        assert!(
            v.diagnostics.is_empty(),
            "{f}: {:?}",
            v.diagnostics
                .iter()
                .map(|d| (&d.code, &d.message))
                .collect::<Vec<_>>()
        );
        let c = ops::compile::compile(
            &cx,
            &ops::compile::CompileOptions {
                paths: vec![PathBuf::from(f)],
                out: tmp.path().join("out"),
                env: None,
            },
        )
        .unwrap();
        assert_eq!(c.written.items, 1, "{f}");
        assert!(c.diagnostics.iter().all(|d| !d.is_error()), "{f}");
        let t = ops::test::test(
            &cx,
            &ops::test::TestOptions {
                paths: vec![PathBuf::from(f)],
            },
        )
        .unwrap();
        assert!(!t.results.is_empty(), "{f}");
        assert_eq!(t.failed(), 0, "{f}: {:?}", t.results);
        let d = ops::dry_run::dry_run(
            &cx,
            &ops::dry_run::DryRunOptions {
                paths: vec![PathBuf::from(f)],
                ..Default::default()
            },
        )
        .unwrap();
        assert_eq!(d.rules.len(), 1, "{f}");
        assert_eq!(d.rules[0].error, None, "{f}");
    }
    // The same through the CLI, as a pre-commit hook passes one file.
    for args in [
        vec!["validate", SPRAY],
        vec!["compile", SPRAY, "--out", "out2"],
        vec!["test", SPRAY],
        vec!["dry-run", RARE],
    ] {
        let o = Command::new(common::vigil_bin())
            .arg("-C")
            .arg(tmp.path())
            .args(&args)
            .output()
            .unwrap();
        assert_eq!(
            o.status.code(),
            Some(0),
            "{args:?}: {}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        );
    }
}

#[test]
fn each_operation_runs_without_the_cli() {
    let tmp = bundled();
    let root = tmp.path();
    // `vigil health` reads SentinelHealth; no rule has run yet, so every verdict will be
    // "unknown", never "healthy".
    std::fs::write(root.join("sandbox/SentinelHealth.jsonl"), "").unwrap();
    let cx = cx(root);
    // validate, compile, test, dry-run, sandbox init, query, kql check, hash, debug, schema.
    let v = ops::validate::validate(
        &cx,
        &ops::validate::ValidateOptions {
            paths: vec![],
            kql: true,
        },
    )
    .unwrap();
    assert_eq!(v.stats.definitions, 16);
    assert!(v.diagnostics.iter().all(|d| !d.is_error()));
    let c = ops::compile::compile(
        &cx,
        &ops::compile::CompileOptions {
            paths: vec![],
            out: root.join("out"),
            env: Some("prod".into()),
        },
    )
    .unwrap();
    assert_eq!(c.written.items, 16);
    assert!(root.join("out/manifest.json").is_file());
    let t = ops::test::test(&cx, &Default::default()).unwrap();
    assert_eq!((t.results.len(), t.failed()), (17, 0));
    let d = ops::dry_run::dry_run(&cx, &Default::default()).unwrap();
    // The 7 bundled rules and, once each over the window, the 4 hunts.
    assert_eq!(d.rules.len(), 11);
    assert_eq!(d.rules.iter().filter(|r| r.kind == Some("hunt")).count(), 4);
    assert_eq!(d.failed(), 0);
    let s = ops::sandbox_init::sandbox_init(&cx).unwrap();
    assert!(s.tables.iter().any(|(t, n)| t == "SigninLogs" && *n > 0));
    let q = ops::query::open(&cx, &Default::default()).unwrap();
    let r = ops::query::run(&q, "SigninLogs | count").unwrap();
    assert_eq!(r.output.table.rows, 1);
    let line = ops::query::answer_line(&q, r#"{"id": 7, "query": "print x = 1"}"#);
    assert_eq!(line["ok"], true);
    let catalog = ops::kql_check::catalog(&cx, None).unwrap();
    let (_, diags) = ops::kql_check::check_files(
        &cx,
        &[ops::kql_check::QueryInput {
            path: "q.kql".into(),
            text: Some("SigninLogs | where NoSuchColumn == 1".into()),
        }],
        &catalog,
        false,
    )
    .unwrap();
    assert_eq!(diags[0].code.as_str(), "KQL201");
    let h = ops::hash::hash(
        &cx,
        &[ops::hash::HashInput {
            path: SPRAY.into(),
            text: None,
        }],
        false,
    );
    assert_eq!(h[0].hash.as_ref().unwrap().len(), 64);
    let dbg = ops::debug::debug(
        &cx,
        ops::debug::Stage::Payload,
        Some(Path::new(SPRAY)),
        None,
        false,
    )
    .unwrap();
    assert!(dbg.found && dbg.text.contains("alertRules"));
    let schemas = ops::schema::schemas(None).unwrap();
    assert_eq!(schemas.len(), 7);
    assert!(ops::schema::stale(&cx, &common::manifest_dir().join("schemas"), &schemas).is_empty());
    // gate (offline, every definition) and changed.
    let g = ops::gate::gate(
        &cx,
        &ops::gate::GateOptions {
            paths: vec![],
            all: true,
            base: None,
            head: None,
            env: vec![],
            stage: vigil::gate::Stage::Offline,
            evidence: None,
            policy: None,
            pr: None,
            comment: true,
        },
    )
    .unwrap();
    assert!(
        g.passed(),
        "{:?}",
        g.report
            .entries
            .iter()
            .filter(|e| e.verdict != vigil::gate::Status::Pass)
            .map(|e| &e.path)
            .collect::<Vec<_>>()
    );
    assert!(g.comment.unwrap().contains("vigil"));
    assert_eq!(g.audit.lines().count(), 16);
    std::fs::write(
        root.join("detections/new.yaml"),
        std::fs::read_to_string(root.join(SPRAY))
            .unwrap()
            .replace("Password spray", "Password spray two")
            .replace("e3592703", "e3592704"),
    )
    .unwrap();
    let ch = ops::changed::changed(&cx, "HEAD", None).unwrap();
    assert_eq!(ch.added.len(), 1);
    std::fs::remove_file(root.join("detections/new.yaml")).unwrap();
    // The deploy side on the embedded emulator: plan, apply, plan, export, health, rollback,
    // schema pull; and the emulator itself.
    let p = ops::plan::plan(
        &cx,
        &ops::plan::PlanOptions {
            env: "local".into(),
            reference: None,
        },
    )
    .unwrap();
    assert_eq!(p.changes(), 16);
    let a = ops::apply::apply(
        &cx,
        &ops::apply::ApplyOptions {
            env: "local".into(),
            ..Default::default()
        },
    )
    .unwrap();
    assert!(!a.failed());
    let id = a.report.as_ref().unwrap().record.id.clone();
    let p = ops::plan::plan(
        &cx,
        &ops::plan::PlanOptions {
            env: "local".into(),
            reference: None,
        },
    )
    .unwrap();
    assert_eq!(p.changes(), 0);
    let exported = tempfile::tempdir().unwrap();
    let e = ops::export::export(
        &cx,
        &ops::export::ExportOptions {
            env: "local".into(),
            out: exported.path().to_path_buf(),
            update: false,
        },
    )
    .unwrap();
    assert_eq!(e.workspaces[0].files, 19, "16 items, 3 watchlist CSVs");
    let h = ops::health::health(
        &cx,
        &ops::health::HealthOptions {
            env: "local".into(),
            deployment: Some(id.clone()),
            timeout: Duration::from_secs(0),
            interval: Duration::from_secs(1),
        },
    )
    .unwrap();
    assert_eq!(h.deployment, id);
    assert_eq!(h.verdicts.len(), 7);
    assert_eq!(h.count(vigil::deploy::health::HealthStatus::Unknown), 7);
    let pulled = ops::schema_pull::schema_pull(&cx, "local").unwrap();
    assert!(pulled[0].path.is_file());
    let rb = ops::rollback::rollback(
        &cx,
        &ops::rollback::RollbackOptions {
            env: "local".into(),
            to: id,
            ..Default::default()
        },
    )
    .unwrap();
    assert!(!rb.failed());
    let p = ops::plan::plan(
        &cx,
        &ops::plan::PlanOptions {
            env: "local".into(),
            reference: None,
        },
    )
    .unwrap();
    assert_eq!(p.changes(), 16, "rolled back to before the first apply");
    let running = ops::emulate::emulate(
        &cx,
        ops::emulate::EmulateOptions {
            addr: "127.0.0.1:0".into(),
            state: None,
            memory: true,
            faults: Default::default(),
            token: None,
            lro_delay: Duration::from_millis(10),
            schema: None,
            clock: None,
            auto_disable_after: 5,
            data: None,
        },
    )
    .unwrap();
    assert!(running.emulator.url().starts_with("http://127.0.0.1:"));
}

/// Run the binary with a deadline (a command that wrongly went on would otherwise block).
fn run_with_deadline(dir: &Path, args: &[&str]) -> (Option<i32>, String) {
    let mut child = Command::new(common::vigil_bin())
        .arg("-C")
        .arg(dir)
        .args(args)
        .env_remove("VIGIL_EMULATOR")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(_st) = child.try_wait().unwrap() {
            let o = child.wait_with_output().unwrap();
            return (
                o.status.code(),
                String::from_utf8_lossy(&o.stdout).into_owned()
                    + &String::from_utf8_lossy(&o.stderr),
            );
        }
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            return (None, format!("`vigil {}` did not stop", args.join(" ")));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn a_broken_vigil_toml_stops_every_command_at_its_line() {
    let tmp = bundled();
    let root = tmp.path();
    std::fs::write(
        root.join("vigil.toml"),
        "[project]\nid = \"x\"\n[sandbox]\ndays = \"seven\"\n",
    )
    .unwrap();
    std::fs::write(root.join("q.kql"), "print 1").unwrap();
    // One invocation per command of the CLI (tests/architecture.rs keeps this list complete).
    let invocations: Vec<Vec<&str>> = vec![
        vec!["validate"],
        vec!["compile", "--out", "out"],
        vec!["schema", "rule"],
        vec!["schema", "pull", "--env", "local"],
        vec!["gate", "--all"],
        vec!["hash", SPRAY],
        vec!["kql", "check", "q.kql"],
        vec!["query", "print 1"],
        vec!["test"],
        vec!["dry-run"],
        vec!["sandbox", "init"],
        vec!["debug", "model", SPRAY],
        vec!["plan", "--env", "local"],
        vec!["apply", "--env", "local"],
        vec!["rollback", "--env", "local", "--to", "HEAD"],
        vec!["health", "--env", "local", "--timeout", "0"],
        vec!["outcomes", "--env", "local"],
        vec!["guard", "--env", "local"],
        vec!["mcp"],
        vec!["draft", "--hypothesis", "x"],
        vec!["tune", "rule", SPRAY, "--env", "local"],
        vec!["tune", "anomaly", "x", "--env", "local"],
        vec!["export", "--env", "local"],
        vec!["changed", "--base", "HEAD"],
        vec!["emulate", "--addr", "127.0.0.1:0", "--memory"],
    ];
    let mut cli = <vigil::cli::Cli as clap::CommandFactory>::command();
    cli.build();
    for (path, _) in vigil::cli::OPERATIONS {
        let words: Vec<&str> = path.split(' ').collect();
        assert!(
            invocations.iter().any(|i| i.starts_with(&words)),
            "no broken-config case for `vigil {path}`"
        );
    }
    for args in &invocations {
        let (code, out) = run_with_deadline(root, args);
        assert_eq!(code, Some(1), "vigil {}: {out}", args.join(" "));
        assert!(
            out.contains("vigil.toml:4:8") || out.contains("\"line\": 4"),
            "vigil {}: no location: {out}",
            args.join(" ")
        );
        assert!(
            out.contains("sandbox.days"),
            "vigil {}: {out}",
            args.join(" ")
        );
    }
    assert!(
        !root.join("out").exists(),
        "compile wrote output over a broken config"
    );
}
