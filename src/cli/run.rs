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
    /// Where to run: `local` (the embedded engine over the sandbox folder), or an environment
    /// of vigil.toml (its first workspace, through the Log Analytics query API); `env:local`
    /// is the environment that points at `vigil emulate`.
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
            Err(e) => results.push(dryrun::CaseResult::unreadable(d.name(), &tf, e)),
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
    let (l, selected) = load(g, &a.paths)?;
    if a.sandbox != "local" {
        return dry_run_remote(g, &a, &l, &selected);
    }
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

/// A typed engine table from a query API answer, for the alert logic.
fn api_table(t: &crate::azure::query::Table) -> crate::engine::Table {
    use crate::engine::value::{Type, Value};
    let cols = t
        .columns
        .iter()
        .enumerate()
        .map(|(i, (name, ty))| {
            let ty = Type::parse(ty);
            let data = t
                .rows
                .iter()
                .map(|r| {
                    let v = r.get(i).cloned().unwrap_or(serde_json::Value::Null);
                    let v = match v {
                        serde_json::Value::String(s) => Value::string(s),
                        serde_json::Value::Null => Value::Null,
                        other => Value::dynamic(other).unwrap_dynamic(),
                    };
                    v.cast(ty)
                })
                .collect();
            crate::engine::Column::new(name.clone(), ty, data)
        })
        .collect();
    crate::engine::Table::new(cols)
}

/// `dry-run --sandbox ENV`: the same runs through the Log Analytics query API of the
/// environment's first workspace (each run is one query with the run's timespan). NRT rules
/// are replayed as hourly runs there, to keep the request count reasonable.
fn dry_run_remote(
    g: &Global,
    a: &DryRunArgs,
    l: &Loaded,
    selected: &[Definition],
) -> anyhow::Result<i32> {
    use crate::engine::value::{format_datetime, HOUR};
    let getenv = |k: &str| std::env::var(k).ok();
    // `env:NAME` names an environment explicitly (the emulator's environment is called `local`,
    // like the embedded sandbox).
    let name = a.sandbox.strip_prefix("env:").unwrap_or(&a.sandbox);
    let mut env = crate::deploy::env::resolve(&l.ws.config, name, &l.ws.root, &getenv)
        .map_err(|e| anyhow::anyhow!("--sandbox {}: {e}", a.sandbox))?;
    super::deploy::ensure_emulator(g, &l.ws.root, &mut env)?;
    let credential = match env.auth {
        crate::deploy::env::Auth::None => crate::azure::Credential::None,
        crate::deploy::env::Auth::Azure => crate::azure::auth::from_env(&getenv)
            .map_err(|m| anyhow::anyhow!("--sandbox {}: {m}", a.sandbox))?,
    };
    let Some(ws) = env.workspaces.first() else {
        anyhow::bail!("--sandbox {}: the environment has no workspace", a.sandbox);
    };
    let workspace_id = match &ws.workspace_id {
        Some(id) => id.clone(),
        None if env.emulator => {
            crate::emulator::workspace_guid(&ws.subscription, &ws.resource_group, &ws.name)
        }
        None => anyhow::bail!(
            "--sandbox {}: dry-runs need the workspace id (customer id) of {}",
            a.sandbox,
            ws.label()
        ),
    };
    let client = crate::azure::Client::new(
        &env.query_endpoint,
        crate::azure::query::SCOPE,
        credential,
        env.concurrency.max(1),
        crate::azure::RetryPolicy::default(),
    );
    let end = if env.emulator {
        l.cfg.now
    } else {
        let secs = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0);
        (secs / 60) * 60 * crate::engine::value::SECOND
            + crate::engine::value::parse_datetime("1970-01-01").unwrap_or(0)
    };
    let start = end - l.cfg.days * 24 * HOUR;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let mut text = String::new();
    let mut report = Vec::new();
    let mut failed = 0;
    for d in selected {
        let Item::Rule(rule) = &d.item else { continue };
        let (mut freq, mut period) = alerts::schedule(rule);
        if freq < HOUR && period < HOUR {
            freq = HOUR;
            period = HOUR;
        }
        let mut at = end;
        let mut ends = Vec::new();
        while at > start {
            ends.push(at);
            at -= freq;
        }
        ends.reverse();
        let (mut alerts_n, mut firing, mut rows, mut error) = (0usize, 0usize, 0usize, None);
        for at in &ends {
            let span = format!("{}/{}", format_datetime(at - period), format_datetime(*at));
            match rt.block_on(crate::azure::query::query(
                &client,
                &workspace_id,
                &rule.query,
                Some(&span),
                true,
            )) {
                Ok(res) => {
                    if let Some(p) = res.partial_error {
                        error = Some(format!("partial result: {p}"));
                        break;
                    }
                    let t = res.tables.first().map(api_table).unwrap_or_default();
                    rows += t.rows;
                    let al = alerts::alerts_for(rule, &t);
                    if !al.is_empty() {
                        firing += 1;
                    }
                    alerts_n += al.len();
                }
                Err(e) => {
                    error = Some(e.to_string());
                    break;
                }
            }
        }
        match error {
            Some(e) => {
                failed += 1;
                text.push_str(&format!("ERROR {}: {e}\n", d.name()));
                report.push(serde_json::json!({"definition": d.name(), "error": e}));
            }
            None => {
                let per_day = alerts_n as f64 / l.cfg.days as f64;
                let flag = per_day > l.cfg.alert_budget_per_day;
                if flag {
                    failed += 1;
                }
                text.push_str(&format!(
                    "{} {}: {} runs on {}, {} firing, {} alerts ({:.1}/day), {} result rows\n",
                    if flag { "OVER" } else { "ok  " },
                    d.name(),
                    ends.len(),
                    ws.label(),
                    firing,
                    alerts_n,
                    per_day,
                    rows
                ));
                report.push(serde_json::json!({"definition": d.name(), "runs": ends.len(), "firing_runs": firing,
                    "alerts": alerts_n, "alerts_per_day": per_day, "over_budget": flag, "result_rows": rows}));
            }
        }
    }
    let _ = g;
    super::out(&text)?;
    if let Some(p) = &a.json {
        std::fs::write(p, serde_json::to_string_pretty(&report)? + "\n")?;
    }
    Ok(if failed > 0 { 1 } else { 0 })
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
