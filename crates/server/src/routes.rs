//! Every API operation, declared once: its name, method and path, whether it takes an
//! idempotency key, which simulation codes apply, and its handler (spec §1, §2, §8, §11).
//! Paths are `/{sandbox|live}/v2/...` or `/v2/...`, with or without a trailing slash.
//!
//! Adding an operation is one entry in [`OPERATIONS`] and its handler. The handler's type
//! says which id the path carries (a `Write::Charge` handler takes a `&ChargeId`), so the
//! compiler keeps the id and the handler together; `operations_are_declared_consistently`
//! keeps each path's `{id}` and its handler together.

use amzpay_domain::sandbox::SimulatedOperation;
use amzpay_domain::{ChargeId, ChargePermissionId, Environment, ReasonCode, RefundId, Refusal};
use amzpay_store::{ReadTx, StoreError, WriteTx};
use http::Method;

use crate::ops::{Context, OpResult, Reply, charges, checkout, clock, faults, notifications, permissions, refunds};

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

/// What an operation does with `x-amz-pay-idempotency-key` (spec §8).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Idempotency {
    /// Refused without one (`400 MissingHeader`).
    Required,
    /// Replayed when sent.
    Optional,
    /// Ignored (GET, PATCH, DELETE).
    Ignored,
}

/// A read: one snapshot, no changes.
pub type ReadResult = Result<Reply, StoreError>;

/// How an operation reads, by the id its path carries.
#[derive(Clone, Copy)]
pub enum Read {
    Plain(fn(&mut dyn ReadTx, &Context) -> ReadResult),
    ChargePermission(fn(&mut dyn ReadTx, &Context, &ChargePermissionId) -> ReadResult),
    Charge(fn(&mut dyn ReadTx, &Context, &ChargeId) -> ReadResult),
    Refund(fn(&mut dyn ReadTx, &Context, &RefundId) -> ReadResult),
    CheckoutSession(fn(&mut dyn ReadTx, &Context, &str) -> ReadResult),
}

/// How an operation writes (one transaction: load, transition, save, answer), by the id its
/// path carries. The body and the merchant's time come in.
#[derive(Clone, Copy)]
pub enum Write {
    Plain(fn(&mut dyn WriteTx, &Context, &[u8], amzpay_domain::Timestamp) -> OpResult),
    ChargePermission(fn(&mut dyn WriteTx, &Context, &ChargePermissionId, &[u8], amzpay_domain::Timestamp) -> OpResult),
    Charge(fn(&mut dyn WriteTx, &Context, &ChargeId, &[u8], amzpay_domain::Timestamp) -> OpResult),
    CheckoutSession(fn(&mut dyn WriteTx, &Context, &str, &[u8], amzpay_domain::Timestamp) -> OpResult),
    Notification(fn(&mut dyn WriteTx, &Context, &str, &[u8], amzpay_domain::Timestamp) -> OpResult),
}

/// What the sandbox clock helpers do (product.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClockChange {
    /// Move forward by the body's `seconds`, then run what fell due.
    Advance,
    /// Stop at the current time: only advances move it then.
    Freeze,
    /// Run with real time again.
    Unfreeze,
}

/// What the sandbox fault helpers change (product.md, "Fault injection"); listing is a read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultChange {
    /// Add a fault.
    Add,
    /// Remove every fault of the merchant.
    Clear,
}

#[derive(Clone, Copy)]
pub enum Handler {
    Read(Read),
    Write(Write),
    /// The clock helpers move time in one transaction and run what fell due in others.
    Clock(ClockChange),
    /// The fault helpers keep the process's index of merchants with faults in step.
    Faults(FaultChange),
    /// Refused whatever the request, with this reason code.
    Refused(ReasonCode, &'static str),
}

#[cfg(test)]
impl Handler {
    /// Whether the path carries an id for this handler; `None` when it does not matter.
    fn takes_id(&self) -> Option<bool> {
        match self {
            Handler::Read(Read::Plain(_))
            | Handler::Write(Write::Plain(_))
            | Handler::Clock(_)
            | Handler::Faults(_) => Some(false),
            Handler::Read(_) | Handler::Write(_) => Some(true),
            // A refused path may name an object; the answer does not depend on it.
            Handler::Refused(..) => None,
        }
    }
}

/// An operation: everything the edge needs to know about it, in one place.
pub struct Operation {
    /// A stable name, used in idempotency scopes and fingerprints and in logs. Never rename
    /// one: stored idempotency records name it.
    pub name: &'static str,
    pub method: Method,
    /// The segments after the version, `/`-separated; `{id}` is the id the handler takes.
    pub path: &'static str,
    pub idempotency: Idempotency,
    /// Which simulation codes apply (spec §11), if any.
    pub simulated: Option<SimulatedOperation>,
    pub handler: Handler,
}

impl Operation {
    /// amzpay's own sandbox helpers (`testHelpers/...`): faults never apply to them.
    pub fn is_test_helper(&self) -> bool {
        self.path.starts_with("testHelpers/")
    }
}

impl std::fmt::Debug for Operation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({} {})", self.name, self.method, self.path)
    }
}

