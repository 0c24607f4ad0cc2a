//! Which operation a path names (spec §1, §2). Paths are `/{sandbox|live}/v2/...` or
//! `/v2/...`, with or without a trailing slash.

use amzpay_domain::sandbox::SimulatedOperation;
use amzpay_domain::{ChargeId, ChargePermissionId, Environment, ReasonCode, RefundId, Refusal};
use http::Method;

/// The API version amzpay speaks.
pub const API_VERSION: &str = "v2";

/// Where a request is addressed, before authentication.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiPath {
    /// The environment named by the path, if any.
    pub environment: Option<Environment>,
    /// The segments after the version, without a trailing empty one.
    pub segments: Vec<String>,
}

fn not_found(message: impl Into<String>) -> Refusal {
    Refusal::new(ReasonCode::ResourceNotFound, message)
}

impl ApiPath {
    pub fn parse(path: &str) -> Result<ApiPath, Refusal> {
        let trimmed = path.strip_prefix('/').unwrap_or(path);
        let trimmed = trimmed.strip_suffix('/').unwrap_or(trimmed);
        let mut segments: Vec<String> = trimmed.split('/').map(percent_decode).collect();
        let environment = match segments.first().and_then(|s| Environment::from_path_segment(s)) {
            Some(environment) => {
                segments.remove(0);
                Some(environment)
            }
            None => None,
        };
        let version = segments.first().cloned().unwrap_or_default();
        let looks_like_version =
            version.len() >= 2 && version.starts_with('v') && version[1..].bytes().all(|b| b.is_ascii_digit());
        if !looks_like_version {
            return Err(not_found(format!("no resource at '{path}'")));
        }
        if version != API_VERSION {
            return Err(Refusal::new(
                ReasonCode::InvalidAPIVersion,
                format!("API version '{version}' is not supported; use {API_VERSION}"),
            ));
        }
        segments.remove(0);
        Ok(ApiPath { environment, segments })
    }
}

/// Ids are plain ASCII; a percent-encoded segment is decoded so that `%2D` matches `-`.
fn percent_decode(segment: &str) -> String {
    percent_encoding::percent_decode_str(segment).decode_utf8_lossy().into_owned()
}

/// The operations amzpay serves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Operation {
    GetChargePermission(ChargePermissionId),
    UpdateChargePermission(ChargePermissionId),
    CloseChargePermission(ChargePermissionId),
    CreateCharge,
    GetCharge(ChargeId),
    CaptureCharge(ChargeId),
    CancelCharge(ChargeId),
    CreateRefund,
    GetRefund(RefundId),
    /// Sandbox test helper (product.md).
    CreateTestChargePermission,
    /// Sandbox test helper: what a buyer does on the Amazon Pay site.
    BuyerAction(ChargePermissionId),
    /// Sandbox test helper: what Amazon itself does to a charge.
    AmazonAction(ChargeId),
    /// Sandbox test helper: read the merchant's clock.
    GetClock,
    /// Sandbox test helper: move the merchant's clock, running what falls due.
    AdvanceClock,
    /// Sandbox test helper: stop the merchant's clock (it then moves only when advanced).
    FreezeClock,
    /// Sandbox test helper: let the merchant's clock run with real time again.
    UnfreezeClock,
    CreateCheckoutSession,
    GetCheckoutSession(String),
    UpdateCheckoutSession(String),
    CompleteCheckoutSession(String),
    FinalizeCheckoutSession(String),
    /// Sandbox test helper: the buyer signs in and picks a card.
    SignIn(String),
    /// Sandbox test helper: the buyer confirms at `amazonPayRedirectUrl`.
    ConfirmCheckout(String),
}

