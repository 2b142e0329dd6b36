#![doc = include_str!("../ARCHITECTURE.md")]

pub mod config;
pub mod diagnostics;
pub mod model;
pub mod source;
pub mod yaml;
pub mod compile;
pub mod hash;
pub mod validate;
pub mod workspace;
pub mod pipeline;
pub mod cli;
