//! The imperative shell of every operation: load, call the pure transition, write the new
//! state, the outbox events and the idempotency record in one transaction, answer.
//!
//! [`execute`] runs the operation [`crate::routes`] picked: it parses the id the handler
//! takes, opens the transaction, replays or records the idempotency key, and calls the
//! handler; before that, a sandbox fault may answer instead (`faults::inject`). The
//! handlers, by object: [`charges`], [`permissions`], [`refunds`], [`checkout`], [`clock`],
//! [`notifications`], [`faults`]. They never pick an HTTP status, never read a clock (the
//! merchant's time comes in) and never write SQL.

use std::sync::Arc;

use amzpay_api::error::error_response;
use amzpay_domain::sandbox::{Forced, SimulationCode};
use amzpay_domain::{
    ChargeId, ChargePermissionId, DeclineReason, Environment, ReasonCode, RefundId, Refusal, Timestamp,
};
use amzpay_store::{Cause, IdempotencyRecord, ReadTx, StoreError, WriteTx};
use sha2::{Digest, Sha256};

use crate::AppState;
use crate::auth::Caller;
use crate::config::SandboxDelays;
use crate::effects::{Effects, Origin};
use crate::routes::{Handler, Idempotency, Operation, Read, Routed, Write};

/// An HTTP answer: status and JSON body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub status: u16,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn error(error: &Refusal) -> Reply {
        let (status, body) = error_response(error);
        Reply { status, body }
    }

    pub(crate) fn json(status: u16, body: Vec<u8>) -> Reply {
        Reply { status, body }
    }

    /// Outcomes replayed for a retried key (product.md): every 2xx and every 4xx that came
    /// from validation or state; not 5xx or 429.
    fn is_replayable(&self) -> bool {
        (200..300).contains(&self.status) || ((400..500).contains(&self.status) && self.status != 429)
    }
}

/// The outer `Result` is the store's; the inner one a refusal, which writes nothing.
pub(crate) type OpResult = Result<Result<Reply, Refusal>, StoreError>;

/// Returns a refusal from a handler (`Ok(Err(...))`: the transaction rolls back nothing
/// because nothing was written yet), or unwraps the value.
macro_rules! refuse {
    ($e:expr) => {
        match $e {
            Ok(value) => value,
            Err(error) => return Ok(Err(error)),
        }
    };
}

pub mod charges;
pub mod checkout;
pub mod clock;
pub mod faults;
pub mod notifications;
pub mod permissions;
pub mod refunds;

/// Longest idempotency key (spec §8).
pub const IDEMPOTENCY_KEY_MAX_CHARS: usize = 32;

/// Checks an `x-amz-pay-idempotency-key` value: at most 32 of `[a-zA-Z0-9_-]`.
pub fn check_idempotency_key(key: &str) -> Result<(), Refusal> {
    let valid = !key.is_empty()
        && key.len() <= IDEMPOTENCY_KEY_MAX_CHARS
        && key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if valid {
        Ok(())
    } else {
        Err(Refusal::new(
            ReasonCode::InvalidHeaderValue,
            format!(
                "x-amz-pay-idempotency-key must be 1 to {IDEMPOTENCY_KEY_MAX_CHARS} characters of a-z, A-Z, 0-9, '_' and '-'"
            ),
        ))
    }
}

/// What an idempotency key is scoped to besides the merchant and environment: the
/// operation and its target (spec §8). Amazon's own Node.js SDK test sends one key for
/// Create Checkout Session, then Create Charge, then Capture Charge, and each succeeds.
fn idempotency_scope(operation: &Operation, target: &str) -> String {
    format!("{} {target}", operation.name)
}

/// What a retry must repeat: the operation, its target and the body's values (key order
/// and whitespace aside).
fn fingerprint(operation: &Operation, target: &str, body: &[u8], simulation: &str) -> String {
    let canonical_body = match serde_json::from_slice::<serde_json::Value>(body) {
        Ok(value) => value.to_string(),
        Err(_) => String::from_utf8_lossy(body).into_owned(),
    };
    let mut hasher = Sha256::new();
    hasher.update(operation.name.as_bytes());
    hasher.update(b"\n");
    hasher.update(target.as_bytes());
    hasher.update(b"\n");
    hasher.update(canonical_body.as_bytes());
    hasher.update(b"\n");
    hasher.update(simulation.as_bytes());
    hex::encode(hasher.finalize())
}

pub(crate) fn not_found(what: &str, id: &str) -> Refusal {
    Refusal::new(ReasonCode::ResourceNotFound, format!("{what} '{id}' does not exist"))
}

