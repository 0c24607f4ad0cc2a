//! Every request body the API reads, through `body::parse_body` and then its conversion
//! into a command (`into_command`, `into_amounts`, ...), as the handlers call them. Never
//! panics; a body is accepted or refused with a 400 reason code: parsing refuses with
//! `InvalidRequestFormat` exactly when the body is not JSON, else `UnrecognizedField`,
//! `MissingParameterValue` or `InvalidParameterValue`; the conversion may also refuse with
//! `InvalidParameterCombination`. Never a 5xx, never a 404 or 422 (those are about objects,
//! not bodies).
//!
//! Input: the first byte picks the body (see `BODIES`), the rest is the body.

#![no_main]

use amzpay_api::body::parse_body;
use amzpay_api::error::http_status;
use amzpay_api::faults::{AddFaultBody, FaultLimits};
use amzpay_api::ipn::IpnEndpointBody;
use amzpay_api::requests::checkout::{
    CompleteSessionBody, CreateSessionBody, FinalizeSessionBody, SignInBody, UpdateSessionBody,
};
use amzpay_api::requests::{
    AdvanceClockBody, AmazonActionBody, BuyerActionBody, CancelChargeBody, CaptureChargeBody, ClosePermissionBody,
    CreateChargeBody, CreatePermissionBody, CreateRefundBody, UpdatePermissionBody,
};
use amzpay_domain::{ReasonCode, Refusal};
use amzpay_server::config::{MAX_CLOCK_ADVANCE_SECONDS, MAX_FAULT_COUNT, MAX_FAULT_DELAY_MS};
use libfuzzer_sys::fuzz_target;
use serde::de::DeserializeOwned;

/// Parses `bytes` as `T`, converts it, and checks the reason code of any refusal.
fn check<T: DeserializeOwned, U>(bytes: &[u8], convert: impl FnOnce(T) -> Result<U, Refusal>) {
    // JSON is UTF-8 text (RFC 8259) whose strings are Unicode (a lone surrogate escape such as
    // `"\udfff"` is not); an empty body reads as `{}`.
    let is_json = std::str::from_utf8(bytes)
        .is_ok_and(|text| text.trim_ascii().is_empty() || serde_json::from_str::<serde_json::Value>(text).is_ok());
    let refusal = match parse_body::<T>(bytes) {
        Err(refusal) => {
            use ReasonCode::*;
            assert!(
                matches!(
                    refusal.code,
                    InvalidRequestFormat | UnrecognizedField | MissingParameterValue | InvalidParameterValue
                ),
                "{refusal:?}"
            );
            assert_eq!(refusal.code == InvalidRequestFormat, !is_json, "{refusal:?}");
            refusal
        }
        Ok(body) => match convert(body) {
            Ok(_) => return,
            Err(refusal) => refusal,
        },
    };
    assert_eq!(http_status(refusal.code), 400, "{refusal:?}");
    assert!(!refusal.message.is_empty());
}

/// One entry per body, by the operation that reads it.
const BODIES: &[fn(&[u8])] = &[
    |b| check(b, CreateSessionBody::into_command),
    |b| check(b, UpdateSessionBody::into_command),
    |b| check(b, CompleteSessionBody::into_amounts),
    |b| check(b, FinalizeSessionBody::into_parts),
    |b| check(b, SignInBody::into_parts),
    |b| check(b, UpdatePermissionBody::into_command),
    |b| check(b, ClosePermissionBody::into_command),
    |b| check(b, CreatePermissionBody::into_command),
    |b| check(b, BuyerActionBody::into_action),
    |b| check(b, CreateChargeBody::into_command),
    |b| check(b, CaptureChargeBody::into_command),
    |b| check(b, CancelChargeBody::into_reason),
    |b| check(b, AmazonActionBody::into_action),
    |b| check(b, CreateRefundBody::into_command),
    |b| check(b, |body: AdvanceClockBody| body.into_seconds(MAX_CLOCK_ADVANCE_SECONDS)),
    |b| check(b, IpnEndpointBody::into_url),
    |b| {
        check(b, |body: AddFaultBody| {
            body.into_fault(FaultLimits { max_count: MAX_FAULT_COUNT, max_delay_ms: MAX_FAULT_DELAY_MS })
        })
    },
];

fuzz_target!(|data: &[u8]| {
    let Some((&selector, body)) = data.split_first() else { return };
    BODIES[usize::from(selector) % BODIES.len()](body);
});
