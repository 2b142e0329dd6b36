//! `vigil test`: the detection tests beside each rule (`x.tests.yaml`), run on the embedded
//! engine.

use std::path::PathBuf;

use super::{open_selected, Context, OpError};
use crate::dryrun::{self, CaseResult};
use crate::model::Item;

#[derive(Clone, Debug, Default)]
pub struct TestOptions {
    /// Definitions to test (empty: all).
    pub paths: Vec<PathBuf>,
}

pub struct TestOutcome {
    pub results: Vec<CaseResult>,
    /// Selected rules without a tests file (root-relative paths).
    pub untested: Vec<String>,
}

impl TestOutcome {
    pub fn failed(&self) -> usize {
        self.results.iter().filter(|r| !r.passed).count()
    }
}

pub fn test(cx: &Context, o: &TestOptions) -> Result<TestOutcome, OpError> {
    let (ws, sel) = open_selected(cx, &o.paths);
    let checked = crate::pipeline::check_selected(&ws, &cx.siblings(), None, true, sel.as_ref());
    let now = cx.sandbox().now;
    let rules: Vec<_> = checked
        .selected_definitions()
        .filter(|d| matches!(d.item, Item::Rule(_)))
        .collect();
    let progress = cx.progress("test", rules.len() as u64);
    let mut results = Vec::new();
    let mut untested = Vec::new();
    for d in rules {
        let tf = dryrun::tests_path(&cx.root.join(&d.path));
        if cx.out_of_run_time() {
            results.push(CaseResult::unreadable(
                d.name(),
                &tf,
                cx.out_of_run_time_message(),
            ));
            progress.inc(1);
            continue;
        }
        if !tf.is_file() {
            untested.push(d.path.display().to_string());
            progress.inc(1);
            continue;
        }
        match dryrun::read_tests_in(&cx.root, &tf) {
            Ok(tests) => results.extend(dryrun::run_rule_tests(
                &cx.root,
                d,
                &tests,
                &tf,
                &checked.definitions,
                now,
                &cx.config.schemas,
            )),
            Err(e) => results.push(CaseResult::unreadable(d.name(), &tf, e)),
        }
        progress.inc(1);
    }
    progress.finish();
    Ok(TestOutcome { results, untested })
}
