//! `vigil tune rule` on the emulator as a small SOC: a rule deployed, events ingested, the
//! virtual clock advanced, incidents closed through the REST API as an analyst does; then the
//! proposal's figures are the ones worked out by hand below, the backtest refuses a proposal
//! that loses a TruePositive, and `--write` is exactly what `vigil plan` then deploys.

mod common;
mod deploy_support;
#[path = "soc_seed/mod.rs"]
mod soc_seed;

use deploy_support::*;
use serde_json::{json, Value};
use soc_seed::http;
use vigil::emulator;

const T0: &str = "2026-03-01T00:00:00Z";
const RULE: &str = "00000000-0000-4000-8000-0000000000aa";

fn start() -> emulator::Emulator {
    soc_seed::start_on_clock(T0, None)
}

fn hour(h: i64) -> String {
    soc_seed::hour_after(T0, h)
}

fn signin(h: i64, user: &str, ip: &str) -> Value {
    json!({"TimeGenerated": hour(h), "UserPrincipalName": user, "ResultType": "50126", "IPAddress": ip})
}

/// Apply the rule, ingest the sign-ins, advance a day, close incidents as given (by number).
fn soc(query: &str, rows: Vec<Value>, closing: &[(i64, &str)]) -> (emulator::Emulator, Repo) {
    let emu = start();
    let url = emu.url();
    let r = repo(&format!("{CONFIG}\n[tune]\nexclusions = \"inline\"\n"));
    r.write(
        "detections/noisy.yaml",
        &format!(
            "{}provenance:\n  origin: human\n",
            rule(RULE, "Noisy failed sign-ins", query)
        ),
    );
    r.write(".gitignore", ".vigil/\nout/\n");
    r.commit("the rule");
    let o = vigil(r.path(), &url, &["apply", "--env", "local"], &[]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let dcr = emulator::soc::dcr_id(&emulator::workspace_guid(
        soc_seed::SUB,
        soc_seed::RG,
        soc_seed::WS,
    ));
    soc_seed::ingest(&url, &dcr, "Custom-SigninLogs", &rows);
    let (st, b) = http(
        &url,
        "POST",
        "/vigil-emulator/advance",
        Some(&json!({"hours": 24})),
    );
    assert_eq!(st, 200, "{b}");
    soc_seed::close(&url, closing);
    (emu, r)
}

fn tune(r: &Repo, url: &str, extra: &[&str]) -> (Option<i32>, Value, String) {
    let mut args = vec![
        "tune",
        "rule",
        RULE,
        "--env",
        "local",
        "--since",
        "2d",
        "--json",
        "out/tune.json",
    ];
    args.extend_from_slice(extra);
    let o = vigil(r.path(), url, &args, &[]);
    let v = std::fs::read(r.path().join("out/tune.json"))
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or(Value::Null);
    let _ = std::fs::remove_file(r.path().join("out/tune.json"));
    (o.status.code(), v, text(&o))
}

/// Two service accounts make the noise: svc-backup fails in the runs ending at T0+1h..4h
/// (incidents 1-4, closed FalsePositive) and svc-scan at 5h..7h (5-7, BenignPositive); alice at
/// 8h is the attack (8, TruePositive); bob at 9h a one-off (9, FalsePositive: under the support
/// of 3); carol at 10h stays open (10). By hand: exclude svc-backup (1-4) and svc-scan (5-7);
/// replaying 48 hourly runs over 2 days, alerts 10 -> 3 (alice, bob, carol), FP/BP incidents
/// 1-7 removed, 9 kept, TP 8 kept.
#[test]
fn service_account_noise_is_excluded_without_losing_the_attack() {
    let mut rows = Vec::new();
    for h in 1..=4 {
        rows.push(signin(h, "svc-backup@contoso.com", "10.0.0.5"));
    }
    for h in 5..=7 {
        rows.push(signin(h, "SVC-SCAN@contoso.com", "10.0.0.6"));
    }
    rows.push(signin(8, "alice@contoso.com", "203.0.113.9"));
    rows.push(signin(9, "bob@contoso.com", "203.0.113.10"));
    rows.push(signin(10, "carol@contoso.com", "203.0.113.11"));
    let mut closing: Vec<(i64, &str)> = (1..=4).map(|n| (n, "FalsePositive")).collect();
    closing.extend((5..=7).map(|n| (n, "BenignPositive")));
    closing.push((8, "TruePositive"));
    closing.push((9, "FalsePositive"));
    let (emu, r) = soc(
        "SigninLogs | where ResultType != \"0\" | project TimeGenerated, UserPrincipalName",
        rows,
        &closing,
    );
    let url = emu.url();
    let (code, v, out) = tune(&r, &url, &[]);
    assert_eq!(code, Some(0), "{out}");
    assert_eq!(
        v["closed"],
        json!({"BenignPositive": 3, "FalsePositive": 5, "TruePositive": 1}),
        "{v:#}"
    );
    let ex: Vec<(String, Vec<i64>)> = v["exclusions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["value"].as_str().unwrap().to_string(),
                serde_json::from_value(e["incidents"].clone()).unwrap(),
            )
        })
        .collect();
    assert_eq!(
        ex,
        [
            ("svc-backup@contoso.com".to_string(), vec![1, 2, 3, 4]),
            ("SVC-SCAN@contoso.com".to_string(), vec![5, 6, 7])
        ],
        "{v:#}"
    );
    let b = &v["backtest"];
    assert_eq!(b["runs"], 48, "{b}");
    assert_eq!(
        (b["alerts_before"].as_u64(), b["alerts_after"].as_u64()),
        (Some(10), Some(3)),
        "{b}"
    );
    assert_eq!(b["fp_removed"], json!([1, 2, 3, 4, 5, 6, 7]), "{b}");
    assert_eq!(b["fp_kept"], json!([9]), "{b}");
    assert_eq!(b["tp_kept"], json!([8]), "{b}");
    assert_eq!(b["tp_lost"], json!([]), "{b}");
    assert_eq!(b["not_reproduced"], json!([]), "{b}");
    assert_eq!(v["events"], 10, "the window's events, fetched once");
    // The filter goes where the column first exists: right after the table.
    assert_eq!(
        v["tuned_query"],
        "SigninLogs\n| where UserPrincipalName !in~ (\"svc-backup@contoso.com\", \"SVC-SCAN@contoso.com\")\n| where ResultType != \"0\" | project TimeGenerated, UserPrincipalName\n"
    );
    // Nothing written without --write.
    assert_eq!(r.git(&["status", "--porcelain"]), "");

    // --write: the rule's query and provenance change, and the plan deploys exactly that.
    let (code, v, out) = tune(&r, &url, &["--write"]);
    assert_eq!(code, Some(0), "{out}");
    assert_eq!(
        v["written"],
        json!([r.path().join("detections/noisy.yaml")])
    );
    let text_now = std::fs::read_to_string(r.path().join("detections/noisy.yaml")).unwrap();
    assert!(
        text_now.contains("  origin: tuned\n")
            && text_now.contains("  derived_from:\n    origin: human\n"),
        "{text_now}"
    );
    assert!(
        text_now.contains("sources: ['incident:local/1'"),
        "{text_now}"
    );
    assert!(
        text_now.contains("| where UserPrincipalName !in~ ("),
        "{text_now}"
    );
    // A tuned change needs a human review before it merges or deploys (POL006), nothing else.
    let o = vigil(r.path(), &url, &["validate", "--format", "json"], &[]);
    let vv: Value = serde_json::from_slice(&o.stdout).unwrap_or(Value::Null);
    let errors: Vec<&str> = vv["diagnostics"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|d| d["severity"] == "error")
        .filter_map(|d| d["code"].as_str())
        .collect();
    assert_eq!(errors, ["POL006"], "{}", text(&o));
    let o = vigil(r.path(), &url, &["plan", "--env", "local"], &[]);
    assert_eq!(
        o.status.code(),
        Some(1),
        "no plan before the review: {}",
        text(&o)
    );
    // The reviewer approves the tuned query; the plan is exactly the proposed change.
    // (The exclusion watchlist is part of the same change: its review names the rule's tuned
    // query.)
    let approve = |r: &Repo, v: &Value| {
        for f in ["detections/noisy.yaml", "watchlists/noisy_exclusions.yaml"] {
            let p = r.path().join(f);
            let Ok(t) = std::fs::read_to_string(&p) else {
                continue;
            };
            std::fs::write(
                &p,
                format!(
                    "{t}review:\n  approved_by: alice\n  query_sha256: {}\n",
                    v["tuned_query_sha256"].as_str().unwrap()
                ),
            )
            .unwrap();
        }
    };
    approve(&r, &v);
    let plan = plan_json(r.path(), &url);
    assert_eq!(totals(&plan), (0, 1, 0, 0), "{plan:#}");

    // The watchlist form: a per-rule exclusion watchlist the query reads.
    r.git(&["checkout", "-q", "--", "."]);
    std::fs::write(
        r.path().join("vigil.toml"),
        format!("{CONFIG}\n[tune]\nexclusions = \"watchlist\"\n"),
    )
    .unwrap();
    let (code, v, out) = tune(&r, &url, &["--write"]);
    assert_eq!(code, Some(0), "{out}");
    assert!(v["tuned_query"].as_str().unwrap().contains("_GetWatchlist('NoisyExclusions') | where Column == 'UserPrincipalName' | project SearchKey"), "{v:#}");
    let csv = std::fs::read_to_string(r.path().join("watchlists/noisy_exclusions.csv")).unwrap();
    assert_eq!(
        csv,
        "SearchKey,Column,Entity,Incidents\nsvc-backup@contoso.com,UserPrincipalName,Account.FullName,\"1, 2, 3, 4\"\nSVC-SCAN@contoso.com,UserPrincipalName,Account.FullName,\"5, 6, 7\"\n"
    );
    approve(&r, &v);
    let plan = plan_json(r.path(), &url);
    assert_eq!(
        totals(&plan),
        (1, 1, 0, 0),
        "the watchlist created, the rule updated: {plan:#}"
    );
}

