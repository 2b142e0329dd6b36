//! `vigil test`, `vigil dry-run` and `vigil sandbox init`: the content run offline on the
//! embedded engine.

use std::path::PathBuf;

use clap::{Args, Subcommand};

use super::Global;
use crate::dryrun::{self, alerts, TestFile};
use crate::model::{Definition, Item};
use crate::sandbox::{self, SandboxConfig};
use crate::workspace::Workspace;

#[derive(Args, Debug)]
pub struct TestArgs {
    /// Definitions to test (default: all).
    pub paths: Vec<PathBuf>,
    /// Also write JUnit XML to FILE.
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
    /// Also write the results as JSON to FILE.
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
}

#[derive(Args, Debug)]
pub struct DryRunArgs {
    /// Definitions to dry-run (default: all rules).
    pub paths: Vec<PathBuf>,
    /// Where to run: `local` (the embedded engine over the sandbox folder). Workspaces of an
    /// environment are not supported yet.
    #[arg(long, default_value = "local")]
    pub sandbox: String,
    /// Show sample alerts (they can carry log data).
    #[arg(long)]
    pub samples: bool,
    /// Also write the report as JSON to FILE.
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
}

#[derive(Args, Debug)]
pub struct SandboxArgs {
    #[command(subcommand)]
    pub command: SandboxCommand,
}

#[derive(Subcommand, Debug)]
pub enum SandboxCommand {
    /// Generate seeded sample data for every table the content references.
    Init,
}

struct Loaded {
    ws: Workspace,
    defs: Vec<Definition>,
    cfg: SandboxConfig,
}

fn load(g: &Global, paths: &[PathBuf]) -> anyhow::Result<(Loaded, Vec<Definition>)> {
    let root = g.root()?;
    let ws = crate::workspace::open(&root, &[]);
    let cfg = SandboxConfig::from_toml(ws.config.sandbox.as_ref())
        .map_err(|e| anyhow::anyhow!("vigil.toml: {e}"))?;
    let reader = crate::model::load::FsReader { root: root.clone() };
    let checked = crate::pipeline::check(&ws, &reader, None);
    let selected: Vec<Definition> = if paths.is_empty() {
        checked.definitions.clone()
    } else {
        let want = g.paths(paths)?;
        checked
            .definitions
            .iter()
            .filter(|d| {
                let abs = root.join(&d.path);
                want.iter().any(|w| abs.starts_with(w))
            })
            .cloned()
            .collect()
    };
    Ok((
        Loaded {
            ws,
            defs: checked.definitions,
            cfg,
        },
        selected,
    ))
}

pub fn test(g: &Global, a: TestArgs) -> anyhow::Result<i32> {
    let (l, selected) = load(g, &a.paths)?;
    let mut results = Vec::new();
    let mut untested = Vec::new();
    for d in &selected {
        if !matches!(d.item, Item::Rule(_)) {
            continue;
        }
        let tf = dryrun::tests_path(&l.ws.root.join(&d.path));
        if !tf.is_file() {
            untested.push(d.path.display().to_string());
            continue;
        }
        match dryrun::read_tests(&tf) {
            Ok(tests) => results.extend(dryrun::run_rule_tests(
                d,
                &tests,
                &tf,
                &l.defs,
                l.cfg.now,
                l.ws.config.schemas.as_ref(),
            )),
            Err(e) => results.push(dryrun::CaseResult {
                definition: d.name().to_string(),
                file: tf.display().to_string(),
                name: "(tests file)".into(),
                passed: false,
                failures: vec![e],
                alerts: 0,
                rows: 0,
                seconds: 0.0,
            }),
        }
    }
    let failed = results.iter().filter(|r| !r.passed).count();
    let mut text = String::new();
    for r in &results {
        if r.passed && g.quiet {
            continue;
        }
        text.push_str(&format!(
            "{} {} :: {} ({} alert(s), {} row(s))\n",
            if r.passed { "ok  " } else { "FAIL" },
            r.definition,
            r.name,
            r.alerts,
            r.rows
        ));
        for f in &r.failures {
            text.push_str(&format!("       {f}\n"));
        }
    }
    if !g.quiet {
        for u in &untested {
            text.push_str(&format!("note: no tests for {u}\n"));
        }
    }
    text.push_str(&format!(
        "{} test(s), {} passed, {} failed\n",
        results.len(),
        results.len() - failed,
        failed
    ));
    super::out(&text)?;
    if let Some(p) = &a.junit {
        std::fs::write(p, dryrun::junit(&results))?;
    }
    if let Some(p) = &a.json {
        std::fs::write(p, serde_json::to_string_pretty(&results)? + "\n")?;
    }
    Ok(if failed > 0 { 1 } else { 0 })
}

