//! Amazon's reason codes (spec §7), and a refused request: a reason code and a message.

use std::fmt;

/// Every error `reasonCode` Amazon Pay answers with (spec §7). The name of each variant is
/// the code as it appears in a JSON body.
#[allow(missing_docs)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, strum::IntoStaticStr, strum::EnumString, strum::VariantArray)]
pub enum ReasonCode {
    InvalidHeaderValue,
    InvalidRequest,
    InvalidParameterValue,
    InvalidRequestFormat,
    MissingHeader,
    MissingHeaderValue,
    MissingParameterValue,
    UnrecognizedField,
    InvalidSandboxSimulationSpecified,
    DuplicateIdempotencyKey,
    InvalidParameterCombination,
    CurrencyMismatch,
    InvalidAPIVersion,
    TransactionAmountExceeded,
    PeriodicAmountExceeded,
    UnauthorizedAccess,
    InvalidAuthentication,
    InvalidAccountStatus,
    InvalidRequestSignature,
    ResourceNotFound,
    UnsupportedOperation,
    RequestNotSupported,
    RequestTimeout,
    AmountMismatch,
    InvalidChargePermissionStatus,
    InvalidChargeStatus,
    InvalidCheckoutSessionStatus,
    ChargePermissionNotModifiable,
    TransactionCountExceeded,
    CheckoutSessionCanceled,
    SoftDeclined,
    HardDeclined,
    AmazonRejected,
    PaymentMethodNotAllowed,
    MFANotCompleted,
    TransactionTimedOut,
    TooManyRequests,
    InternalServerError,
    ProcessingFailure,
    ServiceUnavailable,
}

impl ReasonCode {
    /// Every reason code.
    pub const ALL: &'static [ReasonCode] = <ReasonCode as strum::VariantArray>::VARIANTS;

    /// The code as it appears in the JSON body.
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    /// The reason code named `text`, if it is one.
    pub fn parse(text: &str) -> Option<ReasonCode> {
        text.parse().ok()
    }
}

impl fmt::Display for ReasonCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A refused request: Amazon's reason code and a message for the developer. Rules refuse
/// with it, and so do the edges (headers, authentication, routing); the wire crate turns it
/// into Amazon's error envelope and status.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {message}")]
pub struct Refusal {
    /// Amazon's reason code.
    pub code: ReasonCode,
    /// What went wrong, for the developer.
    pub message: String,
}

impl Refusal {
    /// A refusal with this reason code and message.
    pub fn new(code: ReasonCode, message: impl Into<String>) -> Refusal {
        Refusal { code, message: message.into() }
    }
}

/// Money arithmetic that overflows is a bug or an absurd amount; either way the request is
/// refused rather than wrapped.
impl From<crate::money::MoneyArithmeticError> for Refusal {
    fn from(error: crate::money::MoneyArithmeticError) -> Refusal {
        Refusal::new(ReasonCode::InvalidParameterValue, error.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_written_and_read_by_their_names() {
        assert_eq!(ReasonCode::MFANotCompleted.as_str(), "MFANotCompleted");
        assert_eq!(ReasonCode::InvalidAPIVersion.to_string(), "InvalidAPIVersion");
        for code in ReasonCode::ALL {
            assert_eq!(ReasonCode::parse(code.as_str()), Some(*code));
        }
        assert_eq!(ReasonCode::parse("NoSuchCode"), None);
        assert_eq!(ReasonCode::ALL.len(), 40);
    }
}