/// A TruePositive that needed the excluded account's events: svc-backup fails twice from
/// 10.0.0.5 in each of the runs ending at 1h..3h (incidents 1-3, FalsePositive); at 4h zed and
/// svc-backup fail once each from 198.51.100.9, two failures from one address: the attack
/// (incident 4, TruePositive; its entity is zed, the max). Excluding svc-backup's events
/// leaves one failure there: the backtest shows TP 4 lost, and the proposal is refused.
#[test]
fn a_proposal_that_loses_a_true_positive_is_refused() {
    let mut rows = Vec::new();
    for h in 1..=3 {
        rows.push(signin(h, "svc-backup@contoso.com", "10.0.0.5"));
        rows.push(signin(h, "svc-backup@contoso.com", "10.0.0.5"));
    }
    rows.push(signin(4, "zed@contoso.com", "198.51.100.9"));
    rows.push(signin(4, "svc-backup@contoso.com", "198.51.100.9"));
    let (emu, r) = soc(
        "SigninLogs | where ResultType != \"0\" | summarize Failures = count(), UserPrincipalName = max(UserPrincipalName) by IPAddress | where Failures >= 2",
        rows,
        &[(1, "FalsePositive"), (2, "FalsePositive"), (3, "FalsePositive"), (4, "TruePositive")],
    );
    let url = emu.url();
    let (code, v, out) = tune(&r, &url, &["--write"]);
    assert_eq!(code, Some(1), "{out}");
    assert_eq!(v["backtest"]["tp_lost"], json!([4]), "{v:#}");
    assert_eq!(v["backtest"]["fp_removed"], json!([1, 2, 3]), "{v:#}");
    assert!(
        out.contains("would lose TruePositive incident(s) 4"),
        "{out}"
    );
    assert_eq!(r.git(&["status", "--porcelain"]), "", "nothing written");
    // Asked for explicitly, it is proposed.
    let (code, v, out) = tune(&r, &url, &["--allow-tp-loss"]);
    assert_eq!(code, Some(0), "{out}");
    assert!(v["refused"].is_null(), "{v:#}");
}

