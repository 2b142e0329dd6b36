//! Generated files are committed; these tests fail when they drift from the code.

mod common;

use vigil::model::{schema, ContentKind};

#[test]
fn schemas_are_up_to_date() {
    let dir = common::manifest_dir().join("schemas");
    for k in ContentKind::ALL {
        let path = dir.join(schema::file_name(k));
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            committed == schema::render(k),
            "{} is out of date: run `cargo run -- schema --write schemas`",
            path.display()
        );
    }
}

#[test]
fn the_vigil_toml_schema_is_up_to_date_and_the_bundled_file_uses_it() {
    let root = common::manifest_dir();
    let path = root.join("schemas").join(vigil::config::SCHEMA_FILE);
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == vigil::config::render_schema(),
        "{} is out of date: run `cargo run -- schema --write schemas`",
        path.display()
    );
    let toml = std::fs::read_to_string(root.join("vigil.toml")).unwrap();
    assert!(
        toml.starts_with("#:schema ./schemas/vigil.toml.schema.json\n"),
        "vigil.toml names its schema for TOML editors"
    );
    // Every key the loader accepts is in the schema: the bundled file parses cleanly.
    let (_, diags) = vigil::config::parse(vigil::source::FileId(0), &toml);
    assert!(diags.is_empty(), "{diags:?}");
}

#[test]
fn diagnostics_reference_is_up_to_date() {
    let path = common::manifest_dir().join("docs/diagnostics.md");
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    let now = vigil::diagnostics::catalog::markdown();
    // `VIGIL_BLESS=1 cargo test --test generated` rewrites it.
    if committed != now && std::env::var_os("VIGIL_BLESS").is_some() {
        std::fs::write(&path, &now).unwrap();
        return;
    }
    assert!(
        committed == now,
        "docs/diagnostics.md is out of date: run `VIGIL_BLESS=1 cargo test --test generated` (or `cargo run -- debug codes --markdown > docs/diagnostics.md`)"
    );
}

#[test]
fn every_code_is_raised_somewhere_in_the_source() {
    // A code nobody raises is dead documentation.
    let mut src = String::new();
    for entry in walk(&common::manifest_dir().join("src")) {
        src.push_str(&std::fs::read_to_string(entry).unwrap());
    }
    for info in vigil::diagnostics::CATALOG {
        let konst = src
            .lines()
            .find(|l| l.contains(&format!("= \"{}\"", info.code)))
            .and_then(|l| l.split_whitespace().next())
            .unwrap_or_else(|| panic!("{} has no constant", info.code))
            .to_string();
        let uses = src.matches(&format!("code::{konst}")).count();
        assert!(uses > 0, "{} ({konst}) is never raised", info.code);
    }
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
    out.sort();
    out
}

#[test]
fn the_tests_file_schema_is_up_to_date_and_accepts_the_bundled_tests() {
    let root = common::manifest_dir();
    let path = root.join("schemas").join(vigil::dryrun::SCHEMA_FILE);
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == vigil::dryrun::render_schema(),
        "{} is out of date: run `cargo run -- schema --write schemas`",
        path.display()
    );
    // Every bundled tests file loads (the loader is what the schema describes).
    let mut n = 0;
    for dir in ["detections", "hunts"] {
        for e in std::fs::read_dir(root.join(dir))
            .into_iter()
            .flatten()
            .flatten()
        {
            if vigil::dryrun::is_tests_file(&e.path()) {
                vigil::dryrun::read_tests(&e.path()).unwrap();
                n += 1;
            }
        }
    }
    assert!(n > 0);
}

/// The bundled `sandbox/` is what `vigil sandbox init` writes for the bundled content
/// (regenerate with `cargo run -- sandbox init`).
#[test]
fn the_bundled_sandbox_is_what_sandbox_init_writes() {
    let root = common::manifest_dir();
    let cx = vigil::ops::Context::open(vigil::ops::ContextOptions::new(root.clone())).unwrap();
    let data = vigil::ops::sandbox_init::sandbox_data(&cx);
    assert!(!data.is_empty());
    let dir = root.join("sandbox");
    let mut committed: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    committed.sort();
    let generated: Vec<String> = data.keys().map(|t| format!("{t}.jsonl")).collect();
    assert_eq!(committed, generated, "run `cargo run -- sandbox init`");
    for (table, (_, text)) in &data {
        let now = std::fs::read_to_string(dir.join(format!("{table}.jsonl"))).unwrap();
        assert!(
            &now == text,
            "sandbox/{table}.jsonl is out of date: run `cargo run -- sandbox init`"
        );
    }
}
