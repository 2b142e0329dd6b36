//! Parser: any text parses without panicking, and the tree reproduces the text byte for byte.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let p = vigil::kql::parse(text);
    assert_eq!(p.tree.text(text), text, "lossless");
    for e in &p.errors {
        assert!(e.start <= e.end && e.end as usize <= text.len(), "error span out of bounds");
    }
});
