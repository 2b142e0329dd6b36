//! `vigil emulate`: a local Sentinel (ARM subset and query API) on loopback, with fault
//! injection; the query API answers from the repository's sandbox.

use std::path::PathBuf;

use super::{Context, OpError};
use crate::deploy::env;

pub struct EmulateOptions {
    /// Address to listen on (`127.0.0.1:0` picks a free port).
    pub addr: String,
    /// State folder (default `.vigil/emulator`); `None` with `memory`.
    pub state: Option<PathBuf>,
    /// Keep state in memory only.
    pub memory: bool,
    pub faults: crate::emulator::Faults,
    /// Require `Authorization: Bearer TOKEN`.
    pub token: Option<String>,
    /// How long watchlist operations stay in progress.
    pub lro_delay: std::time::Duration,
    /// Extra tables for every workspace (kql-oracle schema JSON).
    pub schema: Option<PathBuf>,
    /// Start on a virtual clock (RFC 3339).
    pub clock: Option<String>,
    /// Consecutive failed runs after which the scheduler disables a rule.
    pub auto_disable_after: u32,
    /// The folder of table files every workspace reads (default: the repository's sandbox).
    pub data: Option<PathBuf>,
}

/// A running emulator and what it runs with.
pub struct Running {
    pub emulator: crate::emulator::Emulator,
    /// One line describing its options.
    pub described: String,
}

/// Start the emulator; it serves until the process ends (`emulator.server.wait()`).
pub fn emulate(cx: &Context, o: EmulateOptions) -> Result<Running, OpError> {
    let state = if o.memory {
        None
    } else {
        Some(match &o.state {
            Some(s) => cx.path(s),
            None => cx.root.join(env::EMULATOR_STATE),
        })
    };
    let schema = match &o.schema {
        Some(p) => {
            let p = cx.path(p);
            let text = std::fs::read_to_string(&p)
                .map_err(|e| OpError::usage(format!("cannot read {}: {e}", p.display())))?;
            Some(
                serde_json::from_str(&text)
                    .map_err(|e| OpError::usage(format!("{}: {e}", p.display())))?,
            )
        }
        None => None,
    };
    let opts = crate::emulator::Options {
        state: state.clone(),
        faults: o.faults,
        token: o.token,
        lro_delay: o.lro_delay,
        schema,
        engine: cx.sandbox_engine_over(o.data.as_deref()),
        clock: o.clock,
        auto_disable_after: o.auto_disable_after,
    };
    let described = crate::emulator::describe(&opts);
    let emulator = crate::emulator::start(&o.addr, opts).map_err(|e| {
        OpError::new(
            super::Failure::Setup,
            format!("cannot listen on {}: {e}", o.addr),
        )
    })?;
    if let Some(s) = &state {
        std::fs::create_dir_all(s)?;
        std::fs::write(s.join("address"), format!("{}\n", emulator.url()))?;
    }
    Ok(Running {
        emulator,
        described,
    })
}
