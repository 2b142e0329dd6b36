//! Regenerates the embedded KQL catalog: `cargo run --example gen_catalog`.
//!
//! Reads the schema sources of the shared corpus (`$VIGIL_CORPUS`, else `../shared/corpus`
//! beside this repository) and writes `src/kql/data/tables.tsv` and `src/kql/data/functions.tsv`.
use std::path::PathBuf;
use std::process::ExitCode;

fn main() -> ExitCode {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let corpus = std::env::var_os("VIGIL_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| manifest.join("../shared/corpus"));
    let schemas = corpus.join("schemas");
    if !schemas.is_dir() {
        eprintln!(
            "error: no schema sources at {} (set VIGIL_CORPUS to the corpus folder)",
            schemas.display()
        );
        return ExitCode::FAILURE;
    }
    let generated = match vigil::kql::catalog_gen::generate(&schemas) {
        Ok(g) => g,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    for w in &generated.warnings {
        eprintln!("warning: {w}");
    }
    let data = manifest.join("src/kql/data");
    for (name, text) in [
        ("tables.tsv", &generated.tables_tsv),
        ("functions.tsv", &generated.functions_tsv),
    ] {
        let path = data.join(name);
        if let Err(e) = std::fs::write(&path, text) {
            eprintln!("error: writing {}: {e}", path.display());
            return ExitCode::FAILURE;
        }
        eprintln!(
            "wrote {} ({} lines)",
            path.display(),
            text.lines().filter(|l| !l.starts_with('#')).count()
        );
    }
    ExitCode::SUCCESS
}