#[test]
fn bad_input_gets_a_clear_message_and_no_file() {
    let (emu, r) = soc(
        "SigninLogs | where ResultType != \"0\" | project TimeGenerated, UserPrincipalName",
        vec![signin(1, "a@contoso.com", "10.0.0.1")],
        &[],
    );
    let url = emu.url();
    // An empty window: no closed incident.
    let (code, _, out) = tune(&r, &url, &["--write"]);
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("no closed incident of this rule"), "{out}");
    // An unknown rule.
    let o = vigil(
        r.path(),
        &url,
        &["tune", "rule", "nope", "--env", "local"],
        &[],
    );
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        text(&o).contains("`nope` is not an analytics rule"),
        "{}",
        text(&o)
    );
    // A rule without entities.
    let no_entities = std::fs::read_to_string(r.path().join("detections/noisy.yaml"))
        .unwrap()
        .replace("entityMappings:\n  - entityType: Account\n    fieldMappings:\n      - identifier: FullName\n        columnName: UserPrincipalName\n", "");
    r.write("detections/noisy.yaml", &no_entities);
    let o = vigil(
        r.path(),
        &url,
        &["tune", "rule", RULE, "--env", "local"],
        &[],
    );
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("maps no entities"), "{}", text(&o));
    // A bad window.
    let o = vigil(
        r.path(),
        &url,
        &["tune", "rule", RULE, "--env", "local", "--since", "lots"],
        &[],
    );
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    r.git(&["checkout", "-q", "--", "."]);
    assert_eq!(r.git(&["status", "--porcelain"]), "");
}

