//! Talking to Azure: credentials ([`auth`]), the retrying HTTP client for ARM and the query API
//! ([`client`]), and the query API's calls ([`query`]).
//!
//! **Architecture Invariant:** this module knows HTTP, ARM and tokens, not vigil's content
//! model; it never prints (the CLI does) and never logs a token.

pub mod auth;
pub mod client;
pub mod hosts;
pub mod http;
pub mod query;

pub use auth::Credential;
pub use client::{ApiResponse, AzureError, Client, RetryPolicy};

/// Scope of tokens for ARM.
pub const ARM_SCOPE: &str = "https://management.azure.com/.default";