impl Operation {
    /// Whether the operation requires `x-amz-pay-idempotency-key` (spec §8).
    pub fn requires_idempotency_key(&self) -> bool {
        match self {
            Operation::CreateCharge
            | Operation::CaptureCharge(_)
            | Operation::CreateRefund
            | Operation::CreateTestChargePermission
            | Operation::CreateCheckoutSession => true,
            Operation::GetChargePermission(_)
            | Operation::UpdateChargePermission(_)
            | Operation::CloseChargePermission(_)
            | Operation::GetCharge(_)
            | Operation::CancelCharge(_)
            | Operation::GetRefund(_)
            | Operation::BuyerAction(_)
            | Operation::AmazonAction(_)
            | Operation::GetClock
            | Operation::AdvanceClock
            | Operation::FreezeClock
            | Operation::UnfreezeClock
            | Operation::GetCheckoutSession(_)
            | Operation::UpdateCheckoutSession(_)
            | Operation::CompleteCheckoutSession(_)
            | Operation::FinalizeCheckoutSession(_)
            | Operation::SignIn(_)
            | Operation::ConfirmCheckout(_) => false,
        }
    }

    /// Which simulation codes can apply (spec §11); `None` when none can.
    pub fn simulated(&self) -> Option<SimulatedOperation> {
        match self {
            Operation::CreateCharge => Some(SimulatedOperation::CreateCharge),
            Operation::CaptureCharge(_) => Some(SimulatedOperation::CaptureCharge),
            Operation::CancelCharge(_) => Some(SimulatedOperation::CancelCharge),
            Operation::CreateRefund => Some(SimulatedOperation::CreateRefund),
            Operation::CloseChargePermission(_) => Some(SimulatedOperation::CloseChargePermission),
            Operation::UpdateCheckoutSession(_) => Some(SimulatedOperation::UpdateCheckoutSession),
            Operation::CompleteCheckoutSession(_) | Operation::FinalizeCheckoutSession(_) => {
                Some(SimulatedOperation::CompleteCheckoutSession)
            }
            Operation::GetChargePermission(_)
            | Operation::UpdateChargePermission(_)
            | Operation::GetCharge(_)
            | Operation::GetRefund(_)
            | Operation::CreateTestChargePermission
            | Operation::BuyerAction(_)
            | Operation::AmazonAction(_)
            | Operation::GetClock
            | Operation::AdvanceClock
            | Operation::FreezeClock
            | Operation::UnfreezeClock
            | Operation::CreateCheckoutSession
            | Operation::GetCheckoutSession(_)
            | Operation::SignIn(_)
            | Operation::ConfirmCheckout(_) => None,
        }
    }

    /// A stable name, used in idempotency fingerprints and logs.
    pub fn name(&self) -> &'static str {
        match self {
            Operation::GetChargePermission(_) => "GetChargePermission",
            Operation::UpdateChargePermission(_) => "UpdateChargePermission",
            Operation::CloseChargePermission(_) => "CloseChargePermission",
            Operation::CreateCharge => "CreateCharge",
            Operation::GetCharge(_) => "GetCharge",
            Operation::CaptureCharge(_) => "CaptureCharge",
            Operation::CancelCharge(_) => "CancelCharge",
            Operation::CreateRefund => "CreateRefund",
            Operation::GetRefund(_) => "GetRefund",
            Operation::CreateTestChargePermission => "CreateTestChargePermission",
            Operation::BuyerAction(_) => "BuyerAction",
            Operation::AmazonAction(_) => "AmazonAction",
            Operation::GetClock => "GetClock",
            Operation::AdvanceClock => "AdvanceClock",
            Operation::FreezeClock => "FreezeClock",
            Operation::UnfreezeClock => "UnfreezeClock",
            Operation::CreateCheckoutSession => "CreateCheckoutSession",
            Operation::GetCheckoutSession(_) => "GetCheckoutSession",
            Operation::UpdateCheckoutSession(_) => "UpdateCheckoutSession",
            Operation::CompleteCheckoutSession(_) => "CompleteCheckoutSession",
            Operation::FinalizeCheckoutSession(_) => "FinalizeCheckoutSession",
            Operation::SignIn(_) => "SignIn",
            Operation::ConfirmCheckout(_) => "ConfirmCheckout",
        }
    }

    /// The id in the path, if any.
    pub fn target(&self) -> &str {
        match self {
            Operation::GetChargePermission(id)
            | Operation::UpdateChargePermission(id)
            | Operation::CloseChargePermission(id)
            | Operation::BuyerAction(id) => id.as_str(),
            Operation::GetCharge(id)
            | Operation::CaptureCharge(id)
            | Operation::CancelCharge(id)
            | Operation::AmazonAction(id) => id.as_str(),
            Operation::GetRefund(id) => id.as_str(),
            Operation::CreateCharge
            | Operation::CreateRefund
            | Operation::CreateTestChargePermission
            | Operation::GetClock
            | Operation::AdvanceClock
            | Operation::FreezeClock
            | Operation::UnfreezeClock
            | Operation::CreateCheckoutSession => "",
            Operation::GetCheckoutSession(id)
            | Operation::UpdateCheckoutSession(id)
            | Operation::CompleteCheckoutSession(id)
            | Operation::FinalizeCheckoutSession(id)
            | Operation::SignIn(id)
            | Operation::ConfirmCheckout(id) => id,
        }
    }
}

