//! Deploy end to end against the emulator (in-process, ephemeral loopback port), with the vigil
//! binary as a child process: plan → apply → plan is empty, drift, deletions and ownership,
//! max deletions, rollback exactness, export round trip, changed, the query endpoint, and
//! secrets never printed.

mod deploy_support;

use deploy_support::*;
use serde_json::json;
use vigil::emulator::Faults;

fn base_repo() -> Repo {
    let r = repo(CONFIG);
    r.write(
        "detections/r1.yaml",
        &rule(
            &guid(1),
            "Rule one",
            "SigninLogs | where ResultType == \"50126\" | summarize count() by UserPrincipalName",
        ),
    );
    r.write(
        "detections/r2.yaml",
        &rule(
            &guid(2),
            "Rule two",
            "SigninLogs | where ResultType == \"50053\" | summarize count() by UserPrincipalName",
        ),
    );
    r.write("hunts/h1.yaml", &hunt(&guid(3), "Hunt one"));
    r.write("functions/f1.yaml", &function(&guid(4), "vigil_Failed"));
    r.write("watchlists/wl.yaml", &watchlist("wl"));
    r.write("watchlists/wl.csv", "ip,label\n10.0.0.1,a\n10.0.0.2,b\n");
    r
}

/// A portal edit: the owned rule `guid(n)`'s severity set to `severity` directly through ARM.
/// Returns the rule's ARM path.
fn portal_edit_severity(
    s: &vigil::deploy::Session,
    rt: &tokio::runtime::Runtime,
    n: u32,
    severity: &str,
) -> String {
    let ws = vigil::deploy::env::local_workspace();
    let path = format!(
        "{}/providers/Microsoft.SecurityInsights/alertRules/{}",
        ws.path(),
        guid(n)
    );
    let mut live = rt
        .block_on(s.arm.get(&path, "2025-07-01-preview"))
        .unwrap()
        .body;
    live["properties"]["severity"] = json!(severity);
    live["properties"]
        .as_object_mut()
        .unwrap()
        .remove("lastModifiedUtc");
    rt.block_on(s.arm.put(&path, "2025-07-01-preview", &live))
        .unwrap();
    path
}

