//! Data-driven validation tests: every file under `tests/data/validate/ok` must be clean
//! (notes allowed); every file under `tests/data/validate/err` must produce findings, and the
//! rendered findings are snapshotted beside the inputs (`err/snapshots/`).

mod common;

use std::collections::BTreeMap;

use vigil::diagnostics::{Diagnostic, Severity};

#[test]
fn ok_files_are_clean() {
    let root = common::manifest_dir().join("tests/data/validate/ok");
    let (ws, checked) = common::check_root(&root);
    let bad: Vec<Diagnostic> = checked
        .diagnostics
        .iter()
        .filter(|d| d.severity >= Severity::Warning)
        .cloned()
        .collect();
    assert!(bad.is_empty(), "{}", common::render(&ws, &bad));
    assert_eq!(checked.stats.definitions, ws.files.len());
}

#[test]
fn err_files_report_and_snapshot() {
    let root = common::manifest_dir().join("tests/data/validate/err");
    let (ws, checked) = common::check_root(&root);
    let mut by_file: BTreeMap<String, Vec<Diagnostic>> = BTreeMap::new();
    for &f in &ws.files {
        by_file.insert(
            ws.db.path(f).to_string_lossy().replace('\\', "/"),
            Vec::new(),
        );
    }
    for d in &checked.diagnostics {
        let p = ws.db.path(d.span.file).to_string_lossy().replace('\\', "/");
        if p == "vigil.toml" {
            panic!("the fixture config has a problem: {}", d.message);
        }
        by_file.entry(p).or_default().push(d.clone());
    }
    // Files that are only the "first defined here" side of a cross-file finding.
    let related: Vec<String> = checked
        .diagnostics
        .iter()
        .flat_map(|d| d.related.iter())
        .map(|r| ws.db.path(r.span.file).to_string_lossy().replace('\\', "/"))
        .collect();
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path("data/validate/err/snapshots");
    settings.set_prepend_module_to_snapshot(false);
    settings.bind(|| {
        for (path, diags) in &by_file {
            assert!(
                !diags.is_empty() || related.contains(path),
                "{path}: expected findings, got none"
            );
            if diags.is_empty() {
                continue;
            }
            let name = path
                .replace(['/', ' '], "__")
                .trim_end_matches(".yaml")
                .to_string();
            insta::assert_snapshot!(name, common::render(&ws, diags));
        }
    });
}