const fn op(
    name: &'static str,
    method: Method,
    path: &'static str,
    idempotency: Idempotency,
    simulated: Option<SimulatedOperation>,
    handler: Handler,
) -> Operation {
    Operation { name, method, path, idempotency, simulated, handler }
}

use Idempotency::{Ignored, Optional, Required};
use SimulatedOperation as Sim;

/// Every operation amzpay serves. Test helpers are amzpay's own (product.md).
#[rustfmt::skip]
pub static OPERATIONS: &[Operation] = &[
    // Checkout Sessions (spec §5.5).
    op("CreateCheckoutSession", Method::POST, "checkoutSessions", Required, None, Handler::Write(Write::Plain(checkout::create))),
    op("GetCheckoutSession", Method::GET, "checkoutSessions/{id}", Ignored, None, Handler::Read(Read::CheckoutSession(checkout::get))),
    op("UpdateCheckoutSession", Method::PATCH, "checkoutSessions/{id}", Ignored, Some(Sim::UpdateCheckoutSession), Handler::Write(Write::CheckoutSession(checkout::update))),
    op("CompleteCheckoutSession", Method::POST, "checkoutSessions/{id}/complete", Optional, Some(Sim::CompleteCheckoutSession), Handler::Write(Write::CheckoutSession(checkout::complete))),
    op("FinalizeCheckoutSession", Method::POST, "checkoutSessions/{id}/finalize", Optional, Some(Sim::CompleteCheckoutSession), Handler::Write(Write::CheckoutSession(checkout::finalize))),
    // Charge Permissions (spec §5.3).
    op("GetChargePermission", Method::GET, "chargePermissions/{id}", Ignored, None, Handler::Read(Read::ChargePermission(permissions::get))),
    op("UpdateChargePermission", Method::PATCH, "chargePermissions/{id}", Ignored, None, Handler::Write(Write::ChargePermission(permissions::update))),
    op("CloseChargePermission", Method::DELETE, "chargePermissions/{id}/close", Ignored, Some(Sim::CloseChargePermission), Handler::Write(Write::ChargePermission(permissions::close))),
    // Charges (spec §5.2).
    op("CreateCharge", Method::POST, "charges", Required, Some(Sim::CreateCharge), Handler::Write(Write::Plain(charges::create))),
    op("GetCharge", Method::GET, "charges/{id}", Ignored, None, Handler::Read(Read::Charge(charges::get))),
    op("UpdateCharge", Method::PATCH, "charges/{id}", Ignored, None, Handler::Refused(ReasonCode::UnauthorizedAccess, "Update Charge is available to payment service providers only")),
    op("CaptureCharge", Method::POST, "charges/{id}/capture", Required, Some(Sim::CaptureCharge), Handler::Write(Write::Charge(charges::capture))),
    op("CancelCharge", Method::DELETE, "charges/{id}/cancel", Ignored, Some(Sim::CancelCharge), Handler::Write(Write::Charge(charges::cancel))),
    // Refunds (spec §5.4).
    op("CreateRefund", Method::POST, "refunds", Required, Some(Sim::CreateRefund), Handler::Write(Write::Plain(refunds::create))),
    op("GetRefund", Method::GET, "refunds/{id}", Ignored, None, Handler::Read(Read::Refund(refunds::get))),
    // Sandbox test helpers.
    op("CreateTestChargePermission", Method::POST, "testHelpers/chargePermissions", Required, None, Handler::Write(Write::Plain(permissions::create_for_test))),
    op("BuyerAction", Method::POST, "testHelpers/chargePermissions/{id}/buyerActions", Ignored, None, Handler::Write(Write::ChargePermission(permissions::buyer_action))),
    op("AmazonAction", Method::POST, "testHelpers/charges/{id}/amazonActions", Ignored, None, Handler::Write(Write::Charge(charges::amazon_action))),
    op("SignIn", Method::POST, "testHelpers/checkoutSessions/{id}/signIn", Ignored, None, Handler::Write(Write::CheckoutSession(checkout::sign_in))),
    op("ConfirmCheckout", Method::POST, "testHelpers/checkoutSessions/{id}/confirm", Ignored, None, Handler::Write(Write::CheckoutSession(checkout::confirm))),
    op("GetClock", Method::GET, "testHelpers/clock", Ignored, None, Handler::Read(Read::Plain(clock::get))),
    op("AdvanceClock", Method::POST, "testHelpers/clock/advance", Optional, None, Handler::Clock(ClockChange::Advance)),
    op("FreezeClock", Method::POST, "testHelpers/clock/freeze", Ignored, None, Handler::Clock(ClockChange::Freeze)),
    op("UnfreezeClock", Method::POST, "testHelpers/clock/unfreeze", Ignored, None, Handler::Clock(ClockChange::Unfreeze)),
    op("GetIpnEndpoint", Method::GET, "testHelpers/ipnEndpoint", Ignored, None, Handler::Read(Read::Plain(notifications::get_endpoint))),
    op("SetIpnEndpoint", Method::PUT, "testHelpers/ipnEndpoint", Ignored, None, Handler::Write(Write::Plain(notifications::set_endpoint))),
    op("ListNotifications", Method::GET, "testHelpers/notifications", Ignored, None, Handler::Read(Read::Plain(notifications::list))),
    op("RedeliverNotification", Method::POST, "testHelpers/notifications/{id}/redeliver", Ignored, None, Handler::Write(Write::Notification(notifications::redeliver))),
    op("AddFault", Method::POST, "testHelpers/faults", Ignored, None, Handler::Faults(FaultChange::Add)),
    op("ListFaults", Method::GET, "testHelpers/faults", Ignored, None, Handler::Read(Read::Plain(faults::list))),
    op("ClearFaults", Method::DELETE, "testHelpers/faults", Ignored, None, Handler::Faults(FaultChange::Clear)),
];

