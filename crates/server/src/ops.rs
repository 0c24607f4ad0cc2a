//! The imperative shell of every operation: load, call the pure transition, write the new
//! state, the outbox events and the idempotency record in one transaction, answer.

use amzpay_api::body::parse_body;
use amzpay_api::error::error_response;
use amzpay_api::format::format_timestamp;
use amzpay_api::requests::{
    AmazonActionBody, BuyerAction, BuyerActionBody, CancelChargeBody, CaptureChargeBody, ClosePermissionBody,
    CreateChargeBody, CreatePermissionBody, CreateRefundBody, UpdatePermissionBody,
};
use amzpay_api::responses::{ChargeOut, ChargePermissionOut, RefundOut, to_json};
use amzpay_domain::charge::{self, ChargeCreation};
use amzpay_domain::refund;
use amzpay_domain::refund::RefundDeclineReason;
use amzpay_domain::sandbox::{self, AuthorizationOutcome, Forced, SimulationCode};
use amzpay_domain::{
    Charge, ChargeId, ChargePermission, ChargePermissionId, DeclineReason, Environment, ReasonCode, Refund, RefundId,
    Refusal, Timestamp,
};
use amzpay_store::{IdempotencyRecord, ReadTx, StoreError, WriteTx};
use sha2::{Digest, Sha256};

use crate::AppState;
use crate::auth::Caller;
use crate::config::SandboxDelays;
use crate::effects::Effects;
use crate::routes::Operation;

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
fn idempotency_scope(operation: &Operation) -> String {
    format!("{} {}", operation.name(), operation.target())
}

/// What a retry must repeat: the operation, its target and the body's values (key order
/// and whitespace aside).
fn fingerprint(operation: &Operation, body: &[u8], simulation: &str) -> String {
    let canonical_body = match serde_json::from_slice::<serde_json::Value>(body) {
        Ok(value) => value.to_string(),
        Err(_) => String::from_utf8_lossy(body).into_owned(),
    };
    let mut hasher = Sha256::new();
    hasher.update(operation.name().as_bytes());
    hasher.update(b"\n");
    hasher.update(operation.target().as_bytes());
    hasher.update(b"\n");
    hasher.update(canonical_body.as_bytes());
    hasher.update(b"\n");
    hasher.update(simulation.as_bytes());
    hex::encode(hasher.finalize())
}

pub(crate) fn not_found(what: &str, id: &str) -> Refusal {
    Refusal::new(ReasonCode::ResourceNotFound, format!("{what} '{id}' does not exist"))
}

/// Everything an operation's shell needs besides the store.
pub struct Context {
    pub caller: Caller,
    /// Real time when the request arrived; the merchant's clock adds its sandbox offset.
    pub real_now: Timestamp,
    pub delays: SandboxDelays,
    pub simulation: Option<SimulationCode>,
    /// The server's own base URL, for the links it hands out (`amazonPayRedirectUrl`).
    pub public_url: String,
}

impl Context {
    /// The time on this merchant's clock: real time in live, real time plus the merchant's
    /// offset in the sandbox.
    pub(crate) fn now(&self, tx: &mut dyn ReadTx) -> Result<Timestamp, StoreError> {
        merchant_now(tx, &self.caller.merchant_id, self.caller.environment, self.real_now)
    }

