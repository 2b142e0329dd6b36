//! The KQL front end: lexer, parser, binder and lints for Kusto queries as written in Sentinel
//! content.
//!
//! This module knows nothing of YAML, ARM or Azure, so it could be published as its own crate.
//! It works on query text and byte offsets; callers map offsets back to their files.

pub mod ast;
pub mod binder;
pub mod catalog;
pub mod catalog_gen;
pub mod lexer;
pub mod lints;
pub mod literal;
pub mod parser;
pub mod refs;
pub mod syntax;
pub mod view;
pub mod walk;

pub use parser::{parse, ErrorKind, Parse, SyntaxError};
