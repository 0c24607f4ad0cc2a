//! Path routing (`ApiPath::parse`, then `route`): never panics on any path or method. A
//! path that does not parse is a 404 (`ResourceNotFound`) or `InvalidAPIVersion`; a path
//! that parses routes to an operation of the request's method whose path pattern, its
//! `{id}` filled in, is the request's path, or to a 405 (`UnsupportedOperation`) exactly
//! when another method has an operation there, or else to a 404. A trailing slash changes
//! nothing. The id a route carries goes through the id parsers without a panic.
//!
//! Input: `METHOD path` (a method that is not a valid token reads as GET).

#![no_main]

use amzpay_domain::{ChargeId, ChargePermissionId, ReasonCode, RefundId};
use amzpay_server::routes::{ApiPath, OPERATIONS, route};
use http::Method;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let (method, path) = text.split_once(' ').unwrap_or(("GET", &text));
    let method = Method::from_bytes(method.as_bytes()).unwrap_or(Method::GET);

    let parsed = ApiPath::parse(path);
    if !path.ends_with('/') {
        let slashed = ApiPath::parse(&format!("{path}/"));
        assert_eq!(parsed.as_ref().map_err(|e| e.code), slashed.as_ref().map_err(|e| e.code), "{path:?}");
    }
    let api_path = match parsed {
        Ok(api_path) => api_path,
        Err(refusal) => {
            assert!(
                matches!(refusal.code, ReasonCode::ResourceNotFound | ReasonCode::InvalidAPIVersion),
                "{path:?}: {refusal:?}"
            );
            return;
        }
    };
    let segments = &api_path.segments;
    let elsewhere =
        OPERATIONS.iter().any(|operation| operation.method != method && route(&operation.method, segments).is_ok());
    match route(&method, segments) {
        Ok(routed) => {
            let operation = routed.operation;
            assert_eq!(operation.method, method);
            let mut id = None;
            let rebuilt: Vec<String> = operation
                .path
                .split('/')
                .map(|part| match part {
                    "{id}" => {
                        id = routed.id.clone();
                        routed.id.clone().expect("an {id} pattern routes with an id")
                    }
                    literal => literal.to_owned(),
                })
                .collect();
            assert_eq!(&rebuilt, segments, "{path:?} routed to {operation:?}");
            assert_eq!(id, routed.id, "{operation:?} carries an id its path does not have");
            if let Some(id) = &routed.id {
                let _ = (ChargeId::parse(id), ChargePermissionId::parse(id), RefundId::parse(id));
            }
        }
        Err(refusal) if refusal.code == ReasonCode::UnsupportedOperation => {
            assert!(elsewhere, "{method} {path:?}: 405 but no method has an operation there");
        }
        Err(refusal) => {
            assert_eq!(refusal.code, ReasonCode::ResourceNotFound, "{method} {path:?}");
            assert!(!elsewhere, "{method} {path:?}: 404 but another method has an operation there");
        }
    }
});
