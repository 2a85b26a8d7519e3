//! What the user sees while a command runs: indicatif bars on a terminal, plain lines on stderr
//! when piped, nothing with `--quiet`.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;

/// How progress is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Bars and spinners on stderr (a terminal).
    Bars,
    /// One plain line a step on stderr (piped).
    Lines,
    /// Nothing (`--quiet`).
    Quiet,
}

impl Mode {
    /// Bars only when stderr is a terminal and `--quiet` was not given.
    pub fn detect(quiet: bool) -> Self {
        if quiet {
            Self::Quiet
        } else if std::io::stderr().is_terminal() {
            Self::Bars
        } else {
            Self::Lines
        }
    }

    /// A step done, on stderr: it stays above the bars on a terminal; nothing with `--quiet`.
    pub fn line(self, text: &str) {
        if self != Self::Quiet {
            eprintln!("{text}");
        }
    }

    /// A step starting, on stderr when piped (on a terminal its spinner says it).
    pub fn note(self, text: &str) {
        if self == Self::Lines {
            eprintln!("{text}");
        }
    }

    /// A byte bar of `total` bytes (hidden unless [`Mode::Bars`]).
    pub fn bytes(self, message: &str, total: u64) -> ProgressBar {
        let bar = self.bar(ProgressBar::new(total));
        bar.set_style(
            ProgressStyle::with_template(
                "{msg} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} ETA {eta}",
            )
            // The template is a constant known to parse.
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
        );
        bar.set_message(message.to_owned());
        bar
    }

    /// A spinner with a message (hidden unless [`Mode::Bars`]).
    pub fn spinner(self, message: &str) -> ProgressBar {
        let bar = self.bar(ProgressBar::new_spinner());
        bar.set_message(message.to_owned());
        bar.enable_steady_tick(std::time::Duration::from_millis(100));
        bar
    }

    fn bar(self, bar: ProgressBar) -> ProgressBar {
        if self == Self::Bars {
            bar.with_finish(indicatif::ProgressFinish::AndLeave)
        } else {
            bar.set_draw_target(ProgressDrawTarget::hidden());
            bar
        }
    }
}
