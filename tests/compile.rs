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
    let mut arts = pipeline::compile(&ws, &checked, env);
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
                let v = serde_json::json!({ "artifact": a, "arm": a.arm_resources() });
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

/// The whole split at once (groups of indexes into `pieces`), as `emit` makes it while it
/// writes: sorted in deployment order, then the `Splitter`.
fn split_combined(
    pieces: &[compile::Piece<'_>],
    max_resources: usize,
    max_bytes: usize,
) -> (Vec<Vec<usize>>, Vec<vigil::diagnostics::Diagnostic>) {
    let mut idx: Vec<usize> = (0..pieces.len()).collect();
    idx.sort_by(|&a, &b| {
        (compile::order(pieces[a].kind), pieces[a].name)
            .cmp(&(compile::order(pieces[b].kind), pieces[b].name))
    });
    let mut splitter = compile::Splitter::new(max_resources, max_bytes);
    let mut groups: Vec<Vec<usize>> = Vec::new();
    let mut current: Vec<usize> = Vec::new();
    for i in idx {
        if splitter.push(&pieces[i]) && !current.is_empty() {
            groups.push(std::mem::take(&mut current));
        }
        current.push(i);
    }
    if !current.is_empty() {
        groups.push(current);
    }
    (groups, splitter.diagnostics)
}

/// Each artifact as a piece of a combined template (its ARM text's size).
fn pieces<'a>(arts: &'a [compile::Artifact], texts: &[String]) -> Vec<compile::Piece<'a>> {
    arts.iter()
        .zip(texts)
        .map(|(a, t)| compile::Piece {
            kind: a.content_kind,
            name: &a.name,
            size: t.len(),
        })
        .collect()
}

#[test]
fn combined_templates_split_within_limits_and_parse_back() {
    let arts = compiled(None);
    let texts: Vec<String> = arts.iter().map(|a| a.arm_text()).collect();
    let pieces = pieces(&arts, &texts);
    // Two resources per artifact; a limit of 4 forces splitting.
    let (groups, diags) = split_combined(&pieces, 4, 4 * 1024 * 1024);
    assert!(diags.is_empty());
    assert!(groups.len() >= arts.len() / 2);
    assert!(groups.iter().all(|g| g.len() * 2 <= 4));
    let mut all: Vec<usize> = groups.iter().flatten().copied().collect();
    all.sort();
    assert_eq!(all, (0..arts.len()).collect::<Vec<_>>());
    // Watchlists and functions come before the rules that use them.
    assert_eq!(arts[groups[0][0]].kind, "watchlist");
    assert_eq!(arts[*groups.last().unwrap().last().unwrap()].kind, "rule");
    let w = Templates::new().arm_wrapper().unwrap();
    for g in &groups {
        let joined = g
            .iter()
            .map(|&i| texts[i].as_str())
            .collect::<Vec<_>>()
            .join(",\n");
        let text = w.assemble("a \"quoted\" description", &format!("[{joined}]"));
        let arm: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(arm["parameters"]["workspace"]["type"], "String");
        assert_eq!(arm["metadata"]["description"], "a \"quoted\" description");
        assert_eq!(arm["resources"].as_array().unwrap().len(), g.len() * 2);
    }
    // A byte limit smaller than any artifact reports it.
    let (_, diags) = split_combined(&pieces, 800, 100);
    assert!(!diags.is_empty());
}

#[test]
fn a_user_template_that_is_not_json_is_rejected() {
    let mut t = Templates::new();
    t.set(
        vigil::compile::templates::ARM_TEMPLATE,
        "{ \"resources\": {{{resources}}} ",
    )
    .unwrap();
    assert!(t.arm_wrapper().is_err());
    t.set(
        vigil::compile::templates::ARM_TEMPLATE,
        "{ \"resources\": {{{resources}}} }",
    )
    .unwrap();
    assert!(t.arm_wrapper().is_ok());
}

/// The writer fills the combined templates while it compiles (streaming): the templates on disk
/// must hold every item once, in deployment order, grouped exactly as `split_combined` groups
/// the same items, and a re-run with other limits must remove the templates it no longer
/// writes.
#[test]
fn written_combined_templates_match_the_split_and_stale_ones_go() {
    let root = common::manifest_dir().join("tests/data/validate/ok");
    let (mut ws, checked) = common::check_root(&root);
    let defs = pipeline::compilable(&checked);
    let arts = compiled(None);
    let texts: Vec<String> = arts.iter().map(|a| a.arm_text()).collect();
    let pieces = pieces(&arts, &texts);
    let out = tempfile::tempdir().unwrap();
    let read_templates = || -> Vec<serde_json::Value> {
        let mut files: Vec<_> = std::fs::read_dir(out.path().join("arm"))
            .unwrap()
            .flatten()
            .map(|e| e.path())
            .collect();
        files.sort();
        files
            .iter()
            .map(|p| serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap())
            .collect()
    };
    for (max_resources, max_bytes) in [(6, 4 << 20), (800, 4 << 20), (800, 9_000)] {
        ws.config.compile.max_resources_per_template = max_resources;
        ws.config.compile.max_template_bytes = max_bytes;
        let written = vigil::emit::compile_and_write(
            out.path(),
            &defs,
            &pipeline::options(&ws, None),
            &Templates::new(),
        )
        .unwrap();
        let (groups, _) = split_combined(&pieces, max_resources, max_bytes);
        let on_disk = read_templates();
        assert_eq!(written.templates, groups.len());
        assert_eq!(on_disk.len(), groups.len(), "stale templates removed");
        for (g, t) in groups.iter().zip(&on_disk) {
            let want: Vec<serde_json::Value> =
                g.iter().flat_map(|&i| arts[i].arm_resources()).collect();
            assert_eq!(t["resources"].as_array().unwrap(), &want);
            assert!(t["resources"].as_array().unwrap().len() <= max_resources);
        }
        let manifest: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(out.path().join("manifest.json")).unwrap(),
        )
        .unwrap();
        assert_eq!(manifest["items"].as_array().unwrap().len(), arts.len());
        assert_eq!(
            manifest["templates"].as_array().unwrap().len(),
            groups.len()
        );
    }
}

/// The content hash compile streams is the hash of the projection plan and deploy build, for
/// every definition of the test content and of the real corpus.
#[test]
fn content_hash_is_the_projection_hash_on_real_content() {
    let mut roots = vec![common::manifest_dir().join("tests/data/validate/ok")];
    if let Some(corpus) = common::corpus() {
        let mut snaps: Vec<_> = std::fs::read_dir(corpus.join("sentinel-yaml"))
            .unwrap()
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.is_dir())
            .collect();
        snaps.sort();
        roots.extend(snaps);
    }
    let mut n = 0;
    for root in &roots {
        let (ws, checked) = common::check_root_with(root, false);
        for a in pipeline::compile(&ws, &checked, None) {
            let rtype =
                vigil::rest::RType::from_segment(a.resource.path.rsplit('/').nth(1).unwrap())
                    .expect("a resource type");
            let projected =
                vigil::rest::content_hash(&vigil::rest::project(rtype, &a.resource.body, None));
            assert_eq!(a.content_hash, projected, "{}", a.source);
            n += 1;
        }
    }
    eprintln!("{n} artifacts checked");
    assert!(n > 10, "only {n} artifacts");
}
