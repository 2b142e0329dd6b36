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
