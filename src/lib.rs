#![doc = include_str!("../ARCHITECTURE.md")]

pub mod cli;
pub mod compile;
pub mod config;
pub mod diagnostics;
pub mod emit;
pub mod gate;
pub mod hash;
pub mod kql;
pub mod model;
pub mod pipeline;
pub mod rollout;
pub mod source;
pub mod validate;
pub mod workspace;
pub mod yaml;
