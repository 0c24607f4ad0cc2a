//! What can go wrong calling Amazon Pay.

use std::fmt;

/// Amazon's `reasonCode`, typed, with a fallback for codes this SDK does not know yet.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ReasonCode {
    /// A code listed in the API reference.
    Known(amzpay_types::ReasonCode),
    /// Any other code, as Amazon sent it.
    Other(String),
}

impl ReasonCode {
    /// Reads a code as it appears in an error body.
    pub fn parse(text: &str) -> ReasonCode {
        amzpay_types::ReasonCode::ALL
            .iter()
            .find(|code| code.as_str() == text)
            .map(|code| ReasonCode::Known(*code))
            .unwrap_or_else(|| ReasonCode::Other(text.to_owned()))
    }

    /// The code as text.
    pub fn as_str(&self) -> &str {
        match self {
            ReasonCode::Known(code) => code.as_str(),
            ReasonCode::Other(text) => text,
        }
    }
}

impl PartialEq<amzpay_types::ReasonCode> for ReasonCode {
    fn eq(&self, other: &amzpay_types::ReasonCode) -> bool {
        matches!(self, ReasonCode::Known(code) if code == other)
    }
}

impl fmt::Display for ReasonCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An error answer from the API: status, reason code, message and request id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// The HTTP status, e.g. 422.
    pub status: u16,
    /// Amazon's `reasonCode`.
    pub reason_code: ReasonCode,
    /// Amazon's `message`.
    pub message: String,
    /// `x-amz-pay-request-id`, for Amazon support.
    pub request_id: Option<String>,
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}: {}", self.status, self.reason_code, self.message)?;
        if let Some(id) = &self.request_id {
            write!(f, " (request {id})")?;
        }
        Ok(())
    }
}

/// Every failure of a call.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Amazon Pay answered with an error (after any retries).
    #[error("{0}")]
    Api(ApiError),
    /// The request never got an answer: connection, TLS or timeout (after any retries).
    #[error("transport error: {0}")]
    Transport(#[source] reqwest::Error),
    /// An answer came but its body is not what the API documents.
    #[error("could not read the {status} response: {source}; body: {body}")]
    Decode {
        /// The HTTP status.
        status: u16,
        /// The body as received.
        body: String,
        /// What did not parse.
        #[source]
        source: serde_json::Error,
    },
    /// The client configuration is unusable (bad key, bad URL).
    #[error("configuration error: {0}")]
    Config(String),
}

impl Error {
    /// The API error, if this is one.
    pub fn api(&self) -> Option<&ApiError> {
        match self {
            Error::Api(error) => Some(error),
            Error::Transport(_) | Error::Decode { .. } | Error::Config(_) => None,
        }
    }

    /// The reason code, if this is an API error.
    pub fn reason_code(&self) -> Option<&ReasonCode> {
        self.api().map(|e| &e.reason_code)
    }
}

/// The result of a call.
pub type Result<T> = std::result::Result<T, Error>;