    pub(crate) fn effects(&self, now: Timestamp) -> Effects<'_> {
        Effects::new(&self.caller.merchant_id, self.caller.environment, now, self.delays)
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

/// Runs an operation for an authenticated caller.
pub async fn execute(
    state: &AppState,
    context: Context,
    operation: Operation,
    idempotency_key: Option<String>,
    body: Vec<u8>,
) -> Reply {
    match operation {
        Operation::GetChargePermission(id) => read(state, move |tx| get_permission(tx, &context, &id)).await,
        Operation::GetCharge(id) => read(state, move |tx| get_charge(tx, &context, &id)).await,
        Operation::GetRefund(id) => read(state, move |tx| get_refund(tx, &context, &id)).await,
        Operation::GetClock => read(state, move |tx| get_clock(tx, &context)).await,
        Operation::GetCheckoutSession(id) => read(state, move |tx| checkout::get(tx, &context, &id)).await,
        Operation::CompleteCheckoutSession(_) | Operation::FinalizeCheckoutSession(_) if idempotency_key.is_some() => {
            let key = idempotency_key.expect("checked");
            write(state, move |tx| idempotent(tx, &context, &operation, &key, &body)).await
        }
        Operation::AdvanceClock | Operation::FreezeClock | Operation::UnfreezeClock => {
            crate::jobs::set_clock(state, context, &operation, body).await
        }
        Operation::UpdateChargePermission(_)
        | Operation::CloseChargePermission(_)
        | Operation::CancelCharge(_)
        | Operation::BuyerAction(_)
        | Operation::AmazonAction(_)
        | Operation::UpdateCheckoutSession(_)
        | Operation::CompleteCheckoutSession(_)
        | Operation::FinalizeCheckoutSession(_)
        | Operation::SignIn(_)
        | Operation::ConfirmCheckout(_) => write(state, move |tx| mutate(tx, &context, &operation, &body)).await,
        Operation::CreateCharge
        | Operation::CaptureCharge(_)
        | Operation::CreateRefund
        | Operation::CreateTestChargePermission
        | Operation::CreateCheckoutSession => {
            let key = idempotency_key.expect("the handler checked that idempotent operations carry a key");
            write(state, move |tx| idempotent(tx, &context, &operation, &key, &body)).await
        }
    }
}

async fn read(
    state: &AppState,
    work: impl FnOnce(&mut dyn ReadTx) -> Result<Reply, StoreError> + Send + 'static,
) -> Reply {
    state.store.read(work).await.unwrap_or_else(|e| Reply::error(&crate::internal_error(e)))
}

async fn write(
    state: &AppState,
    work: impl FnOnce(&mut dyn WriteTx) -> Result<Reply, StoreError> + Send + 'static,
) -> Reply {
    state.store.write(work).await.unwrap_or_else(|e| Reply::error(&crate::internal_error(e)))
}

fn get_permission(tx: &mut dyn ReadTx, context: &Context, id: &ChargePermissionId) -> Result<Reply, StoreError> {
    let caller = &context.caller;
    let Some(mut permission) = tx.permission(&caller.merchant_id, caller.environment, id)? else {
        return Ok(Reply::error(&not_found("charge permission", id.as_str())));
    };
    let now = context.now(tx)?;
    // Show what time alone has done (expiry, a new month) even before it is written.
    permission.advance_to(now);
    Ok(Reply::json(200, to_json(&ChargePermissionOut::new(&permission, now))))
}

fn get_charge(tx: &mut dyn ReadTx, context: &Context, id: &ChargeId) -> Result<Reply, StoreError> {
    let caller = &context.caller;
    let Some(mut charge) = tx.charge(&caller.merchant_id, caller.environment, id)? else {
        return Ok(Reply::error(&not_found("charge", id.as_str())));
    };
    let now = context.now(tx)?;
    if let Some(mut permission) = tx.permission(&caller.merchant_id, caller.environment, &charge.permission_id)? {
        let _ = charge::expire_charge_if_due(&mut permission, &mut charge, now);
    }
    Ok(Reply::json(200, to_json(&ChargeOut::from(&charge))))
}

fn get_refund(tx: &mut dyn ReadTx, context: &Context, id: &RefundId) -> Result<Reply, StoreError> {
    let caller = &context.caller;
    match tx.refund(&caller.merchant_id, caller.environment, id)? {
        Some(refund) => Ok(Reply::json(200, to_json(&RefundOut::from(&refund)))),
        None => Ok(Reply::error(&not_found("refund", id.as_str()))),
    }
}

/// Test helpers exist in the sandbox only; in live they answer 404 (product.md).
pub fn sandbox_only(context: &Context, what: &str) -> Result<(), Refusal> {
    if context.caller.environment == Environment::Sandbox { Ok(()) } else { Err(not_found("resource", what)) }
}

fn get_clock(tx: &mut dyn ReadTx, context: &Context) -> Result<Reply, StoreError> {
    if let Err(error) = sandbox_only(context, "testHelpers/clock") {
        return Ok(Reply::error(&error));
    }
    let clock = tx.clock(&context.caller.merchant_id)?;
    Ok(Reply::json(200, clock_body(clock.now(context.real_now), clock.frozen_at.is_some())))
}

/// `{"now": "20240101T120000Z", "frozen": false}` (product.md, plus whether it is frozen).
pub fn clock_body(now: Timestamp, frozen: bool) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({ "now": format_timestamp(now), "frozen": frozen }))
        .expect("serializing a string")
}

