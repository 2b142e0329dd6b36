//! KQL303 judged by RE2 itself: every literal regular expression of the corpus queries
//! (../shared/corpus/kql/queries.jsonl and every definition of ../shared/corpus/sentinel-yaml) and seeded mutations of each (a character dropped,
//! doubled or swapped with its neighbour, a metacharacter inserted) are compiled by Google's
//! RE2 (the `google-re2` package, pinned in `.ci/run`, default options) and checked by
//! `vigil::re2`. Goals: the same compiles/does-not-compile verdict for at least 99.5%, no
//! false rejection of a corpus pattern, and every pattern RE2 accepts translates into one the
//! engine's `regex` crate compiles.
//!
//! The RE2 side runs as a Python child process: `$VIGIL_RE2_PYTHON` (set by `.ci/run`), else
//! `python3` if it can `import re2`. `.ci/run` sets `VIGIL_REQUIRE_RE2=1`, so there a missing
//! RE2 fails the test; elsewhere it says it skipped.

mod common;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};

use common::Rng;

const RE2_SCRIPT: &str = r#"
import json, sys, re2
opts = re2.Options()
for line in sys.stdin:
    p = json.loads(line)
    try:
        re2.compile(p, opts)
        print(json.dumps({"ok": True}))
    except Exception as e:
        msg = e.args[0] if e.args else str(e)
        if isinstance(msg, bytes):
            msg = msg.decode("utf-8", "replace")
        print(json.dumps({"ok": False, "error": str(msg)}))
    sys.stdout.flush()
"#;

#[derive(serde::Deserialize)]
struct Answer {
    ok: bool,
    #[serde(default)]
    error: Option<String>,
}

fn python() -> Option<String> {
    let candidates: Vec<String> = std::env::var("VIGIL_RE2_PYTHON")
        .ok()
        .into_iter()
        .chain(["python3".to_string()])
        .collect();
    candidates.into_iter().find(|py| {
        Command::new(py)
            .args(["-c", "import re2"])
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    })
}

fn ask_re2(python: &str, patterns: &[String]) -> Vec<Answer> {
    let mut child = Command::new(python)
        .args(["-c", RE2_SCRIPT])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        // RE2 logs every parse error on stderr.
        .stderr(Stdio::null())
        .spawn()
        .expect("start python");
    let mut stdin = child.stdin.take().unwrap();
    let input: String = patterns
        .iter()
        .map(|p| serde_json::to_string(p).unwrap() + "\n")
        .collect();
    let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()).unwrap());
    let answers: Vec<Answer> = BufReader::new(child.stdout.take().unwrap())
        .lines()
        .map(|l| serde_json::from_str(&l.unwrap()).expect("an answer"))
        .collect();
    writer.join().unwrap();
    assert!(child.wait().unwrap().success(), "the RE2 script failed");
    assert_eq!(answers.len(), patterns.len(), "one answer per pattern");
    answers
}

const META: &[char] = &[
    '[', ']', '{', '}', '(', ')', '*', '+', '?', '|', '\\', '^', '$', '.', '-', ':', ',', '0', '1',
    '9', 'p', 'P', 'd', 'b', 'Q', 'E', 'x', '<', '>', '=', '!',
];

/// One seeded mutation of `p`, or None when it has nothing to mutate.
fn mutate(rng: &mut Rng, p: &str) -> Option<String> {
    let chars: Vec<char> = p.chars().collect();
    if chars.is_empty() {
        return None;
    }
    let i = rng.below(chars.len());
    let mut c = chars.clone();
    match rng.below(4) {
        0 => {
            c.remove(i);
        }
        1 => c.insert(i, chars[i]),
        2 if chars.len() > 1 => {
            let j = if i + 1 < chars.len() { i + 1 } else { i - 1 };
            c.swap(i, j);
        }
        _ => c.insert(i, META[rng.below(META.len())]),
    }
    let m: String = c.into_iter().collect();
    (m != p).then_some(m)
}

