#![doc = include_str!("../ARCHITECTURE.md")]

pub mod cli;
pub mod compile;
pub mod config;
pub mod diagnostics;
pub mod dryrun;
pub mod emit;
pub mod engine;
pub mod hash;
pub mod kql;
pub mod model;
pub mod pipeline;
pub mod sandbox;
pub mod source;
pub mod validate;
pub mod workspace;
pub mod yaml;
