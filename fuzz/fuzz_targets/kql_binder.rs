//! Binder and lints: any text parses, lints and binds against the embedded Sentinel catalog
//! without panicking.
#![no_main]
use libfuzzer_sys::fuzz_target;
use vigil::kql::catalog::Catalog;
use vigil::kql::lints::{self, QueryUse};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let p = vigil::kql::parse(text);
    let _ = lints::run(text, &p.tree, QueryUse::Rule);
    let _ = lints::run(text, &p.tree, QueryUse::Hunt);
    let _ = vigil::kql::binder::bind(text, &p.tree, Catalog::embedded());
});