/// Operations without idempotency keys: a refusal writes nothing.
fn mutate(tx: &mut dyn WriteTx, context: &Context, operation: &Operation, body: &[u8]) -> Result<Reply, StoreError> {
    let now = context.now(tx)?;
    let result = match operation {
        Operation::UpdateChargePermission(id) => update_permission(tx, context, id, body, now),
        Operation::CloseChargePermission(id) => close_permission(tx, context, id, body, now),
        Operation::CancelCharge(id) => cancel_charge(tx, context, id, body, now),
        Operation::BuyerAction(id) => buyer_action(tx, context, id, body, now),
        Operation::AmazonAction(id) => amazon_action(tx, context, id, body, now),
        Operation::UpdateCheckoutSession(id) => checkout::update(tx, context, id, body, now),
        Operation::CompleteCheckoutSession(id) => checkout::complete(tx, context, id, body, now, false),
        Operation::FinalizeCheckoutSession(id) => checkout::complete(tx, context, id, body, now, true),
        Operation::SignIn(id) => checkout::sign_in(tx, context, id, body, now),
        Operation::ConfirmCheckout(id) => checkout::confirm(tx, context, id, now),
        _ => unreachable!("mutate handles the operations without required idempotency keys"),
    };
    Ok(result?.unwrap_or_else(|e| Reply::error(&e)))
}

/// Operations with idempotency keys: replay, refuse a reused key, or run and remember.
fn idempotent(
    tx: &mut dyn WriteTx,
    context: &Context,
    operation: &Operation,
    key: &str,
    body: &[u8],
) -> Result<Reply, StoreError> {
    let caller = &context.caller;
    let simulation = context.simulation.map(|s| format!("{s:?}")).unwrap_or_default();
    let fingerprint = fingerprint(operation, body, &simulation);
    let scope = idempotency_scope(operation);
    if let Some(record) = tx.idempotency(&caller.merchant_id, caller.environment, &scope, key)? {
        if record.fingerprint == fingerprint {
            return Ok(Reply { status: record.status, body: record.body });
        }
        return Ok(Reply::error(&Refusal::new(
            ReasonCode::DuplicateIdempotencyKey,
            format!("x-amz-pay-idempotency-key '{key}' was already used for a different request"),
        )));
    }
    let now = context.now(tx)?;
    let result = match operation {
        Operation::CreateCharge => create_charge(tx, context, body, now),
        Operation::CaptureCharge(id) => capture_charge(tx, context, id, body, now),
        Operation::CreateRefund => create_refund(tx, context, body, now),
        Operation::CreateTestChargePermission => create_test_permission(tx, context, body, now),
        Operation::CreateCheckoutSession => checkout::create(tx, context, body, now),
        Operation::CompleteCheckoutSession(id) => checkout::complete(tx, context, id, body, now, false),
        Operation::FinalizeCheckoutSession(id) => checkout::complete(tx, context, id, body, now, true),
        _ => unreachable!("idempotent handles the keyed operations only"),
    };
    let reply = result?.unwrap_or_else(|e| Reply::error(&e));
    if reply.is_replayable() {
        tx.insert_idempotency(&IdempotencyRecord {
            merchant_id: caller.merchant_id.clone(),
            environment: caller.environment,
            key: key.to_owned(),
            scope,
            fingerprint,
            status: reply.status,
            body: reply.body.clone(),
            created_at: now,
        })?;
    }
    Ok(reply)
}

/// The outer `Result` is the store's; the inner one the domain's (a refusal).
pub(crate) type OpResult = Result<Result<Reply, Refusal>, StoreError>;

macro_rules! refuse {
    ($e:expr) => {
        match $e {
            Ok(value) => value,
            Err(error) => return Ok(Err(error)),
        }
    };
}

pub mod checkout;

fn load_permission(
    tx: &mut dyn WriteTx,
    caller: &Caller,
    id: &ChargePermissionId,
) -> Result<Result<ChargePermission, Refusal>, StoreError> {
    Ok(tx
        .permission(&caller.merchant_id, caller.environment, id)?
        .ok_or_else(|| not_found("charge permission", id.as_str())))
}

