//! The Checkout Session operations (spec §5.5) and the two buyer steps as test helpers
//! (product.md).

use amzpay_api::body::parse_body;
use amzpay_api::requests::checkout::{
    CompleteSessionBody, CreateSessionBody, FinalizeSessionBody, SignInBody, UpdateSessionBody,
};
use amzpay_api::responses::checkout::{CheckoutSessionOut, SessionView};
use amzpay_api::responses::to_json;
use amzpay_domain::charge::ChargeState;
use amzpay_domain::checkout_session::{self, CheckoutSession, PermissionTarget, SessionCancelReason};
use amzpay_domain::sandbox::SimulationCode;
use amzpay_domain::{ChargePermissionId, PermissionType, ReasonCode, Refusal, Timestamp};
use amzpay_store::{Job, JobKind, ReadTx, StoreError, WriteTx};

use super::{Context, OpResult, PERMISSION_ID_ATTEMPTS, Reply, not_found};

/// Where the buyer confirms: amzpay's hosted page standing in for Amazon's.
pub fn redirect_url(public_url: &str, session_id: &str) -> String {
    format!("{public_url}/checkout/{session_id}/confirm")
}

/// Session ids are UUIDs; anything else names nothing.
pub fn session_id(text: &str) -> Result<String, Refusal> {
    uuid::Uuid::parse_str(text).map(|id| id.hyphenated().to_string()).map_err(|_| not_found("checkout session", text))
}

fn render(context: &Context, session: &CheckoutSession, now: Timestamp, status: u16) -> Reply {
    render_as(context, session, now, status, SessionView::Standard)
}

fn render_as(context: &Context, session: &CheckoutSession, now: Timestamp, status: u16, view: SessionView) -> Reply {
    let url = redirect_url(&context.public_url, &session.id);
    Reply::json(status, to_json(&CheckoutSessionOut::new(session, url, now, view)))
}

fn load(tx: &mut dyn WriteTx, context: &Context, id: &str) -> Result<Result<CheckoutSession, Refusal>, StoreError> {
    let caller = &context.caller;
    Ok(tx
        .checkout_session(&caller.merchant_id, caller.environment, id)?
        .ok_or_else(|| not_found("checkout session", id)))
}

fn cancel_reason(context: &Context) -> Option<SessionCancelReason> {
    match context.simulation {
        Some(SimulationCode::BuyerCanceled) => Some(SessionCancelReason::BuyerCanceled),
        Some(SimulationCode::AmazonCanceled) => Some(SessionCancelReason::AmazonCanceled),
        Some(SimulationCode::Declined) => Some(SessionCancelReason::Declined),
        _ => None,
    }
}

pub fn get(tx: &mut dyn ReadTx, context: &Context, id: &str) -> Result<Reply, StoreError> {
    let caller = &context.caller;
    let Some(mut session) = tx.checkout_session(&caller.merchant_id, caller.environment, id)? else {
        return Ok(Reply::error(&not_found("checkout session", id)));
    };
    let now = context.now(tx)?;
    session.advance_to(now);
    Ok(render(context, &session, now, 200))
}