#[test]
fn kql303_agrees_with_re2() {
    let required = std::env::var_os("VIGIL_REQUIRE_RE2").is_some();
    let Some(corpus) = common::corpus() else {
        assert!(
            !required,
            "VIGIL_REQUIRE_RE2 is set but the corpus was not found"
        );
        eprintln!("SKIPPED kql303_agrees_with_re2: corpus not found (set VIGIL_CORPUS)");
        return;
    };
    let Some(py) = python() else {
        assert!(
            !required,
            "VIGIL_REQUIRE_RE2 is set but no python can import re2 (VIGIL_RE2_PYTHON)"
        );
        eprintln!("SKIPPED kql303_agrees_with_re2: google-re2 not installed (pip install google-re2==1.1.20251105; set VIGIL_RE2_PYTHON)");
        return;
    };
    let queries: Vec<common::CorpusQuery> = common::read_jsonl(&corpus.join("kql/queries.jsonl"));
    let mut originals: Vec<String> = Vec::new();
    for q in &queries {
        let p = vigil::kql::parse(&q.query);
        for (pattern, _, _) in vigil::kql::lints::regex_literals(&q.query, &p.tree) {
            originals.push(pattern);
        }
    }
    // And the queries of every definition in the YAML snapshots.
    let yaml = corpus.join("sentinel-yaml");
    let mut snapshots: Vec<_> = std::fs::read_dir(&yaml)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect();
    snapshots.sort();
    for snap in &snapshots {
        let (_, checked) = common::check_root_with(snap, false);
        for d in &checked.definitions {
            if let Some(q) = d.query() {
                let p = vigil::kql::parse(q);
                for (pattern, _, _) in vigil::kql::lints::regex_literals(q, &p.tree) {
                    originals.push(pattern);
                }
            }
        }
    }
    originals.sort();
    originals.dedup();
    assert!(
        originals.len() > 100,
        "only {} regex literals found",
        originals.len()
    );
    let mut rng = Rng(0x2E2_5EED);
    let mut mutations: Vec<String> = Vec::new();
    for p in &originals {
        for _ in 0..4 {
            if let Some(m) = mutate(&mut rng, p) {
                mutations.push(m);
            }
        }
    }
    mutations.sort();
    mutations.dedup();
    mutations.retain(|m| originals.binary_search(m).is_err());

    let mut report = String::new();
    let mut failures = Vec::new();
    let mut all_total = 0usize;
    let mut all_agree = 0usize;
    for (set, patterns) in [("corpus", &originals), ("mutations", &mutations)] {
        let answers = ask_re2(&py, patterns);
        let (mut agree, mut false_reject, mut false_accept) = (0usize, 0usize, 0usize);
        let (mut rejected, mut same_message) = (0usize, 0usize);
        let mut untranslatable = 0usize;
        let mut examples: BTreeMap<&str, Vec<String>> = BTreeMap::new();
        for (p, a) in patterns.iter().zip(&answers) {
            let ours = vigil::re2::translate(p);
            match (&ours, a.ok) {
                (Ok(t), true) => {
                    agree += 1;
                    if regex::Regex::new(t).is_err() {
                        untranslatable += 1;
                        examples
                            .entry("translation does not compile")
                            .or_default()
                            .push(format!("{p:?} -> {t:?}"));
                    }
                }
                (Err(e), false) => {
                    agree += 1;
                    rejected += 1;
                    if a.error.as_deref() == Some(e.to_string().as_str()) {
                        same_message += 1;
                    } else {
                        examples.entry("other message").or_default().push(format!(
                            "{p:?}: RE2 {:?}, vigil {:?}",
                            a.error,
                            e.to_string()
                        ));
                    }
                }
                (Err(e), true) => {
                    false_reject += 1;
                    examples
                        .entry("vigil rejects, RE2 accepts")
                        .or_default()
                        .push(format!("{p:?}: {e}"));
                }
                (Ok(_), false) => {
                    false_accept += 1;
                    examples
                        .entry("vigil accepts, RE2 rejects")
                        .or_default()
                        .push(format!("{p:?}: {:?}", a.error));
                }
            }
        }
        let n = patterns.len();
        all_total += n;
        all_agree += agree;
        report += &format!(
            "{set}: {n} patterns, verdicts agree on {agree} ({:.2}%); vigil rejects what RE2 accepts: {false_reject}, accepts what RE2 rejects: {false_accept}; same message on {same_message}/{rejected} rejected; translations that do not compile: {untranslatable}\n",
            100.0 * agree as f64 / n as f64
        );
        for (k, v) in &examples {
            report += &format!("  {k}: {}\n", v.len());
            for e in v.iter().take(8) {
                report += &format!("    {e}\n");
            }
        }
        if set == "corpus" && false_reject > 0 {
            failures.push(format!("{false_reject} corpus patterns falsely rejected"));
        }
        if untranslatable > 0 {
            failures.push(format!(
                "{set}: {untranslatable} accepted patterns do not translate"
            ));
        }
    }
    let rate = all_agree as f64 / all_total as f64;
    report += &format!(
        "total: {all_agree}/{all_total} verdicts agree ({:.2}%)\n",
        100.0 * rate
    );
    eprintln!("{report}");
    if rate < 0.995 {
        failures.push(format!("verdict agreement {:.2}% < 99.5%", 100.0 * rate));
    }
    assert!(failures.is_empty(), "{}\n{report}", failures.join("; "));
}