fn load_charge(
    tx: &mut dyn WriteTx,
    caller: &Caller,
    id: &ChargeId,
) -> Result<Result<(Charge, ChargePermission), Refusal>, StoreError> {
    let Some(charge) = tx.charge(&caller.merchant_id, caller.environment, id)? else {
        return Ok(Err(not_found("charge", id.as_str())));
    };
    let Some(permission) = tx.permission(&caller.merchant_id, caller.environment, &charge.permission_id)? else {
        return Err(StoreError::Corrupt(format!("charge {id} has no permission")));
    };
    Ok(Ok((charge, permission)))
}

fn create_charge(tx: &mut dyn WriteTx, context: &Context, body: &[u8], now: Timestamp) -> OpResult {
    let caller = &context.caller;
    let parsed = refuse!(parse_body::<CreateChargeBody>(body));
    let (permission_id, request) = refuse!(parsed.into_command());
    let mut permission = refuse!(load_permission(tx, caller, &permission_id)?);
    let before = permission.clone();
    let outcome = match caller.environment {
        Environment::Sandbox => refuse!(sandbox::authorize_with(
            permission.payment_method,
            context.forced_authorization(),
            request.can_handle_pending_authorization
        )),
        Environment::Live => AuthorizationOutcome::Approved,
    };
    let creation = refuse!(charge::create_charge(&mut permission, request, outcome, now));
    let mut effects = context.effects(now);
    effects.permission(Some(&before), &permission);
    tx.update_permission(&caller.merchant_id, &permission)?;
    let reply = match creation {
        ChargeCreation::Created(charge) => {
            effects.charge(None, &charge);
            tx.save_charge(&caller.merchant_id, &charge)?;
            Reply::json(201, to_json(&ChargeOut::from(charge.as_ref())))
        }
        ChargeCreation::Declined(error) => Reply::error(&error),
    };
    effects.write(tx)?;
    Ok(Ok(reply))
}

fn capture_charge(tx: &mut dyn WriteTx, context: &Context, id: &ChargeId, body: &[u8], now: Timestamp) -> OpResult {
    let request = refuse!(parse_body::<CaptureChargeBody>(body).and_then(CaptureChargeBody::into_command));
    let (mut charge, mut permission) = refuse!(load_charge(tx, &context.caller, id)?);
    refuse!(context.forced_refusal());
    let (charge_before, permission_before) = (charge.clone(), permission.clone());
    let declined = refuse!(charge::capture_simulated(&mut permission, &mut charge, request, context.decline(), now));
    save_charge_and_permission(tx, context, now, (&charge_before, &charge), (&permission_before, &permission))?;
    Ok(Ok(match declined {
        Some(error) => Reply::error(&error),
        None => Reply::json(200, to_json(&ChargeOut::from(&charge))),
    }))
}

fn cancel_charge(tx: &mut dyn WriteTx, context: &Context, id: &ChargeId, body: &[u8], now: Timestamp) -> OpResult {
    let reason = refuse!(parse_body::<CancelChargeBody>(body).and_then(CancelChargeBody::into_reason));
    let (mut charge, mut permission) = refuse!(load_charge(tx, &context.caller, id)?);
    refuse!(context.forced_refusal());
    let (charge_before, permission_before) = (charge.clone(), permission.clone());
    refuse!(charge::cancel(&mut permission, &mut charge, reason, now));
    save_charge_and_permission(tx, context, now, (&charge_before, &charge), (&permission_before, &permission))?;
    Ok(Ok(Reply::json(200, to_json(&ChargeOut::from(&charge)))))
}

fn save_charge_and_permission(
    tx: &mut dyn WriteTx,
    context: &Context,
    now: Timestamp,
    charge: (&Charge, &Charge),
    permission: (&ChargePermission, &ChargePermission),
) -> Result<(), StoreError> {
    let mut effects = context.effects(now);
    effects.charge(Some(charge.0), charge.1);
    effects.permission(Some(permission.0), permission.1);
    tx.save_charge(&context.caller.merchant_id, charge.1)?;
    tx.update_permission(&context.caller.merchant_id, permission.1)?;
    effects.write(tx)
}

