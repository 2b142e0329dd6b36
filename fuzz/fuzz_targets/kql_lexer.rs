//! Lexer: any text lexes without panicking, and the tokens tile the input exactly.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (tokens, _errors) = vigil::kql::lexer::lex(text);
    let mut at = 0u32;
    for t in &tokens {
        assert_eq!(t.start, at, "tokens leave a gap, overlap or go backwards");
        assert!(t.end() as usize <= text.len(), "token out of bounds");
        assert!(text.is_char_boundary(t.start as usize) && text.is_char_boundary(t.end() as usize));
        at = t.end();
    }
    assert_eq!(at as usize, text.len(), "tokens do not reach the end of the text");
});
