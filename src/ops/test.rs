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
    // Each rule's tests run on any core; results are collected in the rules' order.
    let deadline = cx.run_deadline();
    let per_rule: Vec<(Vec<CaseResult>, Option<String>)> = {
        use rayon::prelude::*;
        rules
            .par_iter()
            .map(|d| {
                let tf = dryrun::tests_path(&cx.root.join(&d.path));
                if std::time::Instant::now() >= deadline {
                    return (
                        vec![CaseResult::unreadable(
                            d.name(),
                            &tf,
                            cx.out_of_run_time_message(),
                        )],
                        None,
                    );
                }
                if !tf.is_file() {
                    return (Vec::new(), Some(d.path.display().to_string()));
                }
                let results = match dryrun::read_tests_in(&cx.root, &tf) {
                    Ok(tests) => dryrun::run_rule_tests(
                        &cx.root,
                        d,
                        &tests,
                        &tf,
                        &checked.definitions,
                        now,
                        &cx.config.schemas,
                    ),
                    Err(e) => vec![CaseResult::unreadable(d.name(), &tf, e)],
                };
                (results, None)
            })
            .collect()
    };
    let mut results = Vec::new();
    let mut untested = Vec::new();
    for (r, u) in per_rule {
        results.extend(r);
        untested.extend(u);
        progress.inc(1);
    }
    progress.finish();
    Ok(TestOutcome { results, untested })
}