const BRUTE: &str = "c95d49c8-55d0-4e97-8c87-88cf48c41157";
const ANOMALY_RULE: &str = "00000000-0000-4000-8000-0000000000bb";

fn brute_setting(exclude: &str) -> String {
    format!(
        r#"id: 5d1c0a1e-0000-4000-8000-000000000001
name: Attempted user account brute force per failure reason
description: Failed logons per account above the account's own baseline.
enabled: true
anomalyVersion: "1.0.2"
frequency: 1h
settingsStatus: Production
isDefaultSettings: false
settingsDefinitionId: {BRUTE}
customizableObservations:
  thresholdObservations:
    - name: Score threshold
      description: Generate an anomaly when the anomaly score is greater than the chosen value.
      minimum: "0.25"
      maximum: "1"
      value: "0.25"
      sequenceNumber: 1
      rerun: NotRequired
    - name: Minimum failed logons per hour
      description: Ignore accounts with fewer failed logons than this in the scoring hour.
      minimum: "5"
      maximum: "500"
      value: "5"
      sequenceNumber: 2
      rerun: RerunAlways
  prioritizeExcludeObservations:
    - name: Accounts
      description: Prioritize or exclude accounts.
      dataType: string
      prioritize: ""
      exclude: "{exclude}"
      sequenceNumber: 3
      rerun: RerunAlways
  multiSelectObservations:
    - name: Logon types
      description: Logon types to include in the model.
      supportValues: ["2", "3"]
      values: ["2", "3"]
      sequenceNumber: 4
      rerun: RerunAlways
requiredDataConnectors:
  - connectorId: SecurityEvents
    dataTypes:
      - SecurityEvent
tactics:
  - CredentialAccess
"#
    )
}

fn failures(h: i64, account: &str, n: usize) -> Vec<Value> {
    (0..n)
        .map(|_| json!({"TimeGenerated": hour(h), "EventID": 4625, "TargetAccount": account, "Computer": "dc01", "Account": account}))
        .collect()
}

/// A day of failed logons, from hour `d` on: the scanner svc_nessus fails 6 times in the runs
/// ending at d+2h, d+5h and d+8h, jdoe 30 times at d+12h (the attack), bob 10 times at d+15h.
fn a_day(d: i64) -> Vec<Value> {
    let mut rows = Vec::new();
    for h in [2, 5, 8] {
        rows.extend(failures(d + h, "svc_nessus", 6));
    }
    rows.extend(failures(d + 12, "jdoe", 30));
    rows.extend(failures(d + 15, "bob", 10));
    rows
}

/// Ingest a day of failed logons from hour `d`, advance 24 hours, close the day's five
/// incidents (numbers from `first`) FP, FP, FP, TP, BP.
fn run_a_day(url: &str, d: i64, first: i64) {
    let dcr = emulator::soc::dcr_id(&emulator::workspace_guid(
        soc_seed::SUB,
        soc_seed::RG,
        soc_seed::WS,
    ));
    soc_seed::ingest(url, &dcr, "Custom-SecurityEvent", &a_day(d));
    let (st, b) = http(
        url,
        "POST",
        "/vigil-emulator/advance",
        Some(&json!({"hours": 24})),
    );
    assert_eq!(st, 200, "{b}");
    close_all(
        url,
        first,
        &[
            "FalsePositive",
            "FalsePositive",
            "FalsePositive",
            "TruePositive",
            "BenignPositive",
        ],
    );
}

