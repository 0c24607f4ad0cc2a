//! The error envelope: `{"reasonCode": "...", "message": "..."}` (spec §7), and the HTTP
//! status each reason code answers with. Handlers never pick a status: the reason code
//! decides, here.

use amzpay_domain::{ReasonCode, Refusal};
use serde::Serialize;
use utoipa::ToSchema;

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ErrorBody<'a> {
    pub reason_code: &'a str,
    pub message: &'a str,
}

/// The HTTP status Amazon answers a reason code with (spec §7).
pub fn http_status(code: ReasonCode) -> u16 {
    use ReasonCode::*;
    match code {
        InvalidHeaderValue
        | InvalidRequest
        | InvalidParameterValue
        | InvalidRequestFormat
        | MissingHeader
        | MissingHeaderValue
        | MissingParameterValue
        | UnrecognizedField
        | InvalidSandboxSimulationSpecified
        | DuplicateIdempotencyKey
        | InvalidParameterCombination
        | CurrencyMismatch
        | InvalidAPIVersion
        | TransactionAmountExceeded
        | PeriodicAmountExceeded => 400,
        UnauthorizedAccess => 401,
        InvalidAuthentication | InvalidAccountStatus | InvalidRequestSignature => 403,
        ResourceNotFound => 404,
        UnsupportedOperation | RequestNotSupported => 405,
        RequestTimeout => 408,
        AmountMismatch => 409,
        InvalidChargePermissionStatus
        | InvalidChargeStatus
        | InvalidCheckoutSessionStatus
        | ChargePermissionNotModifiable
        | TransactionCountExceeded
        | CheckoutSessionCanceled
        | SoftDeclined
        | HardDeclined
        | AmazonRejected
        | PaymentMethodNotAllowed
        | MFANotCompleted
        | TransactionTimedOut => 422,
        TooManyRequests => 429,
        InternalServerError | ProcessingFailure => 500,
        ServiceUnavailable => 503,
    }
}

/// The status and JSON body of a refusal.
pub fn error_response(error: &Refusal) -> (u16, Vec<u8>) {
    let body = ErrorBody { reason_code: error.code.as_str(), message: &error.message };
    (http_status(error.code), serde_json::to_vec(&body).expect("serializing strings"))
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
            (ReasonCode::MFANotCompleted, 422),
            (ReasonCode::TooManyRequests, 429),
            (ReasonCode::ProcessingFailure, 500),
            (ReasonCode::ServiceUnavailable, 503),
        ];
        for (code, status) in table {
            assert_eq!(http_status(code), status, "{code}");
        }
        let (status, body) = error_response(&Refusal::new(ReasonCode::HardDeclined, "no"));
        assert_eq!((status, body), (422, br#"{"reasonCode":"HardDeclined","message":"no"}"#.to_vec()));
    }
}