fn unsupported(method: &Method) -> Refusal {
    Refusal::new(ReasonCode::UnsupportedOperation, format!("{method} is not supported on this resource"))
}

fn permission_id(text: &str) -> Result<ChargePermissionId, Refusal> {
    ChargePermissionId::parse(text).ok_or_else(|| not_found(format!("charge permission '{text}' does not exist")))
}

fn charge_id(text: &str) -> Result<ChargeId, Refusal> {
    ChargeId::parse(text).ok_or_else(|| not_found(format!("charge '{text}' does not exist")))
}

fn session(text: &str) -> Result<String, Refusal> {
    crate::ops::checkout::session_id(text)
}

fn refund_id(text: &str) -> Result<RefundId, Refusal> {
    RefundId::parse(text).ok_or_else(|| not_found(format!("refund '{text}' does not exist")))
}

/// Picks the operation from the method and the segments after the version.
pub fn route(method: &Method, segments: &[String]) -> Result<Operation, Refusal> {
    let parts: Vec<&str> = segments.iter().map(String::as_str).collect();
    let only = |allowed: Method, operation: Result<Operation, Refusal>| {
        if *method == allowed { operation } else { Err(unsupported(method)) }
    };
    match parts.as_slice() {
        ["chargePermissions", id] => match *method {
            Method::GET => Ok(Operation::GetChargePermission(permission_id(id)?)),
            Method::PATCH => Ok(Operation::UpdateChargePermission(permission_id(id)?)),
            _ => Err(unsupported(method)),
        },
        ["chargePermissions", id, "close"] => {
            only(Method::DELETE, permission_id(id).map(Operation::CloseChargePermission))
        }
        ["charges"] => only(Method::POST, Ok(Operation::CreateCharge)),
        ["charges", id] => match *method {
            Method::GET => Ok(Operation::GetCharge(charge_id(id)?)),
            // Update Charge is for payment service providers only (spec §2).
            Method::PATCH => Err(Refusal::new(
                ReasonCode::UnauthorizedAccess,
                "Update Charge is available to payment service providers only",
            )),
            _ => Err(unsupported(method)),
        },
        ["charges", id, "capture"] => only(Method::POST, charge_id(id).map(Operation::CaptureCharge)),
        ["charges", id, "cancel"] => only(Method::DELETE, charge_id(id).map(Operation::CancelCharge)),
        ["refunds"] => only(Method::POST, Ok(Operation::CreateRefund)),
        ["refunds", id] => only(Method::GET, refund_id(id).map(Operation::GetRefund)),
        ["testHelpers", "chargePermissions"] => only(Method::POST, Ok(Operation::CreateTestChargePermission)),
        ["testHelpers", "chargePermissions", id, "buyerActions"] => {
            only(Method::POST, permission_id(id).map(Operation::BuyerAction))
        }
        ["testHelpers", "charges", id, "amazonActions"] => {
            only(Method::POST, charge_id(id).map(Operation::AmazonAction))
        }
        ["checkoutSessions"] => only(Method::POST, Ok(Operation::CreateCheckoutSession)),
        ["checkoutSessions", id] => match *method {
            Method::GET => Ok(Operation::GetCheckoutSession(session(id)?)),
            Method::PATCH => Ok(Operation::UpdateCheckoutSession(session(id)?)),
            _ => Err(unsupported(method)),
        },
        ["checkoutSessions", id, "complete"] => only(Method::POST, session(id).map(Operation::CompleteCheckoutSession)),
        ["checkoutSessions", id, "finalize"] => only(Method::POST, session(id).map(Operation::FinalizeCheckoutSession)),
        ["testHelpers", "checkoutSessions", id, "signIn"] => only(Method::POST, session(id).map(Operation::SignIn)),
        ["testHelpers", "checkoutSessions", id, "confirm"] => {
            only(Method::POST, session(id).map(Operation::ConfirmCheckout))
        }
        ["testHelpers", "clock"] => only(Method::GET, Ok(Operation::GetClock)),
        ["testHelpers", "clock", "advance"] => only(Method::POST, Ok(Operation::AdvanceClock)),
        ["testHelpers", "clock", "freeze"] => only(Method::POST, Ok(Operation::FreezeClock)),
        ["testHelpers", "clock", "unfreeze"] => only(Method::POST, Ok(Operation::UnfreezeClock)),
        _ => Err(not_found(format!("no resource at /{}", parts.join("/")))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_parse_with_and_without_environment_and_trailing_slash() {
        let cases = [
            ("/sandbox/v2/charges", Some(Environment::Sandbox), vec!["charges"]),
            ("/sandbox/v2/charges/", Some(Environment::Sandbox), vec!["charges"]),
            ("/live/v2/refunds/x", Some(Environment::Live), vec!["refunds", "x"]),
            ("/v2/chargePermissions/S01-1/close", None, vec!["chargePermissions", "S01-1", "close"]),
            ("/v2/charges/S01%2D1", None, vec!["charges", "S01-1"]),
        ];
        for (path, environment, segments) in cases {
            let parsed = ApiPath::parse(path).unwrap();
            assert_eq!(parsed.environment, environment, "{path}");
            assert_eq!(parsed.segments, segments, "{path}");
        }
        assert_eq!(ApiPath::parse("/v1/charges").unwrap_err().code, ReasonCode::InvalidAPIVersion);
        assert_eq!(ApiPath::parse("/sandbox/v3/charges").unwrap_err().code, ReasonCode::InvalidAPIVersion);
        assert_eq!(ApiPath::parse("/").unwrap_err().code, ReasonCode::ResourceNotFound);
        assert_eq!(ApiPath::parse("/favicon.ico").unwrap_err().code, ReasonCode::ResourceNotFound);
    }

    #[test]
    fn routes_match_method_and_shape() {
        let seg = |p: &str| p.split('/').map(str::to_owned).collect::<Vec<_>>();
        assert_eq!(route(&Method::POST, &seg("charges")).unwrap(), Operation::CreateCharge);
        assert!(matches!(
            route(&Method::GET, &seg("charges/S01-1111111-1111111-C000001")).unwrap(),
            Operation::GetCharge(_)
        ));
        assert_eq!(route(&Method::GET, &seg("charges")).unwrap_err().code, ReasonCode::UnsupportedOperation);
        assert_eq!(route(&Method::GET, &seg("charges/nope")).unwrap_err().code, ReasonCode::ResourceNotFound);
        assert_eq!(
            route(&Method::POST, &seg("charges/S01-1111111-1111111-C000001/cancel")).unwrap_err().code,
            ReasonCode::UnsupportedOperation
        );
        assert!(matches!(
            route(&Method::DELETE, &seg("chargePermissions/S01-1111111-1111111/close")).unwrap(),
            Operation::CloseChargePermission(_)
        ));
        assert_eq!(route(&Method::GET, &seg("buyers/x")).unwrap_err().code, ReasonCode::ResourceNotFound);
    }
}
