//! Real content: `vigil validate` over ../shared/corpus/sentinel-yaml, each snapshot folder as
//! its own repository. Every rejection is listed in `tests/corpus/rejections.tsv`, a reviewed
//! expectation file; the test fails when the list changes (bless with `VIGIL_BLESS=1`).
//!
//! The corpus is found through `$VIGIL_CORPUS` (set by `.ci/run`) or `../shared/corpus`; when it
//! is absent the test says so and passes without checking anything.

mod common;

use std::collections::BTreeSet;
use std::fmt::Write as _;

use vigil::diagnostics::Severity;

#[test]
fn corpus_validates_with_reviewed_rejections() {
    let Some(corpus) = common::corpus() else {
        eprintln!("SKIPPED corpus_validates_with_reviewed_rejections: corpus not found (set VIGIL_CORPUS)");
        return;
    };
    let yaml = corpus.join("sentinel-yaml");
    let mut snapshots: Vec<_> = std::fs::read_dir(&yaml)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect();
    snapshots.sort();
    let mut lines = BTreeSet::new();
    let (mut considered, mut passed, mut stubs, mut warnings) = (0usize, 0usize, 0usize, 0usize);
    // Files whose only errors are conflicts with another file (duplicate id or name).
    let mut conflict_only = 0usize;
    let mut report = String::new();
    for snap in &snapshots {
        let name = snap.file_name().unwrap().to_string_lossy().into_owned();
        let (ws, checked) = common::check_root_with(snap, false);
        let files = checked.stats.files;
        let defs = files - checked.stats.stubs;
        let failed = checked.files_with_errors;
        let mut own: Vec<_> = checked
            .diagnostics
            .iter()
            .filter(|d| d.is_error() && !matches!(d.code.as_str(), "VG226" | "VG227"))
            .map(|d| d.span.file)
            .collect();
        own.sort();
        own.dedup();
        conflict_only += failed - own.len();
        considered += defs;
        passed += defs - failed;
        stubs += checked.stats.stubs;
        warnings += checked
            .diagnostics
            .iter()
            .filter(|d| d.severity == Severity::Warning)
            .count();
        let _ = writeln!(
            report,
            "{name}: {files} files, {} moved stubs, {defs} definitions, {failed} rejected",
            checked.stats.stubs
        );
        for d in checked.diagnostics.iter().filter(|d| d.is_error()) {
            let f = ws.db.get(d.span.file);
            let lc = f.line_col(d.span.start);
            lines.insert(format!(
                "{name}\t{}:{}:{}\t{}\t{}",
                f.path.to_string_lossy().replace('\\', "/"),
                lc.line,
                lc.col,
                d.code,
                d.message.replace(['\t', '\n'], " ")
            ));
        }
    }
    let rate = passed as f64 / considered as f64;
    let own_rate = (passed + conflict_only) as f64 / considered as f64;
    let _ = writeln!(
        report,
        "total: {considered} definitions (stubs excluded: {stubs}), {passed} validate without errors = {:.2}%; {warnings} warnings\n\
         {conflict_only} of the rejected are rejected only for clashing with another file of the same snapshot \
         (duplicate id with different content, or duplicate rule name); on their own, {:.2}% validate",
        rate * 100.0,
        own_rate * 100.0
    );
    eprintln!("{report}");
    let mut text = String::from(
        "# Rejections of real content by `vigil validate` (reviewed; regenerate with VIGIL_BLESS=1).\n# snapshot\tfile:line:col\tcode\tmessage\n",
    );
    for l in &lines {
        text.push_str(l);
        text.push('\n');
    }
    let path = common::manifest_dir().join("tests/corpus/rejections.tsv");
    if std::env::var_os("VIGIL_BLESS").is_some() {
        std::fs::write(&path, &text).unwrap();
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == text,
        "rejections changed; review the diff and bless with VIGIL_BLESS=1:\n{}",
        diff(&committed, &text)
    );
    // The goal: 99% of real definitions validate on their own. Repository-level conflicts are
    // reported (and listed above) but are properties of the corpus's snapshots, which keep legacy
    // and solution copies of the same items side by side.
    assert!(
        own_rate >= 0.99,
        "only {:.2}% of real definitions validate",
        own_rate * 100.0
    );
}

fn diff(old: &str, new: &str) -> String {
    let o: BTreeSet<&str> = old.lines().collect();
    let n: BTreeSet<&str> = new.lines().collect();
    let mut s = String::new();
    for l in o.difference(&n) {
        let _ = writeln!(s, "- {l}");
    }
    for l in n.difference(&o) {
        let _ = writeln!(s, "+ {l}");
    }
    s
}
