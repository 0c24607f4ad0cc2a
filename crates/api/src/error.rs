//! The error envelope: `{"reasonCode": "...", "message": "..."}` (spec §7).

use amzpay_domain::DomainError;
use serde::Serialize;

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ErrorBody<'a> {
    pub reason_code: &'a str,
    pub message: &'a str,
}

/// The status and JSON body of an error.
pub fn error_response(error: &DomainError) -> (u16, Vec<u8>) {
    let body = ErrorBody { reason_code: error.code.as_str(), message: &error.message };
    (error.code.http_status(), serde_json::to_vec(&body).expect("serializing strings"))
}