/// Whose objects a change belongs to, and how its effects are scheduled: a signed caller's
/// (from `Context::scope`) or, for the hosted pages, the merchant a sandbox object
/// belongs to.
#[derive(Debug, Clone, Copy)]
pub struct Scope<'a> {
    pub merchant_id: &'a str,
    pub environment: Environment,
    pub delays: SandboxDelays,
    /// What the changes are caused by (the timeline's cause).
    pub origin: Origin,
}

impl Scope<'_> {
    pub(crate) fn effects(&self, now: Timestamp) -> Effects<'_> {
        Effects::new(self.merchant_id, self.environment, now, self.delays, self.origin)
    }
}

/// What a signed request's changes are caused by: its simulation code when it has one, else
/// the buyer for the test helpers that act as the buyer, Amazon for the one that acts as
/// Amazon, else the operation.
pub fn origin_of(operation: &Operation, simulation: Option<SimulationCode>) -> Origin {
    if let Some(code) = simulation {
        return Origin::new(Cause::Simulation, code.code());
    }
    let cause = match operation.name {
        "BuyerAction" | "SignIn" | "ConfirmCheckout" => Cause::Buyer,
        "AmazonAction" => Cause::Amazon,
        _ => Cause::Api,
    };
    Origin::new(cause, operation.name)
}

/// Everything an operation's shell needs besides the store.
pub struct Context {
    pub caller: Caller,
    /// Real time when the request arrived; the merchant's clock adds its sandbox offset.
    pub real_now: Timestamp,
    pub delays: SandboxDelays,
    pub simulation: Option<SimulationCode>,
    /// What the request's changes are caused by (`origin_of`).
    pub origin: Origin,
    /// The server's own base URL, for the links it hands out (`amazonPayRedirectUrl`).
    pub public_url: String,
    /// The request's query string, raw (only the delivery log reads one).
    pub query: String,
}

impl Context {
    /// The time on this merchant's clock: real time in live, real time plus the merchant's
    /// offset in the sandbox.
    pub(crate) fn now(&self, tx: &mut dyn ReadTx) -> Result<Timestamp, StoreError> {
        merchant_now(tx, &self.caller.merchant_id, self.caller.environment, self.real_now)
    }

    pub(crate) fn scope(&self) -> Scope<'_> {
        Scope {
            merchant_id: &self.caller.merchant_id,
            environment: self.caller.environment,
            delays: self.delays,
            origin: self.origin,
        }
    }

    pub(crate) fn effects(&self, now: Timestamp) -> Effects<'_> {
        Effects::new(&self.caller.merchant_id, self.caller.environment, now, self.delays, self.origin)
    }

    /// Saves a checkout session, with its timeline entry if its state changed.
    pub(crate) fn save_session(
        &self,
        tx: &mut dyn WriteTx,
        session: &amzpay_domain::checkout_session::CheckoutSession,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        crate::effects::save_checkout_session(tx, &self.caller.merchant_id, session, now, self.origin)
    }

    fn decline(&self) -> Option<DeclineReason> {
        match self.simulation {
            Some(SimulationCode::Decline(reason)) => Some(reason),
            _ => None,
        }
    }

    /// What the simulation code forces on an authorization.
    fn forced_authorization(&self) -> Option<Forced> {
        match self.simulation {
            Some(SimulationCode::Decline(reason)) => Some(Forced::Decline(reason)),
            Some(SimulationCode::Amzpay(ours)) => Some(Forced::Refusal(ours)),
            _ => None,
        }
    }

    /// The refusal an amzpay-only simulation code forces on an operation that has no
    /// authorization (Capture, Cancel): the request changes nothing.
    fn forced_refusal(&self) -> Result<(), Refusal> {
        match self.simulation {
            Some(SimulationCode::Amzpay(ours)) => Err(ours.error()),
            _ => Ok(()),
        }
    }
}

/// A merchant's time in an environment.
pub fn merchant_now(
    tx: &mut dyn ReadTx,
    merchant_id: &str,
    environment: Environment,
    real_now: Timestamp,
) -> Result<Timestamp, StoreError> {
    match environment {
        Environment::Live => Ok(real_now),
        Environment::Sandbox => Ok(tx.clock(merchant_id)?.now(real_now)),
    }
}

/// Test helpers exist in the sandbox only; in live they answer 404 (product.md).
pub fn sandbox_only(context: &Context, what: &str) -> Result<(), Refusal> {
    if context.caller.environment == Environment::Sandbox { Ok(()) } else { Err(not_found("resource", what)) }
}

fn the_id(routed: &Routed) -> &str {
    routed.id.as_deref().unwrap_or_default()
}

fn permission_id(text: &str) -> Result<ChargePermissionId, Refusal> {
    ChargePermissionId::parse(text).ok_or_else(|| not_found("charge permission", text))
}

fn charge_id(text: &str) -> Result<ChargeId, Refusal> {
    ChargeId::parse(text).ok_or_else(|| not_found("charge", text))
}

