//! Deploy benchmark: plan + apply of 1,000 changes spread over 10 emulated workspaces with
//! 200 ms injected latency per request, with the default concurrency (8 requests in flight per
//! workspace) and sequentially (1 in flight), through the library as `vigil apply` runs it.
//! Prints figures; `cargo bench --bench deploy` (`-- --quick` skips the sequential run, which
//! takes minutes at 200 ms per request).

use std::time::{Duration, Instant};

use vigil::compile::{compile_one, Options};
use vigil::config::{CompileConfig, Project};
use vigil::deploy::apply::{apply, ApplyOptions};
use vigil::deploy::env::{Auth, Environment, Workspace};
use vigil::deploy::{plan, targets, Session};
use vigil::emulator::{self, Faults};

fn definitions(n: usize) -> (Vec<vigil::compile::Artifact>, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    for i in 0..n {
        let p = dir.path().join(format!("detections/r{i:04}.yaml"));
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(
            p,
            format!(
                "id: 00000000-0000-4000-8000-{i:012}\nname: Rule {i}\ndescription: Benchmark rule.\nseverity: Low\nkind: Scheduled\nqueryFrequency: 1h\nqueryPeriod: 1h\ntriggerOperator: gt\ntriggerThreshold: 0\nquery: |\n  SigninLogs | where ResultType == \"{i}\" | summarize count() by UserPrincipalName\n"
            ),
        )
        .unwrap();
    }
    let ws = vigil::workspace::open(dir.path(), &[]);
    let reader = vigil::model::load::FsReader {
        root: dir.path().to_path_buf(),
    };
    let checked = vigil::pipeline::check_with(&ws, &reader, None, false);
    let config = CompileConfig::default();
    let project = Project::default();
    let rollout = vigil::config::RolloutPolicy::default();
    let opts = Options {
        config: &config,
        project: &project,
        environment: None,
        rollout: &rollout,
    };
    let arts = vigil::pipeline::compilable(&checked)
        .iter()
        .map(|d| compile_one(d, &opts))
        .collect();
    (arts, dir)
}

fn run(concurrency: usize, per_ws: usize, n_ws: usize, latency: Duration) -> (f64, f64, u64) {
    let emu = emulator::start(
        "127.0.0.1:0",
        emulator::Options {
            faults: Faults {
                latency,
                ..Faults::default()
            },
            lro_delay: Duration::from_millis(10),
            ..emulator::Options::default()
        },
    )
    .unwrap();
    let workspaces: Vec<Workspace> = (0..n_ws)
        .map(|i| Workspace {
            name: format!("ws{i}"),
            subscription: "00000000-0000-0000-0000-000000000000".into(),
            resource_group: "bench".into(),
            tenant: None,
            workspace_id: None,
        })
        .collect();
    let env = Environment {
        name: "bench".into(),
        endpoint: emu.url(),
        query_endpoint: emu.url(),
        auth: Auth::None,
        concurrency,
        max_deletions: 0,
        api_versions: Default::default(),
        workspaces: workspaces.clone(),
        emulator: true,
        token_hosts: Vec::new(),
    };
    let root = tempfile::tempdir().unwrap();
    let s = Session::new(
        env,
        root.path().to_path_buf(),
        "vigil:vigil".into(),
        vigil::azure::Credential::None,
    );
    let (arts, _dir) = definitions(per_ws);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let t0 = Instant::now();
    let plans = rt.block_on(async {
        let lives = s.observe_all().await.unwrap();
        workspaces
            .iter()
            .zip(&lives)
            .map(|(w, l)| plan::plan_workspace(w, targets(&arts, w), l, &s.owner))
            .collect::<Vec<_>>()
    });
    let planned = t0.elapsed().as_secs_f64();
    let changes: usize = plans.iter().map(|p| p.changes.len()).sum();
    assert_eq!(changes, per_ws * n_ws);
    let opts = ApplyOptions {
        no_rollback: false,
        max_deletions: 0,
        kind: "apply",
        source: None,
        commit: None,
    };
    let rep = rt.block_on(apply(&s, &plans, &opts));
    assert!(rep.error.is_none(), "{:?}", rep.error);
    let total = t0.elapsed().as_secs_f64();
    (planned, total, s.arm.stats.snapshot()[0])
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let latency = Duration::from_millis(200);
    println!(
        "deploy benchmark: 1,000 changes (100 rules x 10 workspaces), 200 ms latency per request"
    );
    let (p, t, reqs) = run(8, 100, 10, latency);
    println!(
        "  concurrent (8 in flight per workspace, 80 total): plan {p:.1} s, plan + apply {t:.1} s, {reqs} requests  [goal <= 30 s]"
    );
    if quick {
        println!("  sequential: skipped (--quick)");
        return;
    }
    if std::env::args().any(|a| a == "--full") {
        // The same 1,000 changes, one request in flight in all: the 10 workspaces one after
        // the other, each with concurrency 1 (about 10 minutes at 200 ms a request).
        let (mut p2, mut t2, mut reqs2) = (0.0, 0.0, 0);
        for _ in 0..10 {
            let (p, t, r) = run(1, 100, 1, latency);
            p2 += p;
            t2 += t;
            reqs2 += r;
        }
        println!(
            "  sequential (1 in flight in all), 10 workspaces x 100 changes, run in full: plan {p2:.1} s, plan + apply {t2:.1} s, {reqs2} requests; concurrent is {:.1}x faster",
            t2 / t
        );
        return;
    }
    // By default measure one workspace (100 changes, 1 request in flight) and scale by 10;
    // `-- --full` runs all 10.
    let (p, t1, reqs) = run(1, 100, 1, latency);
    println!(
        "  sequential (1 in flight), 1 workspace x 100 changes: plan {p:.1} s, plan + apply {t1:.1} s, {reqs} requests; x10 workspaces = {:.0} s (estimate; `-- --full` runs it)",
        t1 * 10.0
    );
}