pub fn create(tx: &mut dyn WriteTx, context: &Context, body: &[u8], now: Timestamp) -> OpResult {
    let caller = &context.caller;
    let new = refuse!(parse_body::<CreateSessionBody>(body).and_then(CreateSessionBody::into_command));
    let Some(merchant) = tx.merchant(&caller.merchant_id)? else {
        return Err(StoreError::Corrupt(format!("merchant {} is gone", caller.merchant_id)));
    };
    if new.store_id != merchant.store_id {
        return Ok(Err(Refusal::new(
            ReasonCode::InvalidParameterValue,
            format!("storeId '{}' is not this merchant's", new.store_id),
        )));
    }
    // A Saved Wallet checkout that renews a permission must name one of this merchant's
    // Saved Wallets in this environment.
    if let Some(renewed) = &new.renews_permission {
        match tx.permission(&caller.merchant_id, caller.environment, renewed)? {
            Some(permission) if permission.kind == PermissionType::PaymentMethodOnFile => {}
            Some(_) => {
                return Ok(Err(Refusal::new(
                    ReasonCode::InvalidParameterValue,
                    format!("chargePermissionId '{renewed}' is not a Saved Wallet (PaymentMethodOnFile)"),
                )));
            }
            None => return Ok(Err(not_found("charge permission", renewed.as_str()))),
        }
    }
    let id = uuid::Uuid::new_v4().hyphenated().to_string();
    let session = refuse!(CheckoutSession::create(id, caller.environment, caller.region, new, now));
    context.save_session(tx, &session, now)?;
    tx.insert_job(&Job {
        id: 0,
        merchant_id: caller.merchant_id.clone(),
        environment: caller.environment,
        kind: JobKind::ExpireCheckoutSession,
        object_id: session.id.clone(),
        due_at: session.expires_at,
    })?;
    Ok(Ok(render(context, &session, now, 201)))
}

pub fn update(tx: &mut dyn WriteTx, context: &Context, id: &str, body: &[u8], now: Timestamp) -> OpResult {
    let update = refuse!(parse_body::<UpdateSessionBody>(body).and_then(UpdateSessionBody::into_command));
    let mut session = refuse!(load(tx, context, id)?);
    match cancel_reason(context) {
        Some(reason) => refuse!(session.cancel(reason, now)),
        None => refuse!(session.update(update, now)),
    }
    context.save_session(tx, &session, now)?;
    Ok(Ok(render(context, &session, now, 200)))
}

/// Complete Checkout Session.
pub fn complete(tx: &mut dyn WriteTx, context: &Context, id: &str, body: &[u8], now: Timestamp) -> OpResult {
    complete_or_finalize(tx, context, id, body, now, false)
}

/// Finalize Checkout Session: sets what its body carries, then completes.
pub fn finalize(tx: &mut dyn WriteTx, context: &Context, id: &str, body: &[u8], now: Timestamp) -> OpResult {
    complete_or_finalize(tx, context, id, body, now, true)
}

/// Complete (and Finalize, after it set its details): the permission and, unless Confirm,
/// the charge; 202 while the authorization is pending.
fn complete_or_finalize(
    tx: &mut dyn WriteTx,
    context: &Context,
    id: &str,
    body: &[u8],
    now: Timestamp,
    finalize: bool,
) -> OpResult {
    let caller = &context.caller;
    let mut session = refuse!(load(tx, context, id)?);
    let (charge_amount, total) = if finalize {
        let (update, charge, total) =
            refuse!(parse_body::<FinalizeSessionBody>(body).and_then(FinalizeSessionBody::into_parts));
        refuse!(session.update(update, now));
        (charge, total)
    } else {
        refuse!(parse_body::<CompleteSessionBody>(body).and_then(CompleteSessionBody::into_amounts))
    };
    if let Some(reason) = cancel_reason(context) {
        refuse!(session.cancel(reason, now));
        context.save_session(tx, &session, now)?;
        return Ok(Err(Refusal::new(
            ReasonCode::CheckoutSessionCanceled,
            format!("the Checkout Session is Canceled ({})", reason.as_str()),
        )));
    }
    let view = if finalize { SessionView::Finalize } else { SessionView::Standard };
    for _ in 0..PERMISSION_ID_ATTEMPTS {
        let (target, before) = match &session.renews_permission {
            None => {
                let id =
                    ChargePermissionId::generate(caller.environment, caller.region, rand::random(), rand::random());
                (PermissionTarget::New(id), None)
            }
            Some(id) => {
                let Some(existing) = tx.permission(&caller.merchant_id, caller.environment, id)? else {
                    return Ok(Err(not_found("charge permission", id.as_str())));
                };
                (PermissionTarget::Renewed(Box::new(existing.clone())), Some(existing))
            }
        };
        let mut attempt = session.clone();
        let completion = refuse!(checkout_session::complete(&mut attempt, charge_amount, total, target, now));
        let completion = match completion {
            Ok(completion) => completion,
            Err(declined) => {
                // A synchronous decline cancels the session; that change stands.
                context.save_session(tx, &attempt, now)?;
                return Ok(Err(declined));
            }
        };
        if completion.created {
            match tx.insert_permission(&caller.merchant_id, &completion.permission) {
                Ok(()) => {}
                // The random id is taken (in either environment): draw another.
                Err(StoreError::IdTaken(_)) => continue,
                Err(other) => return Err(other),
            }
        } else {
            tx.update_permission(&caller.merchant_id, &completion.permission)?;
        }
        let mut effects = context.effects(now);
        effects.permission(before.as_ref(), &completion.permission);
        let pending = completion.charge.as_ref().is_some_and(|c| c.state == ChargeState::AuthorizationInitiated);
        if let Some(charge) = &completion.charge {
            effects.charge(None, charge);
            tx.save_charge(&caller.merchant_id, charge)?;
        }
        effects.write(tx)?;
        context.save_session(tx, &attempt, now)?;
        return Ok(Ok(render_as(context, &attempt, now, if pending { 202 } else { 200 }, view)));
    }
    Err(StoreError::IdTaken("every charge permission id drawn".into()))
}

