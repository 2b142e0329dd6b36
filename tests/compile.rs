//! Compilation snapshots: every kind, with and without environment overrides, plus
//! determinism and ARM template splitting.

mod common;

use vigil::compile::{self, templates::Templates};
use vigil::pipeline;

fn compiled(env: Option<&str>) -> Vec<compile::Artifact> {
    let root = common::manifest_dir().join("tests/data/validate/ok");
    let (ws, checked) = common::check_root(&root);
    assert_eq!(
        vigil::diagnostics::Counts::of(&checked.diagnostics).errors,
        0
    );
    let mut arts = pipeline::compile(&ws, &checked, env).artifacts;
    arts.sort_by(|a, b| (a.kind, &a.name).cmp(&(b.kind, &b.name)));
    arts
}

#[test]
fn every_kind_compiles_to_its_payload() {
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path("data/compile/snapshots");
    settings.set_prepend_module_to_snapshot(false);
    settings.bind(|| {
        for env in [None, Some("prod")] {
            for a in compiled(env) {
                let name = format!(
                    "{}-{}{}",
                    a.kind,
                    a.name,
                    env.map(|e| format!("-{e}")).unwrap_or_default()
                );
                let v = serde_json::json!({ "artifact": a, "arm": a.arm_resources });
                insta::assert_json_snapshot!(name, v);
            }
        }
    });
}

#[test]
fn compilation_is_deterministic() {
    let a = serde_json::to_string(&compiled(Some("prod"))).unwrap();
    let b = serde_json::to_string(&compiled(Some("prod"))).unwrap();
    assert_eq!(a, b);
}

#[test]
fn overrides_change_only_what_they_name() {
    let base = compiled(None);
    let prod = compiled(Some("prod"));
    let rule = |arts: &[compile::Artifact]| {
        arts.iter()
            .find(|a| a.name == "7a1d2a40-0001-4000-8000-000000000002")
            .unwrap()
            .resource
            .body["properties"]
            .clone()
    };
    let (b, p) = (rule(&base), rule(&prod));
    assert_eq!(b["severity"], "Informational");
    assert_eq!(p["severity"], "High");
    assert_eq!(b["queryFrequency"], "PT6H");
    assert_eq!(p["queryFrequency"], "PT1H");
    assert_eq!(b["query"], p["query"]);
    assert_eq!(b["entityMappings"], p["entityMappings"]);
}

#[test]
fn sub_techniques_use_the_preview_api() {
    let arts = compiled(None);
    let a = arts
        .iter()
        .find(|a| a.name == "7a1d2a40-0001-4000-8000-000000000002")
        .unwrap();
    assert!(a.resource.api_version.ends_with("-preview"));
    assert_eq!(
        a.resource.body["properties"]["techniques"],
        serde_json::json!(["T1078"])
    );
    assert_eq!(
        a.resource.body["properties"]["subTechniques"],
        serde_json::json!(["T1078.004"])
    );
}

#[test]
fn combined_templates_split_within_limits_and_parse_back() {
    let arts = compiled(None);
    // Two resources per artifact; a limit of 4 forces splitting.
    let (groups, diags) = compile::split_combined(&arts, 4, 4 * 1024 * 1024);
    assert!(diags.is_empty());
    assert!(groups.len() >= arts.len() / 2);
    assert!(groups.iter().all(|g| g.len() <= 4));
    let total: usize = groups.iter().map(|g| g.len()).sum();
    assert_eq!(total, arts.len() * 2);
    // Watchlists and functions come before the rules that use them.
    let first = &groups[0][0]["type"];
    assert!(first.as_str().unwrap().ends_with("watchlists"), "{first}");
    let t = Templates::new();
    for g in &groups {
        let arm = t.arm(g, "test").unwrap();
        assert_eq!(arm["parameters"]["workspace"]["type"], "String");
        assert_eq!(arm["resources"].as_array().unwrap().len(), g.len());
    }
    // A byte limit smaller than any artifact reports it.
    let (_, diags) = compile::split_combined(&arts, 800, 100);
    assert!(!diags.is_empty());
}