fn refund_id(text: &str) -> Result<RefundId, Refusal> {
    RefundId::parse(text).ok_or_else(|| not_found("refund", text))
}

/// Runs the operation a request was routed to, for an authenticated caller, unless a
/// sandbox fault answers first (before the idempotency key is looked at, so a faulted
/// request records nothing).
pub async fn execute(
    state: &Arc<AppState>,
    context: Context,
    routed: Routed,
    idempotency_key: Option<String>,
    body: Vec<u8>,
) -> Reply {
    if let Some(reply) = faults::inject(state, &context, routed.operation).await {
        return reply;
    }
    match run(state, context, &routed, idempotency_key, body).await {
        Ok(reply) => reply,
        Err(refusal) => Reply::error(&refusal),
    }
}

/// Runs an operation for the operator's dashboard, acting as the merchant (`context`): as
/// [`execute`], but no sandbox fault applies (they are the merchant's, for its own
/// integration's requests) and no idempotency key is taken.
pub(crate) async fn perform(state: &Arc<AppState>, context: Context, routed: Routed, body: Vec<u8>) -> Reply {
    run(state, context, &routed, None, body).await.unwrap_or_else(|refusal| Reply::error(&refusal))
}

async fn run(
    state: &Arc<AppState>,
    context: Context,
    routed: &Routed,
    key: Option<String>,
    body: Vec<u8>,
) -> Result<Reply, Refusal> {
    let operation = routed.operation;
    let id = the_id(routed);
    let reply = match operation.handler {
        Handler::Refused(code, message) => return Err(Refusal::new(code, message)),
        Handler::Clock(change) => clock::set(state, context, operation, change, key, body).await,
        Handler::Faults(change) => faults::change(state, context, change, body).await,
        Handler::Read(Read::Plain(f)) => read(state, move |tx| f(tx, &context)).await,
        Handler::Read(Read::ChargePermission(f)) => {
            let id = permission_id(id)?;
            read(state, move |tx| f(tx, &context, &id)).await
        }
        Handler::Read(Read::Charge(f)) => {
            let id = charge_id(id)?;
            read(state, move |tx| f(tx, &context, &id)).await
        }
        Handler::Read(Read::Refund(f)) => {
            let id = refund_id(id)?;
            read(state, move |tx| f(tx, &context, &id)).await
        }
        Handler::Read(Read::CheckoutSession(f)) => {
            let id = checkout::session_id(id)?;
            read(state, move |tx| f(tx, &context, &id)).await
        }
        Handler::Write(Write::Plain(f)) => {
            let job = WriteRequest { context, operation, target: String::new(), key, body };
            write(state, job, f).await
        }
        Handler::Write(Write::ChargePermission(f)) => {
            let id = permission_id(id)?;
            let job = WriteRequest { context, operation, target: id.as_str().to_owned(), key, body };
            write(state, job, move |tx, context, body, now| f(tx, context, &id, body, now)).await
        }
        Handler::Write(Write::Charge(f)) => {
            let id = charge_id(id)?;
            let job = WriteRequest { context, operation, target: id.as_str().to_owned(), key, body };
            write(state, job, move |tx, context, body, now| f(tx, context, &id, body, now)).await
        }
        Handler::Write(Write::CheckoutSession(f)) => {
            let id = checkout::session_id(id)?;
            let job = WriteRequest { context, operation, target: id.clone(), key, body };
            write(state, job, move |tx, context, body, now| f(tx, context, &id, body, now)).await
        }
        Handler::Write(Write::Notification(f)) => {
            let id = notifications::notification_id(id)?;
            let job = WriteRequest { context, operation, target: id.clone(), key, body };
            write(state, job, move |tx, context, body, now| f(tx, context, &id, body, now)).await
        }
    };
    Ok(reply)
}

async fn read(
    state: &AppState,
    work: impl FnOnce(&mut dyn ReadTx) -> Result<Reply, StoreError> + Send + 'static,
) -> Reply {
    state.store.read(work).await.unwrap_or_else(|e| Reply::error(&crate::internal_error(e)))
}

/// A write request: who asks, for which operation and target, with which key and body.
struct WriteRequest {
    context: Context,
    operation: &'static Operation,
    /// The id in the path (`""` for none), normalized.
    target: String,
    key: Option<String>,
    body: Vec<u8>,
}

