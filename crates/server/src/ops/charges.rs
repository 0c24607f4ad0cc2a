//! Charges (spec §5.2, §6.1): create, read, capture, cancel, and what Amazon itself does to a
//! charge (the `amazonActions` test helper). Each handler is one transaction's shell.

use amzpay_api::body::parse_body;
use amzpay_api::requests::{AmazonActionBody, CancelChargeBody, CaptureChargeBody, CreateChargeBody};
use amzpay_api::responses::{ChargeOut, to_json};
use amzpay_domain::charge::{self, ChargeCreation};
use amzpay_domain::sandbox::{self, AuthorizationOutcome};
use amzpay_domain::{Charge, ChargeId, ChargePermission, Environment, Refusal, Timestamp};
use amzpay_store::{ReadTx, StoreError, WriteTx};

use super::permissions::load_permission;
use super::{Context, OpResult, Reply, Scope, not_found, sandbox_only};

/// A charge and its permission, for a change that touches both.
pub(crate) fn load_charge(
    tx: &mut dyn WriteTx,
    scope: Scope<'_>,
    id: &ChargeId,
) -> Result<Result<(Charge, ChargePermission), Refusal>, StoreError> {
    let Some(charge) = tx.charge(scope.merchant_id, scope.environment, id)? else {
        return Ok(Err(not_found("charge", id.as_str())));
    };
    let Some(permission) = tx.permission(scope.merchant_id, scope.environment, &charge.permission_id)? else {
        return Err(StoreError::Corrupt(format!("charge {id} has no permission")));
    };
    Ok(Ok((charge, permission)))
}

/// Writes a changed charge and its permission, with the effects of their changes.
pub(crate) fn save_charge_and_permission(
    tx: &mut dyn WriteTx,
    scope: Scope<'_>,
    now: Timestamp,
    charge: (&Charge, &Charge),
    permission: (&ChargePermission, &ChargePermission),
) -> Result<(), StoreError> {
    let mut effects = scope.effects(now);
    effects.charge(Some(charge.0), charge.1);
    effects.permission(Some(permission.0), permission.1);
    tx.save_charge(scope.merchant_id, charge.1)?;
    tx.update_permission(scope.merchant_id, permission.1)?;
    effects.write(tx).map(drop)
}

pub fn get(tx: &mut dyn ReadTx, context: &Context, id: &ChargeId) -> Result<Reply, StoreError> {
    let caller = &context.caller;
    let Some(mut charge) = tx.charge(&caller.merchant_id, caller.environment, id)? else {
        return Ok(Reply::error(&not_found("charge", id.as_str())));
    };
    let now = context.now(tx)?;
    // Show what time alone has done (an expired authorization) even before it is written;
    // the permission is loaded only then (most reads need not pay for it).
    if charge::charge_expiry_due(&charge, now)
        && let Some(mut permission) = tx.permission(&caller.merchant_id, caller.environment, &charge.permission_id)?
    {
        let _ = charge::expire_charge_if_due(&mut permission, &mut charge, now);
    }
    Ok(Reply::json(200, to_json(&ChargeOut::from(&charge))))
}

pub fn create(tx: &mut dyn WriteTx, context: &Context, body: &[u8], now: Timestamp) -> OpResult {
    let caller = &context.caller;
    let parsed = refuse!(parse_body::<CreateChargeBody>(body));
    let (permission_id, request) = refuse!(parsed.into_command());
    let mut permission = refuse!(load_permission(tx, context.scope(), &permission_id)?);
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

pub fn capture(tx: &mut dyn WriteTx, context: &Context, id: &ChargeId, body: &[u8], now: Timestamp) -> OpResult {
    let request = refuse!(parse_body::<CaptureChargeBody>(body).and_then(CaptureChargeBody::into_command));
    let (mut charge, mut permission) = refuse!(load_charge(tx, context.scope(), id)?);
    refuse!(context.forced_refusal());
    let (charge_before, permission_before) = (charge.clone(), permission.clone());
    let declined = refuse!(charge::capture_simulated(&mut permission, &mut charge, request, context.decline(), now));
    let scope = context.scope();
    save_charge_and_permission(tx, scope, now, (&charge_before, &charge), (&permission_before, &permission))?;
    Ok(Ok(match declined {
        Some(error) => Reply::error(&error),
        None => Reply::json(200, to_json(&ChargeOut::from(&charge))),
    }))
}

pub fn cancel(tx: &mut dyn WriteTx, context: &Context, id: &ChargeId, body: &[u8], now: Timestamp) -> OpResult {
    let reason = refuse!(parse_body::<CancelChargeBody>(body).and_then(CancelChargeBody::into_reason));
    let (mut charge, mut permission) = refuse!(load_charge(tx, context.scope(), id)?);
    refuse!(context.forced_refusal());
    let (charge_before, permission_before) = (charge.clone(), permission.clone());
    refuse!(charge::cancel(&mut permission, &mut charge, reason, now));
    let scope = context.scope();
    save_charge_and_permission(tx, scope, now, (&charge_before, &charge), (&permission_before, &permission))?;
    Ok(Ok(Reply::json(200, to_json(&ChargeOut::from(&charge)))))
}

/// What Amazon itself does to a charge, as a sandbox test helper (docs/defaults.md): the
/// outcomes Amazon documents without a simulation code (AmazonCanceled,
/// StopShipmentAtypicalAuth).
pub fn amazon_action(tx: &mut dyn WriteTx, context: &Context, id: &ChargeId, body: &[u8], now: Timestamp) -> OpResult {
    refuse!(sandbox_only(context, "testHelpers/charges/{id}/amazonActions"));
    let action = refuse!(parse_body::<AmazonActionBody>(body).and_then(AmazonActionBody::into_action));
    let (mut charge, mut permission) = refuse!(load_charge(tx, context.scope(), id)?);
    let (charge_before, permission_before) = (charge.clone(), permission.clone());
    refuse!(charge::amazon_action(&mut permission, &mut charge, action, now));
    let scope = context.scope();
    save_charge_and_permission(tx, scope, now, (&charge_before, &charge), (&permission_before, &permission))?;
    Ok(Ok(Reply::json(200, to_json(&ChargeOut::from(&charge)))))
}
