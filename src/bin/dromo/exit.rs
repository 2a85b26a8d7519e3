//! The exit codes of `dromo`, and which one an error or an import outcome gets.

use dromo_client::Error;
use std::process::ExitCode;

/// The import succeeded (or the command did what it was asked).
pub const OK: u8 = 0;
/// Bad input: an unknown flag, a missing file, a schema file that is not a schema, a bad id.
/// Nothing was sent. (clap uses 2 for usage errors too.)
pub const BAD_INPUT: u8 = 2;
/// The import needs a person to review it: the review URL is printed.
pub const NEEDS_REVIEW: u8 = 3;
/// The import failed: its errors are printed.
pub const FAILED: u8 = 4;
/// The wait ended (`--max-wait`) while the import was still being processed.
pub const GAVE_UP: u8 = 5;
/// Dromo (or the network) refused or failed the request: transport, auth, not found, server.
pub const API_ERROR: u8 = 6;
/// `dromo schema diff` found a change that breaks existing integrations.
pub const BREAKING: u8 = 7;

/// The table printed at the end of `--help`.
pub const HELP: &str = "\
Exit codes:
  0  imported (or the command succeeded)
  2  bad input: unknown flag, missing file, not a schema, bad id (nothing was sent)
  3  the import needs review (the review URL is printed)
  4  the import failed (its errors are printed)
  5  gave up waiting: the import is still processing (run `dromo wait ID` later)
  6  transport, auth or API error (the message says what to do)
  7  `dromo schema diff`: a breaking change (a removed field, a changed type)";

/// A failure of a command: the one-line message for stderr and the exit code.
#[derive(Debug)]
pub struct Failure {
    /// Printed on stderr after `error: `.
    pub message: String,
    /// The process's exit code.
    pub code: u8,
}

impl Failure {
    /// Bad input, found before anything was sent.
    pub fn bad_input(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            code: BAD_INPUT,
        }
    }

    /// The exit code as the process's.
    pub fn exit_code(&self) -> ExitCode {
        ExitCode::from(self.code)
    }
}

impl From<Error> for Failure {
    fn from(error: Error) -> Self {
        // A request the crate refused before sending (bad id, invalid request, bad file) is
        // bad input; anything that reached the network is an API error.
        let code = match error.kind() {
            Error::InvalidRequest { .. }
            | Error::File { .. }
            | Error::UnusableFile { .. }
            | Error::Config { .. } => BAD_INPUT,
            _ => API_ERROR,
        };
        Self {
            message: one_line(&error),
            code,
        }
    }
}

/// The error and its causes on one line, `a: b: c`: the crate's `{:#}`.
fn one_line(error: &Error) -> String {
    format!("{error:#}").replace(['\n', '\r'], " ")
}