fn create_refund(tx: &mut dyn WriteTx, context: &Context, body: &[u8], now: Timestamp) -> OpResult {
    let caller = &context.caller;
    let (charge_id, mut request) =
        refuse!(parse_body::<CreateRefundBody>(body).and_then(CreateRefundBody::into_command));
    request.simulated_decline = match context.decline() {
        Some(DeclineReason::AmazonRejected) => Some(RefundDeclineReason::AmazonRejected),
        Some(DeclineReason::ProcessingFailure) => Some(RefundDeclineReason::ProcessingFailure),
        Some(_) | None => None,
    };
    let (mut charge, mut permission) = refuse!(load_charge(tx, caller, &charge_id)?);
    let refund: Refund = refuse!(refund::create_refund(&mut permission, &mut charge, request, now));
    let mut effects = context.effects(now);
    effects.refund(None, &refund, &permission.id);
    tx.save_charge(&caller.merchant_id, &charge)?;
    tx.update_permission(&caller.merchant_id, &permission)?;
    tx.save_refund(&caller.merchant_id, &refund)?;
    effects.write(tx)?;
    Ok(Ok(Reply::json(201, to_json(&RefundOut::from(&refund)))))
}

fn update_permission(
    tx: &mut dyn WriteTx,
    context: &Context,
    id: &ChargePermissionId,
    body: &[u8],
    now: Timestamp,
) -> OpResult {
    let update = refuse!(parse_body::<UpdatePermissionBody>(body).and_then(UpdatePermissionBody::into_command));
    let mut permission = refuse!(load_permission(tx, &context.caller, id)?);
    let before = permission.clone();
    refuse!(permission.update(update, now));
    let mut effects = context.effects(now);
    effects.permission(Some(&before), &permission);
    tx.update_permission(&context.caller.merchant_id, &permission)?;
    effects.write(tx)?;
    Ok(Ok(Reply::json(200, to_json(&ChargePermissionOut::new(&permission, now)))))
}

fn close_permission(
    tx: &mut dyn WriteTx,
    context: &Context,
    id: &ChargePermissionId,
    body: &[u8],
    now: Timestamp,
) -> OpResult {
    let mut request = refuse!(parse_body::<ClosePermissionBody>(body).and_then(ClosePermissionBody::into_command));
    request.amazon_closed = context.simulation == Some(SimulationCode::AmazonClosed);
    let mut permission = refuse!(load_permission(tx, &context.caller, id)?);
    let before = permission.clone();
    let mut charges = tx.open_charges(&context.caller.merchant_id, context.caller.environment, id)?;
    let originals = charges.clone();
    let changed = refuse!(charge::close_permission(&mut permission, &mut charges, request, now));
    save_closed(tx, context, now, (&before, &permission), (&originals, &charges), &changed)?;
    Ok(Ok(Reply::json(200, to_json(&ChargePermissionOut::new(&permission, now)))))
}

fn save_closed(
    tx: &mut dyn WriteTx,
    context: &Context,
    now: Timestamp,
    permission: (&ChargePermission, &ChargePermission),
    charges: (&[Charge], &[Charge]),
    changed: &[usize],
) -> Result<(), StoreError> {
    let mut effects = context.effects(now);
    effects.permission(Some(permission.0), permission.1);
    for &index in changed {
        effects.charge(Some(&charges.0[index]), &charges.1[index]);
        tx.save_charge(&context.caller.merchant_id, &charges.1[index])?;
    }
    tx.update_permission(&context.caller.merchant_id, permission.1)?;
    effects.write(tx)
}

/// What a buyer does on the Amazon Pay site, as a sandbox test helper (product.md).
fn buyer_action(
    tx: &mut dyn WriteTx,
    context: &Context,
    id: &ChargePermissionId,
    body: &[u8],
    now: Timestamp,
) -> OpResult {
    refuse!(sandbox_only(context, "testHelpers/chargePermissions/{id}/buyerActions"));
    let action = refuse!(parse_body::<BuyerActionBody>(body).and_then(BuyerActionBody::into_action));
    let permission = refuse!(load_permission(tx, &context.caller, id)?);
    let updated = refuse!(apply_buyer_action(tx, context, permission, action, now)?);
    Ok(Ok(Reply::json(200, to_json(&ChargePermissionOut::new(&updated, now)))))
}