#[test]
fn plan_apply_plan_is_empty_and_rollback_is_exact() {
    let r = base_repo();
    r.commit("v1");
    let emu = emulator(None, Faults::default());
    let url = emu.url();
    let p = plan_json(r.path(), &url);
    assert_eq!(totals(&p), (5, 0, 0, 0), "{p:#}");
    let o = vigil(
        r.path(),
        &url,
        &["plan", "--env", "local", "--detailed-exitcode"],
        &[],
    );
    assert_eq!(o.status.code(), Some(3), "{}", text(&o));
    let o = vigil(r.path(), &url, &["apply", "--env", "local"], &[]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let first = snapshot(&url);
    assert_eq!(first.len(), 10, "5 resources and 5 metadata: {first:#?}");
    let o = vigil(
        r.path(),
        &url,
        &["plan", "--env", "local", "--detailed-exitcode"],
        &[],
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));

    // Change one rule, delete another, add a watchlist row: a second deployment.
    r.write(
        "detections/r1.yaml",
        &rule(&guid(1), "Rule one", "SigninLogs | where ResultType == \"50126\" | where AppDisplayName has \"Portal\" | summarize count() by UserPrincipalName"),
    );
    r.remove("detections/r2.yaml");
    r.write(
        "watchlists/wl.csv",
        "ip,label\n10.0.0.1,a\n10.0.0.2,b\n10.0.0.3,c\n",
    );
    r.write("detections/r5.yaml", &rule(&guid(5), "Rule five", "SecurityEvent | where EventID == 4625 | summarize count() by Account | extend UserPrincipalName = Account"));
    let p = plan_json(r.path(), &url);
    assert_eq!(totals(&p), (1, 2, 1, 0), "{p:#}");
    let fields: Vec<String> = p["workspaces"][0]["changes"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|c| c["fields"].as_array().unwrap().iter())
        .map(|f| f["path"].as_str().unwrap().to_string())
        .collect();
    assert!(
        fields.contains(&"properties.query".to_string()),
        "{fields:?}"
    );
    assert!(fields.contains(&"items".to_string()), "{fields:?}");
    let o = vigil(
        r.path(),
        &url,
        &["apply", "--env", "local", "--json", "apply.json"],
        &[],
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let second = snapshot(&url);
    assert_ne!(first, second);
    let rep: serde_json::Value =
        serde_json::from_slice(&std::fs::read(r.path().join("apply.json")).unwrap()).unwrap();
    let id = rep["deployment"].as_str().unwrap().to_string();

    // Rollback to that deployment: exactly the state before it.
    let o = vigil(
        r.path(),
        &url,
        &["rollback", "--env", "local", "--to", &id],
        &[],
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert_eq!(snapshot(&url), first);

    // From a fresh clone (no local records): the records live in the workspace.
    let clone = tempfile::tempdir().unwrap();
    let st = std::process::Command::new("git")
        .args(["clone", "-q"])
        .arg(r.path())
        .arg(clone.path())
        .status()
        .unwrap();
    assert!(st.success());
    assert!(!clone.path().join(".vigil").exists());
    // Roll forward again, then back from the clone.
    let o = vigil(
        r.path(),
        &url,
        &["apply", "--env", "local", "--json", "apply2.json"],
        &[],
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert_eq!(snapshot(&url), second);
    let rep: serde_json::Value =
        serde_json::from_slice(&std::fs::read(r.path().join("apply2.json")).unwrap()).unwrap();
    let id2 = rep["deployment"].as_str().unwrap().to_string();
    let o = vigil(
        clone.path(),
        &url,
        &["rollback", "--env", "local", "--to", &id2],
        &[],
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert_eq!(snapshot(&url), first);

    // Rollback to a ref: the content of v1 (no lints or policy), deleting what was added since.
    let o = vigil(r.path(), &url, &["apply", "--env", "local"], &[]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let o = vigil(
        r.path(),
        &url,
        &["rollback", "--env", "local", "--to", "main"],
        &[],
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let back = snapshot(&url);
    assert_eq!(
        back.keys().collect::<Vec<_>>(),
        first.keys().collect::<Vec<_>>()
    );
    for (k, v) in &first {
        if !k.starts_with("meta:") {
            assert_eq!(&back[k], v, "{k}");
        }
    }
}

#[test]
fn drift_unmanaged_and_ownership() {
    let r = base_repo();
    let emu = emulator(None, Faults::default());
    let url = emu.url();
    let o = vigil(r.path(), &url, &["apply", "--env", "local"], &[]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let s = session(&url);
    let rt = rt();
    // A portal edit of an owned rule, and a rule nobody owns.
    let path = portal_edit_severity(&s, &rt, 1, "High");
    let live = rt
        .block_on(s.arm.get(&path, "2025-07-01-preview"))
        .unwrap()
        .body;
    let mut foreign = live.clone();
    foreign.as_object_mut().unwrap().remove("etag");
    foreign["properties"]["displayName"] = json!("Portal rule");
    let fpath = path.replace(&guid(1), "portal-rule");
    rt.block_on(s.arm.put(&fpath, "2025-07-01-preview", &foreign))
        .unwrap();
    let p = plan_json(r.path(), &url);
    assert_eq!(totals(&p), (0, 1, 0, 1), "{p:#}");
    assert_eq!(p["totals"]["unmanaged"], 1);
    let ch = &p["workspaces"][0]["changes"][0];
    assert_eq!(ch["drift"], true);
    assert_eq!(ch["fields"][0]["path"], "properties.severity");
    let md = vigil(
        r.path(),
        &url,
        &["plan", "--env", "local", "--format", "markdown"],
        &[],
    );
    let md = String::from_utf8_lossy(&md.stdout).to_string();
    assert!(md.contains("changed in the portal"), "{md}");
    // Apply reverts the drift; the unowned rule survives even when every file is removed.
    let o = vigil(r.path(), &url, &["apply", "--env", "local"], &[]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert_eq!(totals(&plan_json(r.path(), &url)), (0, 0, 0, 0));
    for f in ["detections/r1.yaml", "detections/r2.yaml", "hunts/h1.yaml"] {
        r.remove(f);
    }
    let p = plan_json(r.path(), &url);
    assert_eq!(totals(&p), (0, 0, 3, 0), "{p:#}");
    let o = vigil(r.path(), &url, &["apply", "--env", "local"], &[]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(rt
        .block_on(s.arm.get_opt(&fpath, "2025-07-01-preview"))
        .unwrap()
        .is_some());
    assert!(rt
        .block_on(s.arm.get_opt(&path, "2025-07-01-preview"))
        .unwrap()
        .is_none());
}

#[test]
fn max_deletions_refuses_before_any_change() {
    let r = base_repo();
    r.write(
        "vigil.toml",
        &format!("{CONFIG}[environments.local]\nendpoint = \"emulator\"\nauth = \"none\"\nmax_deletions = 1\n"),
    );
    let emu = emulator(None, Faults::default());
    let url = emu.url();
    let o = vigil(r.path(), &url, &["apply", "--env", "local"], &[]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let before = snapshot(&url);
    for f in ["detections/r1.yaml", "detections/r2.yaml", "hunts/h1.yaml"] {
        r.remove(f);
    }
    r.write(
        "detections/r9.yaml",
        &rule(
            &guid(9),
            "Rule nine",
            "SigninLogs | summarize count() by UserPrincipalName",
        ),
    );
    let o = vigil(r.path(), &url, &["apply", "--env", "local"], &[]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("DEP002"), "{}", text(&o));
    assert_eq!(snapshot(&url), before, "nothing may change");
    let o = vigil(
        r.path(),
        &url,
        &["apply", "--env", "local", "--max-deletions", "3"],
        &[],
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
}

#[test]
fn a_rejected_put_restores_everything_and_no_rollback_keeps_it() {
    let r = base_repo();
    let emu = emulator(None, Faults::default());
    let url = emu.url();
    let o = vigil(r.path(), &url, &["apply", "--env", "local"], &[]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let before = snapshot(&url);
    // A table the emulator's workspace does not have: Sentinel rejects the PUT.
    r.write("watchlists/wl.csv", "ip,label\n10.0.0.9,z\n");
    r.write(
        "vigil.toml",
        &format!("{CONFIG}[schemas.tables]\nMyApp_CL = {{ User_s = \"string\" }}\n"),
    );
    r.write(
        "detections/bad.yaml",
        &rule(
            &guid(7),
            "Custom table rule",
            "MyApp_CL | summarize count() by UserPrincipalName = User_s",
        ),
    );
    let o = vigil(r.path(), &url, &["apply", "--env", "local"], &[]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let t = text(&o);
    assert!(
        t.contains("DEP001") && t.contains("tables does not exist"),
        "{t}"
    );
    assert!(t.contains("request id"), "{t}");
    assert!(t.contains("restored"), "{t}");
    assert_eq!(snapshot(&url), before);
    let o = vigil(
        r.path(),
        &url,
        &["apply", "--env", "local", "--no-rollback"],
        &[],
    );
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert_ne!(snapshot(&url), before, "the watchlist change stays");
}

#[test]
fn export_compile_plan_is_a_no_op() {
    let r = base_repo();
    let emu = emulator(None, Faults::default());
    let url = emu.url();
    let o = vigil(r.path(), &url, &["apply", "--env", "local"], &[]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let out = repo(CONFIG);
    let o = vigil(r.path(), &url, &["export", "--env", "local", "--out"], &[]);
    assert_eq!(o.status.code(), Some(2), "--out needs a value");
    let o = vigil(
        r.path(),
        &url,
        &[
            "export",
            "--env",
            "local",
            "--out",
            out.path().to_str().unwrap(),
        ],
        &[],
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let v = vigil(out.path(), &url, &["validate", "--no-kql"], &[]);
    assert_eq!(v.status.code(), Some(0), "{}", text(&v));
    let p = plan_json(out.path(), &url);
    assert_eq!(totals(&p), (0, 0, 0, 0), "{p:#}");
    assert_eq!(p["totals"]["adopt"], 0, "{p:#}");
}

#[test]
fn changed_lists_definitions_between_refs() {
    let r = base_repo();
    let base = r.commit("base");
    r.write(
        "detections/r1.yaml",
        &rule(
            &guid(1),
            "Rule one",
            "SigninLogs | where ResultType == \"1\" | summarize count() by UserPrincipalName",
        ),
    );
    r.remove("detections/r2.yaml");
    r.write("hunts/h2.yaml", &hunt(&guid(8), "Hunt two"));
    std::fs::rename(
        r.path().join("hunts/h1.yaml"),
        r.path().join("hunts/moved.yaml"),
    )
    .unwrap();
    let head = r.commit("head");
    let c = vigil::git::changed(r.path(), &base, Some(&head)).unwrap();
    let ids =
        |l: &[vigil::git::ChangedDefinition]| l.iter().map(|d| d.id.clone()).collect::<Vec<_>>();
    assert_eq!(ids(&c.added), vec![guid(8)]);
    assert_eq!(ids(&c.modified), vec![guid(1)]);
    assert_eq!(ids(&c.deleted), vec![guid(2)]);
    // The work tree as head; the CLI's JSON.
    r.write("watchlists/wl.csv", "ip,label\n10.0.0.1,a\n");
    let o = vigil(
        r.path(),
        "",
        &["changed", "--base", &base, "--format", "json"],
        &[],
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let j: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(j["modified"].as_array().unwrap().len(), 2, "{j:#}");
    // Content at a ref loads without a checkout.
    let (ws, _, commit) = vigil::git::workspace_at(r.path(), &base).unwrap();
    assert_eq!(commit, base);
    assert_eq!(ws.files.len(), 5);
    // A shallow clone without the base says how to fetch it.
    let shallow = tempfile::tempdir().unwrap();
    let st = std::process::Command::new("git")
        .args(["clone", "-q", "--depth", "1"])
        .arg(format!("file://{}", r.path().display()))
        .arg(shallow.path())
        .status()
        .unwrap();
    assert!(st.success());
    let e = vigil::git::changed(shallow.path(), &base, None).unwrap_err();
    assert_eq!(e.code, vigil::diagnostics::code::DEP_BASE_NOT_FETCHED);
    assert!(e.hint.unwrap().contains("git fetch"));
    let o = vigil(shallow.path(), "", &["changed", "--base", &base], &[]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("DEP009"));
}

#[test]
fn per_workspace_catalog_fails_the_plan() {
    let r = base_repo();
    let state = tempfile::tempdir().unwrap();
    let ws = vigil::deploy::env::local_workspace();
    // This workspace has no SecurityEvent table.
    vigil::emulator::write_workspace_schema(
        state.path(),
        &ws.subscription,
        &ws.resource_group,
        &ws.name,
        &json!({"missing": ["SecurityEvent"]}),
    )
    .unwrap();
    let emu = emulator(Some(state.path().to_path_buf()), Faults::default());
    let url = emu.url();
    let o = vigil(r.path(), &url, &["schema", "pull", "--env", "local"], &[]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let cat = r
        .path()
        .join("schemas/workspaces/local/vigil-local.local.json");
    let schema: serde_json::Value = serde_json::from_slice(&std::fs::read(&cat).unwrap()).unwrap();
    assert_eq!(schema["missing"], json!(["SecurityEvent"]));
    assert!(schema["functions"]
        .as_object()
        .unwrap()
        .contains_key("_GetWatchlist"));
    r.write("detections/se.yaml", &rule(&guid(6), "Security events", "SecurityEvent | where EventID == 4625 | summarize count() by Account | extend UserPrincipalName = Account"));
    let o = vigil(r.path(), &url, &["plan", "--env", "local"], &[]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("DEP008"), "{}", text(&o));
    // The query endpoint answers through the engine seam: not wired yet, and says so.
    let s = session(&url);
    let q = vigil::azure::Client::new(
        &url,
        vigil::azure::query::SCOPE,
        vigil::azure::Credential::None,
        2,
        Default::default(),
    );
    let guid = vigil::emulator::workspace_guid(&ws.subscription, &ws.resource_group, &ws.name);
    let e = rt()
        .block_on(vigil::azure::query::query(
            &q,
            &guid,
            "SigninLogs | take 1",
            Some("PT1H"),
            true,
        ))
        .unwrap_err();
    assert_eq!(e.status, Some(501));
    assert!(e.message.starts_with("not supported yet"), "{e}");
    drop(s);
}

#[test]
fn tokens_never_reach_output_logs_or_records() {
    let r = base_repo();
    let secret = "tok-3f9a1c77-never-print-me";
    let emu = vigil::emulator::start(
        "127.0.0.1:0",
        vigil::emulator::Options {
            token: Some(secret.into()),
            ..vigil::emulator::Options::default()
        },
    )
    .unwrap();
    let url = emu.url();
    // Without the token: 401, reported without any token.
    let o = vigil(r.path(), &url, &["plan", "--env", "local", "-v"], &[]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("401"), "{}", text(&o));
    let env = [("VIGIL_AZURE_TOKEN", secret)];
    let o = vigil(r.path(), &url, &["apply", "--env", "local", "-v"], &env);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(!text(&o).contains(secret));
    // A failing apply (rejected PUT) with errors and a restore.
    r.write(
        "detections/bad.yaml",
        &rule(
            &guid(7),
            "Bad",
            "SigninLogs | where NoSuchColumn == 1 | summarize count() by UserPrincipalName",
        ),
    );
    r.write(
        "vigil.toml",
        &format!("{CONFIG}[schemas.tables]\nSigninLogs = {{ NoSuchColumn = \"long\" }}\n"),
    );
    let o = vigil(r.path(), &url, &["apply", "--env", "local", "-v"], &env);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(!text(&o).contains(secret));
    let mut files = vec![];
    let dir = r.path().join(".vigil");
    let mut stack = vec![dir];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            if e.path().is_dir() {
                stack.push(e.path());
            } else {
                files.push(e.path());
            }
        }
    }
    assert!(files.len() >= 4, "{files:?}");
    for f in files {
        let t = std::fs::read_to_string(&f).unwrap();
        assert!(!t.contains(secret), "{}", f.display());
    }
}

/// The drift workflow's commands: a portal edit makes `plan --detailed-exitcode` exit 3, and
/// `export --update` writes the portal's version over the file that defines the rule, keeping
/// the file's vigil keys and dropping the compiled provenance footer, so the plan is empty again
/// and the diff is the drift (the workflow opens a PR with it).
#[test]
fn drift_comes_back_into_the_defining_file() {
    let r = base_repo();
    let r1 = rule(
        &guid(1),
        "Rule one",
        "SigninLogs | where ResultType == \"50126\" | summarize count() by UserPrincipalName",
    ) + "provenance:\n  origin: human\n";
    r.write("detections/r1.yaml", &r1);
    let emu = emulator(None, Faults::default());
    let url = emu.url();
    let o = vigil(r.path(), &url, &["apply", "--env", "local"], &[]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let s = session(&url);
    let rt = rt();
    let path = portal_edit_severity(&s, &rt, 1, "High");
    let live = rt
        .block_on(s.arm.get(&path, "2025-07-01-preview"))
        .unwrap()
        .body;
    assert!(
        live["properties"]["description"]
            .as_str()
            .unwrap()
            .contains("Written by a human"),
        "the footer is compiled in: {live:#}"
    );
    let o = vigil(
        r.path(),
        &url,
        &["plan", "--env", "local", "--detailed-exitcode"],
        &[],
    );
    assert_eq!(o.status.code(), Some(3), "{}", text(&o));
    let o = vigil(
        r.path(),
        &url,
        &["export", "--env", "local", "--out", "exported", "--update"],
        &[],
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(text(&o).contains("updated in place"), "{}", text(&o));
    let now = std::fs::read_to_string(r.path().join("detections/r1.yaml")).unwrap();
    assert!(now.contains("severity: \"High\""), "{now}");
    assert!(
        now.contains("provenance:") && now.contains("origin: \"human\""),
        "{now}"
    );
    assert!(!now.contains("Written by a human"), "footer left in: {now}");
    assert!(
        !r.path().join("exported/detections").exists(),
        "items the repository defines are not exported beside it"
    );
    // The rule itself now matches; only the metadata's content version (the file changed)
    // is refreshed by the next apply.
    let p = plan_json(r.path(), &url);
    for ch in p["workspaces"][0]["changes"].as_array().unwrap() {
        for f in ch["fields"].as_array().unwrap() {
            assert!(
                f["path"].as_str().unwrap().starts_with("metadata."),
                "{p:#}"
            );
        }
    }
    let o = vigil(r.path(), &url, &["apply", "--env", "local"], &[]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let o = vigil(
        r.path(),
        &url,
        &["plan", "--env", "local", "--detailed-exitcode"],
        &[],
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let live = rt
        .block_on(s.arm.get(&path, "2025-07-01-preview"))
        .unwrap()
        .body;
    assert_eq!(live["properties"]["severity"], "High");
}

/// A team migrating from Sentinel Repositories deploys the compiled REST bodies (item and
/// metadata) with its own tooling, not `vigil apply`: the next `vigil plan` must see the items
/// as they are (no update of every rule), both with the compiled metadata (owned, unchanged)
/// and without it (adopt), and in both cases the drift hash agrees with the compiled one.
#[test]
fn content_deployed_from_compiled_output_plans_as_unchanged_or_adopt() {
    for with_metadata in [true, false] {
        let r = base_repo();
        r.commit("v1");
        let emu = emulator(None, Faults::default());
        let url = emu.url();
        let out = r.path().join("out");
        let o = vigil(
            r.path(),
            &url,
            &["compile", "--out", out.to_str().unwrap(), "--env", "local"],
            &[],
        );
        assert_eq!(o.status.code(), Some(0), "{}", text(&o));
        let s = session(&url);
        let rt = rt();
        let ws = vigil::deploy::env::local_workspace();
        let mut sent = 0;
        for kind in ["watchlists", "functions", "anomalies", "hunts", "rules"] {
            let Ok(dir) = std::fs::read_dir(out.join(kind)) else {
                continue;
            };
            let mut files: Vec<_> = dir
                .flatten()
                .map(|e| e.path())
                .filter(|p| {
                    p.to_string_lossy().ends_with(".json")
                        && !p.to_string_lossy().ends_with(".arm.json")
                })
                .collect();
            files.sort();
            for f in files {
                let v: serde_json::Value =
                    serde_json::from_slice(&std::fs::read(&f).unwrap()).unwrap();
                let mut requests = vec![&v["resource"]];
                if with_metadata {
                    requests.push(&v["metadata"]);
                }
                for req in requests {
                    assert_eq!(req["method"], "PUT", "{req:#}");
                    let path = format!("{}/{}", ws.path(), req["path"].as_str().unwrap());
                    let mut body = req["body"].clone();
                    if req["path"].as_str().unwrap().contains("/metadata/") {
                        // What a deployment names as the parent: the item in this workspace.
                        body["properties"]["parentId"] = json!(format!(
                            "{}/{}",
                            ws.id(),
                            v["resource"]["path"].as_str().unwrap()
                        ));
                    }
                    rt.block_on(s.arm.put(&path, req["apiVersion"].as_str().unwrap(), &body))
                        .unwrap();
                    sent += 1;
                }
            }
        }
        assert!(sent >= 5, "sent {sent} requests");
        let p = plan_json(r.path(), &url);
        let t = &p["totals"];
        assert_eq!(
            (
                t["create"].as_u64().unwrap(),
                t["update"].as_u64().unwrap(),
                t["replace"].as_u64().unwrap(),
                t["delete"].as_u64().unwrap(),
                t["drift"].as_u64().unwrap()
            ),
            (0, 0, 0, 0, 0),
            "with metadata: {with_metadata}: {p:#}"
        );
        if with_metadata {
            assert_eq!(t["unchanged"].as_u64(), Some(5), "{p:#}");
        } else {
            assert_eq!(t["adopt"].as_u64(), Some(5), "{p:#}");
        }
    }
}
