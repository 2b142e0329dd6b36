//! The terminal side of [`crate::ops::Reporter`]: notes and warnings on stderr, and progress
//! bars (indicatif) only when stderr is a terminal, `--quiet` is not given and `CI` is unset.
//! Nothing goes to stdout (JSON output and the MCP server depend on a clean stdout).

use std::io::IsTerminal;

use crate::ops::{Progress, Reporter};

pub struct Shell {
    bars: bool,
}

impl Shell {
    pub fn new(quiet: bool) -> Shell {
        let ci = std::env::var_os("CI").is_some_and(|v| !v.is_empty());
        Shell {
            bars: !quiet && !ci && std::io::stderr().is_terminal(),
        }
    }
}

struct Bar(indicatif::ProgressBar);

impl Progress for Bar {
    fn inc(&self, n: u64) {
        self.0.inc(n);
    }
    fn finish(&self) {
        self.0.finish_and_clear();
    }
}

struct NoBar;

impl Progress for NoBar {
    fn inc(&self, _: u64) {}
    fn finish(&self) {}
}

impl Reporter for Shell {
    fn note(&self, message: &str) {
        super::err(&format!("{message}\n"));
    }

    fn warn(&self, message: &str) {
        super::err(&format!("{message}\n"));
    }

    fn progress(&self, label: &str, total: u64) -> Box<dyn Progress> {
        if !self.bars || total < 2 {
            return Box::new(NoBar);
        }
        let bar = indicatif::ProgressBar::with_draw_target(
            Some(total),
            indicatif::ProgressDrawTarget::stderr(),
        );
        if let Ok(style) =
            indicatif::ProgressStyle::with_template("{msg:>12} [{bar:30}] {pos}/{len} {elapsed}")
        {
            bar.set_style(style.progress_chars("=> "));
        }
        bar.set_message(label.to_string());
        Box::new(Bar(bar))
    }
}