/// What Amazon itself does to a charge, as a sandbox test helper (docs/defaults.md): the
/// outcomes Amazon documents without a simulation code (AmazonCanceled,
/// StopShipmentAtypicalAuth).
fn amazon_action(tx: &mut dyn WriteTx, context: &Context, id: &ChargeId, body: &[u8], now: Timestamp) -> OpResult {
    refuse!(sandbox_only(context, "testHelpers/charges/{id}/amazonActions"));
    let action = refuse!(parse_body::<AmazonActionBody>(body).and_then(AmazonActionBody::into_action));
    let (mut charge, mut permission) = refuse!(load_charge(tx, &context.caller, id)?);
    let (charge_before, permission_before) = (charge.clone(), permission.clone());
    refuse!(charge::amazon_action(&mut permission, &mut charge, action, now));
    save_charge_and_permission(tx, context, now, (&charge_before, &charge), (&permission_before, &permission))?;
    Ok(Ok(Reply::json(200, to_json(&ChargeOut::from(&charge)))))
}

/// Applies a buyer action and writes it; shared by the test helper and the buyer's page.
pub fn apply_buyer_action(
    tx: &mut dyn WriteTx,
    context: &Context,
    mut permission: ChargePermission,
    action: BuyerAction,
    now: Timestamp,
) -> Result<Result<ChargePermission, Refusal>, StoreError> {
    let before = permission.clone();
    match action {
        BuyerAction::UpdatePaymentMethod(card) => {
            refuse!(charge::buyer_update_payment_method(&mut permission, card, now));
            let mut effects = context.effects(now);
            effects.permission(Some(&before), &permission);
            tx.update_permission(&context.caller.merchant_id, &permission)?;
            effects.write(tx)?;
        }
        BuyerAction::Close => {
            let mut charges =
                tx.open_charges(&context.caller.merchant_id, context.caller.environment, &permission.id)?;
            let originals = charges.clone();
            let changed = refuse!(charge::buyer_close(&mut permission, &mut charges, now));
            save_closed(tx, context, now, (&before, &permission), (&originals, &charges), &changed)?;
        }
    }
    Ok(Ok(permission))
}

/// Permission ids are random; a collision (one in 10^14 per pair) is retried this often.
const PERMISSION_ID_ATTEMPTS: usize = 8;

fn create_test_permission(tx: &mut dyn WriteTx, context: &Context, body: &[u8], now: Timestamp) -> OpResult {
    let caller = &context.caller;
    refuse!(sandbox_only(context, "testHelpers/chargePermissions"));
    let new = refuse!(parse_body::<CreatePermissionBody>(body).and_then(CreatePermissionBody::into_command));
    for _ in 0..PERMISSION_ID_ATTEMPTS {
        let id = ChargePermissionId::generate(caller.environment, caller.region, rand::random(), rand::random());
        let permission = refuse!(ChargePermission::create(id, caller.environment, caller.region, new.clone(), now));
        match tx.insert_permission(&caller.merchant_id, &permission) {
            Ok(()) => {
                let mut effects = context.effects(now);
                effects.permission(None, &permission);
                effects.write(tx)?;
                return Ok(Ok(Reply::json(201, to_json(&ChargePermissionOut::new(&permission, now)))));
            }
            Err(StoreError::Conflict(_)) => continue,
            Err(other) => return Err(other),
        }
    }
    Err(StoreError::Conflict("could not find a free charge permission id".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

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
        let charge = Operation::CreateCharge;
        let a = fingerprint(&charge, br#"{"a":1,"b":"x"}"#, "");
        assert_eq!(a, fingerprint(&charge, br#"{ "b": "x",  "a": 1 }"#, ""));
        assert_ne!(a, fingerprint(&charge, br#"{"a":2,"b":"x"}"#, ""));
        assert_ne!(a, fingerprint(&Operation::CreateRefund, br#"{"a":1,"b":"x"}"#, ""));
        let one = Operation::CaptureCharge(ChargeId::parse("S01-1111111-1111111-C000001").unwrap());
        let two = Operation::CaptureCharge(ChargeId::parse("S01-1111111-1111111-C000002").unwrap());
        assert_ne!(fingerprint(&one, b"{}", ""), fingerprint(&two, b"{}", ""));
    }
}
