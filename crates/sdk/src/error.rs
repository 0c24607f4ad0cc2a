//! What can go wrong calling Amazon Pay: Amazon's error answers (`ApiError`, with a typed
//! `ReasonCode`), answers that do not parse, transport failures and unusable configuration.
//!
//! The HTTP library the client uses never shows here: a transport failure is this crate's
//! `TransportError`, which keeps the library's error only as its `source()`.

use std::error::Error as StdError;
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
#[non_exhaustive]
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

/// What kind of transport failure a [`TransportError`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TransportErrorKind {
    /// No connection: refused, unreachable, DNS or TLS handshake failed, or the connect
    /// timeout passed. The request was not sent.
    Connect,
    /// The attempt took longer than the configured timeout; the request may have arrived.
    Timeout,
    /// Anything else: the connection broke while sending or reading. The request may have
    /// arrived.
    Other,
}

/// A request that got no answer: why, in words and as a [`TransportErrorKind`]; the HTTP
/// library's own error is the `source()`.
#[derive(Debug)]
pub struct TransportError {
    kind: TransportErrorKind,
    message: String,
    source: Box<dyn StdError + Send + Sync>,
}

impl TransportError {
    pub(crate) fn new(kind: TransportErrorKind, source: impl StdError + Send + Sync + 'static) -> TransportError {
        TransportError { kind, message: source.to_string(), source: Box::new(source) }
    }

    /// What kind of failure this is.
    pub fn kind(&self) -> TransportErrorKind {
        self.kind
    }

    /// Whether the attempt timed out (connecting counts as [`TransportErrorKind::Connect`]
    /// when the library can tell).
    pub fn is_timeout(&self) -> bool {
        self.kind == TransportErrorKind::Timeout
    }

    /// Whether no connection could be made, so the request was never sent.
    pub fn is_connect(&self) -> bool {
        self.kind == TransportErrorKind::Connect
    }

    /// The failure in words, as the HTTP library put it.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for TransportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl StdError for TransportError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        Some(self.source.as_ref())
    }
}

/// Every failure of a call.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Amazon Pay answered with an error (after any retries).
    #[error("{0}")]
    Api(ApiError),
    /// The request never got an answer: connection, TLS or timeout (after any retries).
    #[error("transport error: {0}")]
    Transport(#[source] TransportError),
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
