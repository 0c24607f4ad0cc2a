//! The headers authentication reads before it looks a key up: `authorization`
//! (`AuthorizationHeader::parse`), `x-amz-pay-date` (`parse_amz_date`) and `x-amz-pay-host`
//! against `Host` (`pay_host_matches`). None panics on any text; a parsed authorization
//! header has every part, lower-case signed header names, and prints back to a header that
//! parses to the same value; a parsed date formats back to itself; a host always matches
//! itself. `x-amz-pay-idempotency-key` (`check_idempotency_key`) is accepted or refused with
//! a 400.
//!
//! Input: lines (`\n`): the authorization header, the date, the pay host, the host, the
//! idempotency key.

#![no_main]

use amzpay_api::error::http_status;
use amzpay_api::format::{format_timestamp, parse_amz_date};
use amzpay_server::auth::pay_host_matches;
use amzpay_server::ops::check_idempotency_key;
use amzpay_signing::AuthorizationHeader;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let mut lines = text.split('\n');
    let authorization = lines.next().unwrap_or_default();
    let date = lines.next().unwrap_or_default();
    let pay_host = lines.next().unwrap_or_default();
    let host = lines.next().unwrap_or_default();
    let idempotency_key = lines.next().unwrap_or_default();

    if let Ok(header) = AuthorizationHeader::parse(authorization) {
        assert!(!header.public_key_id.is_empty() && !header.signature.is_empty());
        assert!(!header.signed_headers.is_empty());
        for name in &header.signed_headers {
            assert!(!name.is_empty() && !name.contains([';', ',']), "{name:?}");
            assert_eq!(*name, name.to_ascii_lowercase());
        }
        let printed = header.to_string();
        assert_eq!(
            AuthorizationHeader::parse(&printed).as_ref(),
            Ok(&header),
            "{authorization:?} printed as {printed:?}"
        );
    }

    if let Some(timestamp) = parse_amz_date(date) {
        let printed = format_timestamp(timestamp);
        assert_eq!(parse_amz_date(&printed), Some(timestamp), "{date:?} printed as {printed:?}");
    }

    let _ = pay_host_matches(pay_host, host);
    assert!(pay_host_matches(host, host), "{host:?} does not match itself");

    if let Err(refusal) = check_idempotency_key(idempotency_key) {
        assert_eq!(http_status(refusal.code), 400, "{refusal:?}");
    }
});