pub fn dry_run(g: &Global, a: DryRunArgs) -> anyhow::Result<i32> {
    if a.sandbox != "local" {
        anyhow::bail!(
            "not supported yet: --sandbox {} (dry-runs against a workspace's query API); use --sandbox local",
            a.sandbox
        );
    }
    let (l, selected) = load(g, &a.paths)?;
    let dir = l.ws.root.join(&l.cfg.data);
    if !dir.is_dir() {
        anyhow::bail!(
            "no sandbox data in {}: run `vigil sandbox init` first",
            dir.display()
        );
    }
    let sb = sandbox::for_definitions(&dir, &l.defs, l.ws.config.schemas.as_ref());
    let (start, end) = l.cfg.window();
    let days = l.cfg.days as f64;
    let mut text = String::new();
    let mut over_budget = 0;
    let mut errors = 0;
    let mut report = Vec::new();
    for d in &selected {
        let Item::Rule(rule) = &d.item else { continue };
        let started = std::time::Instant::now();
        match alerts::simulate(rule, &sb, start, end) {
            Err(e) => {
                errors += 1;
                text.push_str(&format!("ERROR {}: {}\n", d.name(), e.message));
                report.push(serde_json::json!({"definition": d.name(), "error": e.message, "unsupported": e.unsupported}));
            }
            Ok(runs) => {
                let alerts: usize = runs.iter().map(|r| r.alerts.len()).sum();
                let firing = runs.iter().filter(|r| !r.alerts.is_empty()).count();
                let rows: usize = runs.iter().map(|r| r.rows).sum();
                let scanned: u64 = runs.iter().map(|r| r.rows_scanned).sum();
                let per_day = alerts as f64 / days;
                let flag = per_day > l.cfg.alert_budget_per_day;
                if flag {
                    over_budget += 1;
                }
                text.push_str(&format!(
                    "{} {}: {} runs, {} firing, {} alerts ({:.1}/day{}), {} result rows, {} rows scanned, {:.0} ms\n",
                    if flag { "OVER" } else { "ok  " },
                    d.name(),
                    runs.len(),
                    firing,
                    alerts,
                    per_day,
                    if flag { format!(", budget {}", l.cfg.alert_budget_per_day) } else { String::new() },
                    rows,
                    scanned,
                    started.elapsed().as_secs_f64() * 1000.0
                ));
                if a.samples {
                    for r in runs.iter().filter(|r| !r.alerts.is_empty()).take(3) {
                        for al in r.alerts.iter().take(2) {
                            text.push_str(&format!(
                                "       {} {} entities={}\n",
                                r.at,
                                al.display_name,
                                serde_json::Value::Array(al.entities.clone())
                            ));
                        }
                    }
                }
                report.push(serde_json::json!({
                    "definition": d.name(), "runs": runs.len(), "firing_runs": firing, "alerts": alerts,
                    "alerts_per_day": per_day, "over_budget": flag, "result_rows": rows, "rows_scanned": scanned,
                    "firing_at": runs.iter().filter(|r| !r.alerts.is_empty()).map(|r| r.at.clone()).collect::<Vec<_>>(),
                }));
            }
        }
    }
    super::out(&text)?;
    if let Some(p) = &a.json {
        std::fs::write(p, serde_json::to_string_pretty(&report)? + "\n")?;
    }
    Ok(if errors > 0 || over_budget > 0 { 1 } else { 0 })
}

pub fn sandbox(g: &Global, a: SandboxArgs) -> anyhow::Result<i32> {
    match a.command {
        SandboxCommand::Init => {
            let (l, _) = load(g, &[])?;
            let defs: Vec<(Definition, Option<TestFile>)> = l
                .defs
                .iter()
                .map(|d| {
                    let tf = dryrun::tests_path(&l.ws.root.join(&d.path));
                    let tests = tf.is_file().then(|| dryrun::read_tests(&tf).ok()).flatten();
                    (d.clone(), tests)
                })
                .collect();
            let data =
                dryrun::generate::generate(&l.ws.root, &defs, l.cfg.now, l.cfg.days, l.cfg.seed);
            let dir = l.ws.root.join(&l.cfg.data);
            std::fs::create_dir_all(&dir)?;
            let mut text = String::new();
            for (table, rows) in &data {
                let p = dir.join(format!("{table}.jsonl"));
                crate::emit::write_file(&p, &dryrun::generate::to_jsonl(rows))?;
                text.push_str(&format!("{table}: {} rows\n", rows.len()));
            }
            text.push_str(&format!(
                "wrote {} table(s) to {}\n",
                data.len(),
                dir.display()
            ));
            super::out(&text)?;
            Ok(0)
        }
    }
}
