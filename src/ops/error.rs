//! Why an operation could not produce its outcome, as data: the CLI maps the kind to an exit
//! code and renders the message, the hint and any diagnostics.

use crate::deploy::DeployError;
use crate::diagnostics::{code, Code, Diagnostic};
use crate::source::SourceDb;

/// The kinds of failure, each with one exit code (see `cli::ExitCode`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Failure {
    /// A bad command line: a missing argument, an unknown environment (exit 2).
    Usage,
    /// The environment the command runs in: credentials, git, a workspace it cannot reach (exit 2).
    Setup,
    /// Invalid content or configuration: the diagnostics say where (exit 1).
    Invalid,
    /// A check or a deploy that failed (exit 1).
    Failed,
    /// An unexpected error: IO, a bug (exit 2).
    Internal,
}

/// An operation's failure.
pub struct OpError {
    pub failure: Failure,
    pub code: Option<Code>,
    pub message: String,
    pub hint: Option<String>,
    /// Located problems in the user's files, with the sources they point into.
    pub diagnostics: Option<Box<(SourceDb, Vec<Diagnostic>)>>,
}

impl OpError {
    pub fn new(failure: Failure, message: impl Into<String>) -> OpError {
        OpError {
            failure,
            code: None,
            message: message.into(),
            hint: None,
            diagnostics: None,
        }
    }

    pub fn usage(message: impl Into<String>) -> OpError {
        OpError::new(Failure::Usage, message)
    }

    pub fn internal(message: impl Into<String>) -> OpError {
        OpError::new(Failure::Internal, message)
    }

    pub fn failed(message: impl Into<String>) -> OpError {
        OpError::new(Failure::Failed, message)
    }

    /// Invalid input, with the diagnostics that locate it.
    pub fn invalid(
        message: impl Into<String>,
        db: SourceDb,
        diagnostics: Vec<Diagnostic>,
    ) -> OpError {
        OpError {
            diagnostics: Some(Box::new((db, diagnostics))),
            ..OpError::new(Failure::Invalid, message)
        }
    }

    pub fn with_code(mut self, code: Code) -> OpError {
        self.code = Some(code);
        self
    }

    pub fn with_hint(mut self, hint: impl Into<String>) -> OpError {
        self.hint = Some(hint.into());
        self
    }
}

impl std::fmt::Debug for OpError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The sources the diagnostics point into are left out: the messages say enough.
        let diags: Vec<String> = self
            .diagnostics
            .iter()
            .flat_map(|d| d.1.iter())
            .map(|d| format!("{} {}", d.code, d.message))
            .collect();
        f.debug_struct("OpError")
            .field("failure", &self.failure)
            .field("code", &self.code)
            .field("message", &self.message)
            .field("hint", &self.hint)
            .field("diagnostics", &diags)
            .finish()
    }
}

impl std::fmt::Display for OpError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.code {
            Some(c) => write!(f, "[{c}] {}", self.message)?,
            None => write!(f, "{}", self.message)?,
        }
        if let Some(h) = &self.hint {
            write!(f, "\n  hint: {h}")?;
        }
        Ok(())
    }
}

impl std::error::Error for OpError {}

impl From<DeployError> for OpError {
    fn from(e: DeployError) -> OpError {
        let failure = if matches!(
            e.code,
            code::DEP_ENVIRONMENT
                | code::DEP_CREDENTIAL
                | code::DEP_GIT
                | code::DEP_BASE_NOT_FETCHED
        ) {
            Failure::Setup
        } else {
            Failure::Failed
        };
        OpError {
            failure,
            code: Some(e.code),
            message: e.message,
            hint: e.hint,
            diagnostics: None,
        }
    }
}

impl From<crate::azure::AzureError> for OpError {
    fn from(e: crate::azure::AzureError) -> OpError {
        DeployError::from(e).into()
    }
}

impl From<std::io::Error> for OpError {
    fn from(e: std::io::Error) -> OpError {
        OpError::internal(e.to_string())
    }
}

impl From<anyhow::Error> for OpError {
    fn from(e: anyhow::Error) -> OpError {
        OpError::internal(format!("{e:#}"))
    }
}

impl From<serde_json::Error> for OpError {
    fn from(e: serde_json::Error) -> OpError {
        OpError::internal(e.to_string())
    }
}
