//! Amazon's reason codes, each with its HTTP status (spec §7). Handlers never choose a
//! status: they return a reason code and this table decides.

use std::fmt;

macro_rules! reason_codes {
    ($($variant:ident => $status:literal,)*) => {
        /// Every error `reasonCode` amzpay answers with.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum ReasonCode { $($variant,)* }

        impl ReasonCode {
            pub const ALL: &'static [ReasonCode] = &[$(ReasonCode::$variant,)*];

            /// The HTTP status Amazon answers this reason code with.
            pub fn http_status(self) -> u16 {
                match self { $(ReasonCode::$variant => $status,)* }
            }

            /// The code as it appears in the JSON body.
            pub fn as_str(self) -> &'static str {
                match self { $(ReasonCode::$variant => stringify!($variant),)* }
            }
        }
    };
}

reason_codes! {
    InvalidHeaderValue => 400,
    InvalidRequest => 400,
    InvalidParameterValue => 400,
    InvalidRequestFormat => 400,
    MissingHeader => 400,
    MissingHeaderValue => 400,
    MissingParameterValue => 400,
    UnrecognizedField => 400,
    InvalidSandboxSimulationSpecified => 400,
    DuplicateIdempotencyKey => 400,
    InvalidParameterCombination => 400,
    CurrencyMismatch => 400,
    InvalidAPIVersion => 400,
    TransactionAmountExceeded => 400,
    PeriodicAmountExceeded => 400,
    UnauthorizedAccess => 401,
    InvalidAuthentication => 403,
    InvalidAccountStatus => 403,
    InvalidRequestSignature => 403,
    ResourceNotFound => 404,
    UnsupportedOperation => 405,
    RequestNotSupported => 405,
    RequestTimeout => 408,
    AmountMismatch => 409,
    InvalidChargePermissionStatus => 422,
    InvalidChargeStatus => 422,
    InvalidCheckoutSessionStatus => 422,
    ChargePermissionNotModifiable => 422,
    TransactionCountExceeded => 422,
    CheckoutSessionCanceled => 422,
    SoftDeclined => 422,
    HardDeclined => 422,
    AmazonRejected => 422,
    PaymentMethodNotAllowed => 422,
    MFANotCompleted => 422,
    TransactionTimedOut => 422,
    TooManyRequests => 429,
    InternalServerError => 500,
    ProcessingFailure => 500,
    ServiceUnavailable => 503,
}

impl fmt::Display for ReasonCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A refused operation: Amazon's reason code and a message for the developer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {message}")]
pub struct DomainError {
    pub code: ReasonCode,
    pub message: String,
}

impl DomainError {
    pub fn new(code: ReasonCode, message: impl Into<String>) -> DomainError {
        DomainError { code, message: message.into() }
    }
}

/// Money arithmetic that overflows in a transition is a bug or an absurd amount; either way
/// the request is refused rather than wrapped.
impl From<crate::money::MoneyArithmeticError> for DomainError {
    fn from(error: crate::money::MoneyArithmeticError) -> DomainError {
        DomainError::new(ReasonCode::InvalidParameterValue, error.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_follow_the_spec_table() {
        let table = [
            (ReasonCode::InvalidRequestFormat, 400),
            (ReasonCode::DuplicateIdempotencyKey, 400),
            (ReasonCode::TransactionAmountExceeded, 400),
            (ReasonCode::PeriodicAmountExceeded, 400),
            (ReasonCode::CurrencyMismatch, 400),
            (ReasonCode::UnauthorizedAccess, 401),
            (ReasonCode::InvalidRequestSignature, 403),
            (ReasonCode::ResourceNotFound, 404),
            (ReasonCode::UnsupportedOperation, 405),
            (ReasonCode::AmountMismatch, 409),
            (ReasonCode::InvalidChargeStatus, 422),
            (ReasonCode::TransactionCountExceeded, 422),
            (ReasonCode::HardDeclined, 422),
            (ReasonCode::TooManyRequests, 429),
            (ReasonCode::ProcessingFailure, 500),
            (ReasonCode::ServiceUnavailable, 503),
        ];
        for (code, status) in table {
            assert_eq!(code.http_status(), status, "{code}");
        }
        assert_eq!(ReasonCode::MFANotCompleted.as_str(), "MFANotCompleted");
        assert_eq!(ReasonCode::InvalidAPIVersion.as_str(), "InvalidAPIVersion");
    }
}