/// Runs a write in one transaction: with a key (on an operation that takes one), replays a
/// recorded answer, refuses a changed retry, or runs and records; without, just runs. A
/// refusal writes nothing.
async fn write(
    state: &AppState,
    job: WriteRequest,
    handler: impl FnOnce(&mut dyn WriteTx, &Context, &[u8], Timestamp) -> OpResult + Send + 'static,
) -> Reply {
    // What identifies a keyed request is computed here, on the request's own thread: the
    // writer thread, which every write of the process waits for, only looks it up.
    let identity = job
        .key
        .as_deref()
        .filter(|_| job.operation.idempotency != Idempotency::Ignored)
        .map(|key| KeyedRequest::of(&job, key));
    let done = state
        .store
        .write(move |tx| -> Result<Reply, StoreError> {
            let Some(identity) = identity else {
                let now = job.context.now(tx)?;
                return Ok(handler(tx, &job.context, &job.body, now)?.unwrap_or_else(|e| Reply::error(&e)));
            };
            keyed(tx, &job, identity, handler)
        })
        .await;
    // The change may have staged notifications: they can go now that it is durable.
    state.ipn.wake();
    done.unwrap_or_else(|e| Reply::error(&crate::internal_error(e)))
}

/// An idempotency key with what it is scoped to and the fingerprint of the request it came
/// with.
struct KeyedRequest {
    key: String,
    scope: String,
    fingerprint: String,
}

impl KeyedRequest {
    fn of(job: &WriteRequest, key: &str) -> KeyedRequest {
        let simulation = job.context.simulation.map(|s| format!("{s:?}")).unwrap_or_default();
        KeyedRequest {
            key: key.to_owned(),
            scope: idempotency_scope(job.operation, &job.target),
            fingerprint: fingerprint(job.operation, &job.target, &job.body, &simulation),
        }
    }
}

fn keyed(
    tx: &mut dyn WriteTx,
    job: &WriteRequest,
    identity: KeyedRequest,
    handler: impl FnOnce(&mut dyn WriteTx, &Context, &[u8], Timestamp) -> OpResult,
) -> Result<Reply, StoreError> {
    let caller = &job.context.caller;
    let KeyedRequest { key, scope, fingerprint } = identity;
    if let Some(record) = tx.idempotency(&caller.merchant_id, caller.environment, &scope, &key)? {
        return Ok(replay(record, &fingerprint, &key));
    }
    let now = job.context.now(tx)?;
    let reply = handler(tx, &job.context, &job.body, now)?.unwrap_or_else(|e| Reply::error(&e));
    if reply.is_replayable() {
        let record = IdempotencyRecord {
            merchant_id: caller.merchant_id.clone(),
            environment: caller.environment,
            key,
            scope,
            fingerprint,
            status: reply.status,
            body: reply.body.clone(),
            created_at: now,
        };
        tx.insert_idempotency(&record)?;
    }
    Ok(reply)
}

/// The answer to a key already recorded: the same request replays byte for byte, another
/// is `400 DuplicateIdempotencyKey`.
fn replay(record: IdempotencyRecord, fingerprint: &str, key: &str) -> Reply {
    if record.fingerprint == fingerprint {
        return Reply { status: record.status, body: record.body };
    }
    Reply::error(&Refusal::new(
        ReasonCode::DuplicateIdempotencyKey,
        format!("x-amz-pay-idempotency-key '{key}' was already used for a different request"),
    ))
}

/// Permission ids are random; a collision (one in 10^14 per pair) is retried this often.
pub(crate) const PERMISSION_ID_ATTEMPTS: usize = 8;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::routes::OPERATIONS;

    #[test]
    fn idempotency_keys_are_at_most_32_safe_characters() {
        for ok in ["a", "0123456789abcdef0123456789abcdef", "A-b_C", "3f2a9c0e5d7b4a1f8e6c2b9d0a7f5e31"] {
            assert!(check_idempotency_key(ok).is_ok(), "{ok}");
        }
        for bad in ["", "0123456789abcdef0123456789abcdefX", "has space", "semi;colon", "ü"] {
            assert_eq!(check_idempotency_key(bad).unwrap_err().code, ReasonCode::InvalidHeaderValue, "{bad}");
        }
    }

    #[test]
    fn fingerprints_ignore_formatting_but_not_values_or_targets() {
        let operation = |name: &str| OPERATIONS.iter().find(|o| o.name == name).unwrap();
        let charge = operation("CreateCharge");
        let a = fingerprint(charge, "", br#"{"a":1,"b":"x"}"#, "");
        assert_eq!(a, fingerprint(charge, "", br#"{ "b": "x",  "a": 1 }"#, ""));
        assert_ne!(a, fingerprint(charge, "", br#"{"a":2,"b":"x"}"#, ""));
        assert_ne!(a, fingerprint(operation("CreateRefund"), "", br#"{"a":1,"b":"x"}"#, ""));
        let capture = operation("CaptureCharge");
        assert_ne!(
            fingerprint(capture, "S01-1111111-1111111-C000001", b"{}", ""),
            fingerprint(capture, "S01-1111111-1111111-C000002", b"{}", "")
        );
    }
}
