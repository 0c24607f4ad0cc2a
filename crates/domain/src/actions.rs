//! What happens to a permission and its charges from outside a charge's own flow: the
//! merchant or the buyer closing the permission, the buyer choosing another payment method,
//! and what Amazon itself does to a charge (the `amazonActions` test helper). Pure, like every
//! rule: time comes in, and a refusal changes nothing.

use crate::charge::{CancelReason, Charge, cancel_open_charge, charge_status, expire_charge_if_due, kept, kept_all};
use crate::charge_permission::{ChargePermission, ClosureReason, NonChargeableReason, PermissionState};
use crate::error::{ReasonCode, Refusal};
use crate::time::Timestamp;

/// What Amazon itself does to a charge, on demand in the sandbox (the `amazonActions` test
/// helper, docs/defaults.md): the outcomes seeds 003 document without a simulation code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AmazonAction {
    /// Amazon cancels an open charge: Canceled / AmazonCanceled.
    Cancel,
    /// Amazon sees signs of unusual activity: the charge keeps its state with reason
    /// `StopShipmentAtypicalAuth`.
    FlagAtypicalActivity,
}

/// Applies an Amazon action to a charge.
pub fn amazon_action(
    permission: &mut ChargePermission,
    charge: &mut Charge,
    action: AmazonAction,
    now: Timestamp,
) -> Result<(), Refusal> {
    let result = (|| -> Result<(), Refusal> {
        expire_charge_if_due(permission, charge, now)?;
        match action {
            AmazonAction::Cancel => {
                if !charge.state.is_cancelable() {
                    return Err(charge_status(format!(
                        "the charge is {}; Amazon cancels only AuthorizationInitiated or Authorized charges",
                        charge.state.name()
                    )));
                }
                cancel_open_charge(permission, charge, CancelReason::AmazonCanceled, None, now)
            }
            AmazonAction::FlagAtypicalActivity => {
                if charge.state.is_terminal() {
                    return Err(charge_status(format!(
                        "the charge is {}; it can no longer be flagged",
                        charge.state.name()
                    )));
                }
                charge.atypical_activity = true;
                charge.state_updated_at = now;
                Ok(())
            }
        }
    })();
    kept(permission, charge);
    result
}

/// A Close Charge Permission request, parsed.
#[derive(Debug, Clone)]
pub struct ClosePermission {
    pub closure_reason: String,
    pub cancel_pending_charges: bool,
    /// The sandbox simulation `AmazonClosed`: Amazon, not the merchant, closes it.
    pub amazon_closed: bool,
}

/// Close Charge Permission (spec §6.1-6.2). With `cancelPendingCharges`, every charge still
/// cancelable becomes Canceled / ChargePermissionCanceled. `charges` are the permission's
/// open charges; the ones changed are returned by their index.
pub fn close_permission(
    permission: &mut ChargePermission,
    charges: &mut [Charge],
    request: ClosePermission,
    now: Timestamp,
) -> Result<Vec<usize>, Refusal> {
    let reason = if request.amazon_closed { ClosureReason::AmazonClosed } else { ClosureReason::MerchantClosed };
    let cancel = request.cancel_pending_charges.then_some(CancelReason::ChargePermissionCanceled);
    let result = close_with(permission, charges, cancel, reason, Some(request.closure_reason), now);
    kept_all(permission, charges);
    result
}

/// Closes an open permission: expires what is due among its open charges, cancels the
/// cancelable ones for `cancel` (if any), and returns the indexes of the charges changed.
fn close_with(
    permission: &mut ChargePermission,
    charges: &mut [Charge],
    cancel: Option<CancelReason>,
    reason: ClosureReason,
    description: Option<String>,
    now: Timestamp,
) -> Result<Vec<usize>, Refusal> {
    permission.advance_to(now);
    if permission.state.is_closed() {
        return Err(Refusal::new(ReasonCode::InvalidChargePermissionStatus, "the charge permission is already Closed"));
    }
    let mut changed = Vec::new();
    for (index, charge) in charges.iter_mut().enumerate() {
        let expired = expire_charge_if_due(permission, charge, now)?;
        let canceled = match cancel {
            Some(cancel_reason) if charge.state.is_cancelable() => {
                cancel_open_charge(permission, charge, cancel_reason, None, now)?;
                true
            }
            _ => false,
        };
        if expired || canceled {
            changed.push(index);
        }
    }
    permission.set_state(PermissionState::Closed { reason: Some(reason), description }, now);
    Ok(changed)
}

/// What a buyer does on the Amazon Pay site (seeds 001/004): pick another payment method,
/// which makes a NonChargeable permission Chargeable again.
pub fn buyer_update_payment_method(
    permission: &mut ChargePermission,
    card: crate::sandbox::SandboxCard,
    now: Timestamp,
) -> Result<(), Refusal> {
    let result = (|| -> Result<(), Refusal> {
        permission.advance_to(now);
        if permission.state.is_closed() {
            return Err(Refusal::new(ReasonCode::InvalidChargePermissionStatus, "the charge permission is Closed"));
        }
        if !card.usable_for_charges() {
            return Err(Refusal::new(
                ReasonCode::InvalidParameterValue,
                format!("card {} acts during checkout only", card.last_four()),
            ));
        }
        permission.payment_method = card;
        // A new payment method cures what was wrong with the old one, not a charge in progress.
        if matches!(permission.state, PermissionState::NonChargeable(reason) if reason != NonChargeableReason::ChargeInProgress)
        {
            permission.set_state(PermissionState::Chargeable, now);
        }
        Ok(())
    })();
    permission.debug_assert_invariants();
    result
}

/// The buyer closes the permission on the Amazon Pay site: Closed / BuyerClosed, and every
/// charge still cancelable is canceled (BuyerCanceled). Returns the indexes of the charges
/// that changed.
pub fn buyer_close(
    permission: &mut ChargePermission,
    charges: &mut [Charge],
    now: Timestamp,
) -> Result<Vec<usize>, Refusal> {
    let result =
        close_with(permission, charges, Some(CancelReason::BuyerCanceled), ClosureReason::BuyerClosed, None, now);
    kept_all(permission, charges);
    result
}