/// The buyer signs in and picks a sandbox card (test helper and hosted page).
pub fn sign_in(tx: &mut dyn WriteTx, context: &Context, id: &str, body: &[u8], now: Timestamp) -> OpResult {
    refuse!(super::sandbox_only(context, "testHelpers/checkoutSessions/{id}/signIn"));
    let (buyer, address, card) = refuse!(parse_body::<SignInBody>(body).and_then(SignInBody::into_parts));
    let mut session = refuse!(load(tx, context, id)?);
    refuse!(session.sign_in(buyer, Some(address), card, now));
    context.save_session(tx, &session, now)?;
    Ok(Ok(render(context, &session, now, 200)))
}

/// Where the buyer lands after signing in: the review page, or (ProcessOrder, where signing
/// in is confirming) the result page, whatever the card did.
pub fn after_sign_in_url(session: &CheckoutSession) -> Option<String> {
    let base = if session.process_order {
        session.checkout_result_return_url.as_ref()
    } else {
        session.checkout_review_return_url.as_ref()
    }?;
    Some(with_session_id(base, &session.id))
}

/// `url?amazonCheckoutSessionId=id` (or `&...` when the URL has a query).
pub fn with_session_id(url: &str, id: &str) -> String {
    let separator = if url.contains('?') { '&' } else { '?' };
    format!("{url}{separator}amazonCheckoutSessionId={id}")
}

/// The buyer confirms at `amazonPayRedirectUrl` (test helper and hosted page): answers
/// `{"redirectUrl": "<checkoutResultReturnUrl>?amazonCheckoutSessionId=<id>"}`.
pub fn confirm(tx: &mut dyn WriteTx, context: &Context, id: &str, _body: &[u8], now: Timestamp) -> OpResult {
    refuse!(super::sandbox_only(context, "testHelpers/checkoutSessions/{id}/confirm"));
    let mut session = refuse!(load(tx, context, id)?);
    refuse!(session.confirm(now));
    context.save_session(tx, &session, now)?;
    let redirect_url = session.checkout_result_return_url.as_deref().map(|url| with_session_id(url, &session.id));
    Ok(Ok(Reply::json(200, to_json(&amzpay_api::responses::ConfirmOut { redirect_url }))))
}

/// An Open session reaches 24 hours (run by the job).
pub fn expire(
    tx: &mut dyn WriteTx,
    merchant_id: &str,
    environment: amzpay_domain::Environment,
    id: &str,
    now: Timestamp,
    origin: crate::effects::Origin,
) -> Result<(), StoreError> {
    if let Some(mut session) = tx.checkout_session(merchant_id, environment, id)?
        && session.advance_to(now)
    {
        crate::effects::save_checkout_session(tx, merchant_id, &session, now, origin)?;
    }
    Ok(())
}
