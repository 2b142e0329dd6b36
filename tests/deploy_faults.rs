//! Deploy under faults: injected 429/500/connection resets converge with nothing lost; kill -9
//! at every step of an apply (and during the recovery that follows) leaves the workspace
//! all-old or all-new.

mod common;
mod deploy_support;

use deploy_support::*;
use vigil::emulator::Faults;

#[test]
fn applying_500_definitions_under_faults_converges() {
    let r = repo(CONFIG);
    for i in 0..500u32 {
        r.write(
            &format!("detections/r{i:03}.yaml"),
            &rule(
                &guid(1000 + i),
                &format!("Rule {i}"),
                &format!("SigninLogs | where ResultType == \"{i}\" | summarize count() by UserPrincipalName"),
            ),
        );
    }
    let faults = Faults {
        p429: 0.10,
        retry_after_secs: 0,
        p500: 0.05,
        preset: 0.01,
        seed: 7,
        ..Faults::default()
    };
    let emu = emulator(None, faults);
    let url = emu.url();
    let out = r.path().join("apply.json");
    let o = vigil(
        r.path(),
        &url,
        &[
            "apply",
            "--env",
            "local",
            "-q",
            "--json",
            out.to_str().unwrap(),
        ],
        &[],
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let rep: serde_json::Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    // Faults were met and retried.
    assert!(rep["throttled"].as_u64().unwrap() > 50, "{rep}");
    assert!(rep["serverErrors"].as_u64().unwrap() > 20, "{rep}");
    assert!(rep["transportErrors"].as_u64().unwrap() > 0, "{rep}");
    eprintln!(
        "faults: {} requests, {} throttled, {} server errors, {} connection errors, {} retries, {:.1}s",
        rep["requests"], rep["throttled"], rep["serverErrors"], rep["transportErrors"], rep["retries"], rep["seconds"].as_f64().unwrap()
    );
    // Nothing lost: 500 rules (and their metadata), and a plan with no changes.
    let snap = snapshot(&url);
    assert_eq!(
        snap.keys().filter(|k| k.starts_with("AlertRule/")).count(),
        500
    );
    assert_eq!(snap.keys().filter(|k| k.starts_with("meta:")).count(), 500);
    let p = plan_json(r.path(), &url);
    assert_eq!(totals(&p), (0, 0, 0, 0));
}

fn old_content(r: &Repo) {
    r.write("watchlists/wl.yaml", &watchlist("wl"));
    r.write("watchlists/wl.csv", "ip,label\n10.0.0.1,a\n");
    r.write("functions/f1.yaml", &function(&guid(4), "vigil_Failed"));
    r.write(
        "detections/r1.yaml",
        &rule(
            &guid(1),
            "Rule one",
            "SigninLogs | where ResultType == \"1\" | summarize count() by UserPrincipalName",
        ),
    );
    r.write(
        "detections/r2.yaml",
        &rule(
            &guid(2),
            "Rule two",
            "SigninLogs | where ResultType == \"2\" | summarize count() by UserPrincipalName",
        ),
    );
}

fn new_content(r: &Repo) {
    r.write("watchlists/wl.csv", "ip,label\n10.0.0.1,a\n10.0.0.2,b\n");
    r.write(
        "detections/r1.yaml",
        &rule(
            &guid(1),
            "Rule one",
            "vigil_Failed | summarize count() by UserPrincipalName",
        ),
    );
    r.remove("detections/r2.yaml");
    r.write("hunts/h1.yaml", &hunt(&guid(3), "Hunt one"));
}

#[test]
fn kill_at_every_step_then_rerun_is_all_old_or_all_new() {
    let r = repo(CONFIG);
    old_content(&r);
    let state = tempfile::tempdir().unwrap();
    let baseline = tempfile::tempdir().unwrap();
    let (old, new) = {
        let emu = emulator(Some(state.path().to_path_buf()), Faults::default());
        let url = emu.url();
        let o = vigil(r.path(), &url, &["apply", "--env", "local", "-q"], &[]);
        assert_eq!(o.status.code(), Some(0), "{}", text(&o));
        let old = snapshot(&url);
        common::copy_dir(state.path(), baseline.path());
        new_content(&r);
        let o = vigil(r.path(), &url, &["apply", "--env", "local", "-q"], &[]);
        assert_eq!(o.status.code(), Some(0), "{}", text(&o));
        (old, snapshot(&url))
    };
    assert_ne!(old, new);
    let strip = |s: &std::collections::BTreeMap<String, serde_json::Value>| {
        s.iter()
            .filter(|(k, _)| !k.contains("vigil-deployment"))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect::<std::collections::BTreeMap<_, _>>()
    };
    let (old, new) = (strip(&old), strip(&new));
    let mut killed_at = 0;
    for k in 1..200u64 {
        // A fresh workspace in the old state, and no local records: the recovery must work from
        // what the workspace holds (a lost CI runner).
        let st = tempfile::tempdir().unwrap();
        common::copy_dir(baseline.path(), st.path());
        let _ = std::fs::remove_dir_all(r.path().join(".vigil"));
        let emu = emulator(Some(st.path().to_path_buf()), Faults::default());
        let url = emu.url();
        let ks = k.to_string();
        let o = vigil(
            r.path(),
            &url,
            &["apply", "--env", "local", "-q"],
            &[("VIGIL_TEST_KILL_AFTER_STEP", &ks)],
        );
        if o.status.code() == Some(0) {
            // k is past the last step: the apply completed.
            assert_eq!(strip(&snapshot(&url)), new);
            break;
        }
        use std::os::unix::process::ExitStatusExt;
        assert_eq!(o.status.signal(), Some(9), "step {k}: {}", text(&o));
        killed_at = k;
        if k % 2 == 0 {
            // Keep the local journal half of the time.
        } else {
            let _ = std::fs::remove_dir_all(r.path().join(".vigil"));
        }
        // Re-run, refusing to change anything after the recovery (max deletions 0): the
        // workspace must be all-old.
        let o = vigil(
            r.path(),
            &url,
            &["apply", "--env", "local", "-q", "--max-deletions", "0"],
            &[],
        );
        match o.status.code() {
            // Killed after the record said "succeeded": the workspace is all-new.
            Some(0) => assert_eq!(strip(&snapshot(&url)), new, "step {k}: {}", text(&o)),
            _ => {
                assert!(text(&o).contains("DEP002"), "step {k}: {}", text(&o));
                assert_eq!(
                    strip(&snapshot(&url)),
                    old,
                    "after a kill at step {k}, recovery must restore all-old"
                );
            }
        }
        // Kill again during a second attempt's run, then re-run: all-new.
        let o = vigil(
            r.path(),
            &url,
            &["apply", "--env", "local", "-q"],
            &[("VIGIL_TEST_KILL_AFTER_STEP", &(k / 2 + 1).to_string())],
        );
        let _ = o;
        let o = vigil(r.path(), &url, &["apply", "--env", "local", "-q"], &[]);
        assert_eq!(o.status.code(), Some(0), "step {k}: {}", text(&o));
        assert_eq!(
            strip(&snapshot(&url)),
            new,
            "after a kill at step {k}, a re-run must end all-new"
        );
    }
    assert!(killed_at >= 10, "the apply had {killed_at} steps");
    eprintln!("kill -9 at each of {killed_at} steps: all recovered (all-old), then all-new");
}
