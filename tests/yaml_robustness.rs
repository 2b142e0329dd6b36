//! Never a panic on definition files: real corpus files and deterministic mutations of them
//! (truncations, deleted and inserted bytes) go through YAML parsing, loading, validation and
//! KQL analysis.

mod common;

use vigil::config::ContentFolders;
use vigil::model::load::{self, NoSiblings};
use vigil::source::SourceDb;
use vigil::validate::{self, kql::KqlAnalyzer};

use common::Rng;

const INSERTS: &[&str] = &[
    ":", "- ", "\n  ", "\n", "'", "\"", "{{x}}", "[", "]", "{", "}", "&a ", "*a", "!!str ", "|",
    ">", "#", "\t", "é", "---\n", "? ",
];

fn mutate(rng: &mut Rng, text: &str) -> String {
    let mut s: Vec<u8> = text.as_bytes().to_vec();
    for _ in 0..1 + rng.below(3) {
        let at = rng.below(s.len() + 1);
        match rng.below(3) {
            0 => s.truncate(at),
            1 => {
                if at < s.len() {
                    let end = (at + 1 + rng.below(12)).min(s.len());
                    s.drain(at..end);
                }
            }
            _ => {
                let ins = INSERTS[rng.below(INSERTS.len())].as_bytes();
                s.splice(at..at, ins.iter().copied());
            }
        }
    }
    String::from_utf8_lossy(&s).into_owned()
}

#[test]
fn mutated_definitions_never_panic() {
    let mut files: Vec<(String, String)> = vec![(
        "detections/a.yaml".into(),
        "id: 00000000-0000-4000-8000-000000000001\nname: n\ndescription: d\nseverity: Low\nkind: Scheduled\nqueryFrequency: 1h\nqueryPeriod: 1h\ntriggerOperator: gt\ntriggerThreshold: 0\nquery: |\n  SigninLogs\n  | take 1\nentityMappings:\n  - entityType: IP\n    fieldMappings:\n      - identifier: Address\n        columnName: IPAddress\n".into(),
    )];
    if let Some(corpus) = common::corpus() {
        let mut all = Vec::new();
        let mut stack = vec![corpus.join("sentinel-yaml")];
        while let Some(d) = stack.pop() {
            for e in std::fs::read_dir(&d).unwrap().flatten() {
                let p = e.path();
                if p.is_dir() {
                    stack.push(p);
                } else {
                    all.push(p);
                }
            }
        }
        all.sort();
        for (i, p) in all.iter().enumerate() {
            if i % 15 == 0 {
                let text = String::from_utf8_lossy(&std::fs::read(p).unwrap()).into_owned();
                let rel = if p.to_string_lossy().contains("Hunting") {
                    "hunts/x.yaml"
                } else {
                    "detections/x.yaml"
                };
                files.push((rel.into(), text));
            }
        }
    }
    let folders = ContentFolders::default();
    let analyzer = KqlAnalyzer::default();
    let policy = vigil::config::Policy::default();
    let ctx = validate::Context {
        environments: vec!["prod".into()],
        analyzer: Some(&analyzer),
        policy: &policy,
    };
    let mut rng = Rng(0x2545_F491_4F6C_DD1D);
    let mut runs = 0;
    for (path, text) in &files {
        for k in 0..10 {
            let t = if k == 0 {
                text.clone()
            } else {
                mutate(&mut rng, text)
            };
            let mut db = SourceDb::new();
            let id = db.add(path.as_str(), t.as_str());
            let loaded = load::load(id, db.get(id), &folders, &NoSiblings);
            if let Some(def) = &loaded.definition {
                let _ = validate::check_definition(def, &t, &ctx);
            }
            runs += 1;
        }
    }
    eprintln!("{} files, {runs} variants: no panic", files.len());
    assert!(runs >= 10);
}
