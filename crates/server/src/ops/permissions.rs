//! Charge Permissions (spec §5.3, §6.2): read, update, close; and the sandbox test helpers
//! that make one as a checkout would, and act as its buyer (`buyerActions`, shared with the
//! buyer's page).

use amzpay_api::body::parse_body;
use amzpay_api::requests::{
    BuyerAction, BuyerActionBody, ClosePermissionBody, CreatePermissionBody, UpdatePermissionBody,
};
use amzpay_api::responses::{ChargePermissionOut, to_json};
use amzpay_domain::charge;
use amzpay_domain::sandbox::SimulationCode;
use amzpay_domain::{Charge, ChargePermission, ChargePermissionId, Refusal, Timestamp};
use amzpay_store::{Cause, ReadTx, StoreError, WriteTx};

use crate::effects::Origin;

use super::{Context, OpResult, PERMISSION_ID_ATTEMPTS, Reply, Scope, not_found, sandbox_only};

/// A permission of the scope's merchant and environment.
pub(crate) fn load_permission(
    tx: &mut dyn WriteTx,
    scope: Scope<'_>,
    id: &ChargePermissionId,
) -> Result<Result<ChargePermission, Refusal>, StoreError> {
    Ok(tx
        .permission(scope.merchant_id, scope.environment, id)?
        .ok_or_else(|| not_found("charge permission", id.as_str())))
}

pub fn get(tx: &mut dyn ReadTx, context: &Context, id: &ChargePermissionId) -> Result<Reply, StoreError> {
    let caller = &context.caller;
    let Some(mut permission) = tx.permission(&caller.merchant_id, caller.environment, id)? else {
        return Ok(Reply::error(&not_found("charge permission", id.as_str())));
    };
    let now = context.now(tx)?;
    // Show what time alone has done (expiry, a new month) even before it is written.
    permission.advance_to(now);
    Ok(Reply::json(200, to_json(&ChargePermissionOut::new(&permission, now))))
}

pub fn update(
    tx: &mut dyn WriteTx,
    context: &Context,
    id: &ChargePermissionId,
    body: &[u8],
    now: Timestamp,
) -> OpResult {
    let update = refuse!(parse_body::<UpdatePermissionBody>(body).and_then(UpdatePermissionBody::into_command));
    let mut permission = refuse!(load_permission(tx, context.scope(), id)?);
    let before = permission.clone();
    refuse!(permission.update(update, now));
    let mut effects = context.effects(now);
    effects.permission(Some(&before), &permission);
    tx.update_permission(&context.caller.merchant_id, &permission)?;
    effects.write(tx)?;
    Ok(Ok(Reply::json(200, to_json(&ChargePermissionOut::new(&permission, now)))))
}

pub fn close(
    tx: &mut dyn WriteTx,
    context: &Context,
    id: &ChargePermissionId,
    body: &[u8],
    now: Timestamp,
) -> OpResult {
    let mut request = refuse!(parse_body::<ClosePermissionBody>(body).and_then(ClosePermissionBody::into_command));
    request.amazon_closed = context.simulation == Some(SimulationCode::AmazonClosed);
    let scope = context.scope();
    let mut permission = refuse!(load_permission(tx, scope, id)?);
    let before = permission.clone();
    let mut charges = tx.open_charges(scope.merchant_id, scope.environment, id)?;
    let originals = charges.clone();
    let changed = refuse!(charge::close_permission(&mut permission, &mut charges, request, now));
    save_closed(tx, scope, now, (&before, &permission), (&originals, &charges), &changed)?;
    Ok(Ok(Reply::json(200, to_json(&ChargePermissionOut::new(&permission, now)))))
}

/// Writes a closed permission and the charges its closing changed, with their effects.
fn save_closed(
    tx: &mut dyn WriteTx,
    scope: Scope<'_>,
    now: Timestamp,
    permission: (&ChargePermission, &ChargePermission),
    charges: (&[Charge], &[Charge]),
    changed: &[usize],
) -> Result<(), StoreError> {
    let mut effects = scope.effects(now);
    effects.permission(Some(permission.0), permission.1);
    for &index in changed {
        effects.charge(Some(&charges.0[index]), &charges.1[index]);
        tx.save_charge(scope.merchant_id, &charges.1[index])?;
    }
    tx.update_permission(scope.merchant_id, permission.1)?;
    effects.write(tx).map(drop)
}

/// What a buyer does on the Amazon Pay site, as a sandbox test helper (product.md).
pub fn buyer_action(
    tx: &mut dyn WriteTx,
    context: &Context,
    id: &ChargePermissionId,
    body: &[u8],
    now: Timestamp,
) -> OpResult {
    refuse!(sandbox_only(context, "testHelpers/chargePermissions/{id}/buyerActions"));
    let action = refuse!(parse_body::<BuyerActionBody>(body).and_then(BuyerActionBody::into_action));
    let permission = refuse!(load_permission(tx, context.scope(), id)?);
    let scope = Scope { origin: Origin::new(Cause::Buyer, action.name()), ..context.scope() };
    let updated = refuse!(apply_buyer_action(tx, scope, permission, action, now)?);
    Ok(Ok(Reply::json(200, to_json(&ChargePermissionOut::new(&updated, now)))))
}

/// Applies a buyer action and writes it; shared by the test helper and the buyer's page.
pub fn apply_buyer_action(
    tx: &mut dyn WriteTx,
    scope: Scope<'_>,
    mut permission: ChargePermission,
    action: BuyerAction,
    now: Timestamp,
) -> Result<Result<ChargePermission, Refusal>, StoreError> {
    let before = permission.clone();
    match action {
        BuyerAction::UpdatePaymentMethod(card) => {
            refuse!(charge::buyer_update_payment_method(&mut permission, card, now));
            let mut effects = scope.effects(now);
            effects.permission(Some(&before), &permission);
            tx.update_permission(scope.merchant_id, &permission)?;
            effects.write(tx)?;
        }
        BuyerAction::Close => {
            let mut charges = tx.open_charges(scope.merchant_id, scope.environment, &permission.id)?;
            let originals = charges.clone();
            let changed = refuse!(charge::buyer_close(&mut permission, &mut charges, now));
            save_closed(tx, scope, now, (&before, &permission), (&originals, &charges), &changed)?;
        }
    }
    Ok(Ok(permission))
}

/// `POST /v2/testHelpers/chargePermissions`: a permission as if a buyer had checked out.
pub fn create_for_test(tx: &mut dyn WriteTx, context: &Context, body: &[u8], now: Timestamp) -> OpResult {
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
            Err(StoreError::IdTaken(_)) => continue,
            Err(other) => return Err(other),
        }
    }
    Err(StoreError::IdTaken("every charge permission id drawn".into()))
}