fn close_all(url: &str, from: i64, classes: &[&str]) {
    let closing: Vec<(i64, &str)> = classes
        .iter()
        .enumerate()
        .map(|(i, c)| (from + i as i64, *c))
        .collect();
    soc_seed::close(url, &closing);
}

fn approve_file(r: &Repo, rel: &str, hash: &str) {
    let p = r.path().join(rel);
    let t = std::fs::read_to_string(&p).unwrap();
    std::fs::write(
        &p,
        format!("{t}review:\n  approved_by: alice\n  query_sha256: {hash}\n"),
    )
    .unwrap();
}

/// By hand (the emulator's documented scoring: no history, so z = count and Score = c/(c+3)):
/// day 1 gives svc_nessus three anomalies (6 failures: Score ~0.666), jdoe one (30: 0.9091),
/// bob one (10: 0.7692); a rule over Anomalies turns each into an incident (numbers 1-3 svc,
/// 4 jdoe, 5 bob) closed FP, FP, FP, TP, BP. Proposals: Score threshold 0.25 -> 0.7693 (just
/// past bob's 0.76923) and the minimum count 5 -> 11 (just past bob's 10) keep jdoe only;
/// exclude svc_nessus (3 false anomalies, no TP). The Flighting copy deploys; on day 2 both
/// copies run over the same pattern: Production fires 5 again, Flighting only jdoe; --compare
/// reports Production 10 anomalies (TP 2, FP 8: precision 0.20) and Flighting 1 (TP 1: 1.00),
/// and --write promotes the copy.
#[test]
fn an_anomaly_setting_is_tuned_in_flighting_and_promoted() {
    let emu = start();
    let url = emu.url();
    let r = repo(CONFIG);
    r.write(".gitignore", ".vigil/\nout/\n");
    r.write("anomalies/brute.yaml", &brute_setting(""));
    r.write(
        "detections/anomalies.yaml",
        &rule(
            ANOMALY_RULE,
            "Brute-force anomalies",
            &format!("Anomalies | where AnomalyTemplateId == '{BRUTE}' | summarize Score = max(Score) by UserPrincipalName = UserName"),
        ),
    );
    r.commit("setting and rule");
    let o = vigil(r.path(), &url, &["apply", "--env", "local"], &[]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    run_a_day(&url, 0, 1);

    let run = |extra: &[&str], target: &str| -> (Option<i32>, Value, String) {
        let mut args = vec![
            "tune",
            "anomaly",
            target,
            "--env",
            "local",
            "--since",
            "3d",
            "--json",
            "out/a.json",
        ];
        args.extend_from_slice(extra);
        let o = vigil(r.path(), &url, &args, &[]);
        let v = std::fs::read(r.path().join("out/a.json"))
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or(Value::Null);
        let _ = std::fs::remove_file(r.path().join("out/a.json"));
        (o.status.code(), v, text(&o))
    };
    let (code, v, out) = run(&[], "anomalies/brute.yaml");
    assert_eq!(code, Some(0), "{out}");
    assert_eq!(v["anomalies"], 5, "{v:#}");
    assert_eq!(
        v["labelled"],
        json!({"FalsePositive/BenignPositive": 4, "TruePositive": 1}),
        "{v:#}"
    );
    let t = &v["thresholds"];
    assert_eq!(
        (t[0]["observation"].as_str(), t[0]["proposed"].as_f64()),
        (Some("Score threshold"), Some(0.7693)),
        "{v:#}"
    );
    assert_eq!(
        (
            t[0]["anomalies_kept"].as_u64(),
            t[0]["fp_kept"].as_u64(),
            t[0]["tp_kept"].as_u64()
        ),
        (Some(1), Some(0), Some(1))
    );
    assert_eq!(t[1]["proposed"].as_f64(), Some(11.0), "{v:#}");
    assert_eq!(v["excludes"], json!([["svc_nessus", 3]]), "{v:#}");
    assert!(
        v["not_backtestable"][0]
            .as_str()
            .unwrap()
            .starts_with("Logon types: cannot be backtested"),
        "{v:#}"
    );

    // --write: the Flighting copy beside Production.
    let (code, v, out) = run(&["--write"], "anomalies/brute.yaml");
    assert_eq!(code, Some(0), "{out}");
    let copy = std::fs::read_to_string(r.path().join("anomalies/brute_flighting.yaml")).unwrap();
    assert!(
        copy.contains("settingsStatus: Flighting") && copy.contains("isDefaultSettings: false"),
        "{copy}"
    );
    assert!(
        copy.contains(&format!("settingsDefinitionId: {BRUTE}"))
            && !copy.contains("id: 5d1c0a1e-0000-4000-8000-000000000001\n"),
        "a new resource name: {copy}"
    );
    assert!(
        copy.contains("value: '0.7693'")
            && copy.contains("value: '11'")
            && copy.contains("exclude: 'svc_nessus'"),
        "{copy}"
    );
    assert!(copy.contains("origin: tuned"), "{copy}");
    assert_eq!(v["written"].as_array().unwrap().len(), 1);
    // A tuned change is reviewed, then the plan creates exactly the copy.
    approve_file(&r, "anomalies/brute_flighting.yaml", &"0".repeat(64));
    let plan = plan_json(r.path(), &url);
    assert_eq!(totals(&plan), (1, 0, 0, 0), "{plan:#}");
    let o = vigil(r.path(), &url, &["apply", "--env", "local"], &[]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));

    // Day 2: both copies run.
    run_a_day(&url, 24, 6);
    let (code, v, out) = run(&["--compare"], "anomalies/brute_flighting.yaml");
    assert_eq!(code, Some(0), "{out}");
    assert_eq!(
        v["copies"]["Production"],
        json!({"anomalies": 10, "tp": 2, "fp": 8, "precision": 0.2}),
        "{v:#}"
    );
    assert_eq!(
        v["copies"]["Flighting"],
        json!({"anomalies": 1, "tp": 1, "fp": 0, "precision": 1.0}),
        "{v:#}"
    );
    let (code, v, out) = run(&["--compare", "--write"], "anomalies/brute_flighting.yaml");
    assert_eq!(code, Some(0), "{out}");
    assert!(v["promotion"].as_str().unwrap().starts_with("promoted: anomalies/brute_flighting.yaml -> Production, anomalies/brute.yaml -> Flighting"), "{v:#}");
    let copy = std::fs::read_to_string(r.path().join("anomalies/brute_flighting.yaml")).unwrap();
    assert!(copy.contains("settingsStatus: Production"), "{copy}");
    let orig = std::fs::read_to_string(r.path().join("anomalies/brute.yaml")).unwrap();
    assert!(orig.contains("settingsStatus: Flighting"), "{orig}");
    approve_file(&r, "anomalies/brute_flighting.yaml", &"0".repeat(64));
    let plan = plan_json(r.path(), &url);
    assert_eq!(totals(&plan), (0, 2, 0, 0), "{plan:#}");
}

