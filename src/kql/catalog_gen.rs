//! Generates the embedded table and function catalog from public column lists.
//! (Being written.)