/// An operation picked for a request, with the id its path carried.
#[derive(Debug, Clone)]
pub struct Routed {
    pub operation: &'static Operation,
    /// The `{id}` segment, as sent (decoded); the handler's kind parses it.
    pub id: Option<String>,
}

/// The entry of `OPERATIONS` of this name.
pub fn operation_named(name: &str) -> Option<&'static Operation> {
    OPERATIONS.iter().find(|operation| operation.name == name)
}

/// Whether `segments` fit `path`; the `{id}` segment if they do.
fn fit(path: &str, segments: &[String]) -> Option<Option<String>> {
    let pattern: Vec<&str> = path.split('/').collect();
    if pattern.len() != segments.len() {
        return None;
    }
    let mut id = None;
    for (expected, segment) in pattern.iter().zip(segments) {
        match *expected {
            "{id}" => id = Some(segment.clone()),
            literal if literal == segment => {}
            _ => return None,
        }
    }
    Some(id)
}

/// Picks the operation from the method and the segments after the version: `404` for a path
/// no operation has, `405` for another method on a known path.
pub fn route(method: &Method, segments: &[String]) -> Result<Routed, Refusal> {
    let mut known_path = false;
    for operation in OPERATIONS {
        if let Some(id) = fit(operation.path, segments) {
            if operation.method == *method {
                return Ok(Routed { operation, id });
            }
            known_path = true;
        }
    }
    if known_path {
        Err(Refusal::new(ReasonCode::UnsupportedOperation, format!("{method} is not supported on this resource")))
    } else {
        Err(not_found(format!("no resource at /{}", segments.join("/"))))
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

    fn seg(path: &str) -> Vec<String> {
        path.split('/').map(str::to_owned).collect()
    }

    #[test]
    fn routes_match_method_and_shape() {
        let name = |method: Method, path: &str| route(&method, &seg(path)).map(|r| (r.operation.name, r.id));
        assert_eq!(name(Method::POST, "charges"), Ok(("CreateCharge", None)));
        assert_eq!(name(Method::GET, "charges/C1"), Ok(("GetCharge", Some("C1".to_owned()))));
        assert_eq!(name(Method::PATCH, "charges/C1").map(|(n, _)| n), Ok("UpdateCharge"));
        assert_eq!(name(Method::GET, "charges").unwrap_err().code, ReasonCode::UnsupportedOperation);
        assert_eq!(name(Method::POST, "charges/C1/cancel").unwrap_err().code, ReasonCode::UnsupportedOperation);
        assert_eq!(name(Method::DELETE, "chargePermissions/P1/close").map(|(n, _)| n), Ok("CloseChargePermission"));
        assert_eq!(name(Method::GET, "buyers/x").unwrap_err().code, ReasonCode::ResourceNotFound);
        assert_eq!(name(Method::GET, "charges/C1/capture/more").unwrap_err().code, ReasonCode::ResourceNotFound);
    }

    #[test]
    fn operations_are_declared_consistently() {
        for (index, operation) in OPERATIONS.iter().enumerate() {
            let ids = operation.path.split('/').filter(|s| *s == "{id}").count();
            if let Some(takes_id) = operation.handler.takes_id() {
                assert_eq!(ids, usize::from(takes_id), "{operation:?}: its {{id}} and its handler");
            }
            assert!(ids <= 1, "{operation:?}: one id at most");
            assert!(
                !operation.path.split('/').any(|s| s.is_empty() || (s.contains('{') && s != "{id}")),
                "{operation:?}: malformed path"
            );
            for other in &OPERATIONS[..index] {
                assert_ne!(other.name, operation.name, "two operations named {}", operation.name);
                assert!(
                    !(other.method == operation.method && other.path == operation.path),
                    "{operation:?} and {other:?} answer the same requests"
                );
            }
            let keyed = operation.idempotency != Idempotency::Ignored;
            assert!(!keyed || operation.method == Method::POST, "{operation:?}: keys go with POST (spec §8)");
        }
    }
}