#[test]
fn anomaly_bad_input_gets_a_clear_message_and_no_file() {
    let emu = start();
    let url = emu.url();
    let r = repo(CONFIG);
    r.write(".gitignore", ".vigil/\nout/\n");
    let bare = brute_setting("");
    let bare = bare[..bare.find("customizableObservations:").unwrap()].to_string()
        + "requiredDataConnectors:\n  - connectorId: SecurityEvents\n    dataTypes:\n      - SecurityEvent\n";
    r.write("anomalies/bare.yaml", &bare);
    r.commit("a setting without observations");
    let o = vigil(
        r.path(),
        &url,
        &["tune", "anomaly", "anomalies/bare.yaml", "--env", "local"],
        &[],
    );
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        text(&o).contains("no threshold or exclude observations"),
        "{}",
        text(&o)
    );
    let o = vigil(
        r.path(),
        &url,
        &["tune", "anomaly", "nope", "--env", "local"],
        &[],
    );
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        text(&o).contains("`nope` is not an anomaly setting"),
        "{}",
        text(&o)
    );
    // A setting that fired nothing: an empty window.
    r.write("anomalies/bare.yaml", &brute_setting(""));
    let o = vigil(r.path(), &url, &["apply", "--env", "local"], &[]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let o = vigil(
        r.path(),
        &url,
        &[
            "tune",
            "anomaly",
            "anomalies/bare.yaml",
            "--env",
            "local",
            "--write",
        ],
        &[],
    );
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("fired no anomaly"), "{}", text(&o));
    assert!(!r.path().join("anomalies/bare_flighting.yaml").exists());
}
