//! `vigil emulate [--addr A] [--state DIR | --memory] [faults...] [--token T] [--schema FILE]`

use std::path::PathBuf;
use std::time::Duration;

use clap::{ArgMatches, Args, Command};

use super::super::{out, with, ExitCode, Global};
use crate::deploy::env;
use crate::ops::emulate::{self, EmulateOptions};

#[derive(Args, Debug)]
pub struct EmulateArgs {
    /// Address to listen on (`127.0.0.1:0` picks a free port).
    #[arg(long, default_value = env::DEFAULT_EMULATOR)]
    pub addr: String,
    /// State folder (default: .vigil/emulator under the repository root). Its `address` file
    /// tells the `local` environment where the emulator listens.
    #[arg(long, value_name = "DIR")]
    pub state: Option<PathBuf>,
    /// Keep state in memory only.
    #[arg(long, conflicts_with = "state")]
    pub memory: bool,
    /// Latency added to every response, in milliseconds.
    #[arg(long, default_value_t = 0)]
    pub latency_ms: u64,
    /// Probability of 429 Too Many Requests.
    #[arg(long, default_value_t = 0.0)]
    pub p429: f64,
    /// Retry-After of injected 429s, in seconds.
    #[arg(long, default_value_t = 1)]
    pub retry_after: u64,
    /// Probability of 500 Internal Server Error.
    #[arg(long, default_value_t = 0.0)]
    pub p500: f64,
    /// Probability of a connection reset (half before the change is made, half after).
    #[arg(long, default_value_t = 0.0)]
    pub preset: f64,
    /// Probability of a slow body.
    #[arg(long, default_value_t = 0.0)]
    pub pslow: f64,
    /// Duration of a slow body, in milliseconds.
    #[arg(long, default_value_t = 2000)]
    pub slow_ms: u64,
    /// Seed of the fault decisions.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Require `Authorization: Bearer TOKEN`.
    #[arg(long, value_name = "TOKEN")]
    pub token: Option<String>,
    /// How long watchlist operations stay in progress, in milliseconds.
    #[arg(long, default_value_t = 50)]
    pub lro_delay_ms: u64,
    /// Extra tables for every workspace (kql-oracle schema JSON).
    #[arg(long, value_name = "FILE")]
    pub schema: Option<PathBuf>,
    /// Run on a virtual clock starting at START (e.g. 2026-01-05T00:00:00Z): it moves only with
    /// `POST /vigil-emulator/advance {"hours": N}` (also days, minutes, seconds), which runs
    /// every enabled Scheduled and NRT rule that falls due (alerts, incidents, health rows);
    /// `GET /vigil-emulator/clock` reads it. Default: real time.
    #[arg(long, value_name = "START")]
    pub clock: Option<String>,
    /// The folder of table files (JSON Lines, CSV, Parquet) every workspace reads (default: the
    /// repository's `[sandbox] data`); more arrives through the Logs Ingestion API.
    #[arg(long, value_name = "DIR")]
    pub data: Option<PathBuf>,
    /// Consecutive failed runs after which a rule is disabled (`AUTO DISABLED` name prefix).
    #[arg(long, value_name = "N", default_value_t = crate::emulator::AUTO_DISABLE_AFTER)]
    pub auto_disable_after: u32,
}

pub fn cli() -> Command {
    EmulateArgs::augment_args(
        Command::new("emulate")
            .about("Run a local Sentinel emulator (ARM subset, query API, Logs Ingestion API, incidents, a scheduler on a virtual clock) on loopback."),
    )
}

pub fn exec(g: &Global, m: &ArgMatches) -> ExitCode {
    let a: EmulateArgs = match super::args(g, m) {
        Ok(a) => a,
        Err(c) => return c,
    };
    with(g, g.context(), |cx| {
        let r = emulate::emulate(
            &cx,
            EmulateOptions {
                addr: a.addr.clone(),
                state: a.state.clone(),
                memory: a.memory,
                faults: crate::emulator::Faults {
                    latency: Duration::from_millis(a.latency_ms),
                    p429: a.p429,
                    retry_after_secs: a.retry_after,
                    p500: a.p500,
                    preset: a.preset,
                    pslow: a.pslow,
                    slow: Duration::from_millis(a.slow_ms),
                    seed: a.seed,
                },
                token: a.token.clone(),
                lro_delay: Duration::from_millis(a.lro_delay_ms),
                schema: a.schema.clone(),
                clock: a.clock.clone(),
                auto_disable_after: a.auto_disable_after.max(1),
                data: a.data.clone(),
            },
        )?;
        out(&format!(
            "vigil emulate: Sentinel emulator on {} ({}); Ctrl-C stops it\n",
            r.emulator.url(),
            r.described
        ))?;
        r.emulator.server.wait();
        Ok(ExitCode::Clean)
    })
}
