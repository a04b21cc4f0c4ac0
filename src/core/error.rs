//! The error a rejected promise carries: an emedia code and words.

use emedia_protocol::{ErrorBody, ErrorCode};
use std::fmt;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SdkError {
    pub code: ErrorCode,
    pub message: String,
}

impl SdkError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }

    pub fn bad_param(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::BadParameters, message)
    }

    pub fn network(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Network, message)
    }

    /// A muted member tried to turn its audio on (the server refuses it too).
    pub fn muted() -> Self {
        Self::new(
            ErrorCode::IllegalRights,
            "an ADMIN muted you: only an ADMIN can unmute you",
        )
    }
}

impl From<ErrorBody> for SdkError {
    fn from(e: ErrorBody) -> Self {
        Self::new(e.code, e.message)
    }
}

impl fmt::Display for SdkError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (code {})", self.message, self.code.code())
    }
}
