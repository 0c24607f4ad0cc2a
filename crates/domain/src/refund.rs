//! The Refund (spec §5.4, §6.3). Every refund starts `RefundInitiated` and settles later.

use crate::charge::{Charge, ChargeState};
use crate::charge_permission::ChargePermission;
use crate::error::{ReasonCode, Refusal};
use crate::ids::{ChargeId, RefundId};
use crate::limits;
use crate::metadata::SoftDescriptor;
use crate::money::Money;
use crate::region::{Environment, Region};
use crate::time::Timestamp;

amzpay_types::named!(RefundDeclineReason);

#[derive(Debug, Clone, Copy, PartialEq, Eq, strum::IntoStaticStr, strum::EnumString)]
pub enum RefundDeclineReason {
    AmazonRejected,
    ProcessingFailure,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, strum::IntoStaticStr)]
pub enum RefundState {
    RefundInitiated,
    Refunded,
    Declined(RefundDeclineReason),
}

impl RefundState {
    /// The state as Amazon writes it.
    pub fn name(self) -> &'static str {
        self.into()
    }

    pub fn reason_code(self) -> Option<&'static str> {
        match self {
            RefundState::Declined(reason) => Some(reason.as_str()),
            RefundState::RefundInitiated | RefundState::Refunded => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refund {
    pub id: RefundId,
    pub charge_id: ChargeId,
    pub environment: Environment,
    pub amount: Money,
    pub soft_descriptor: Option<SoftDescriptor>,
    pub state: RefundState,
    /// A sandbox simulation's decline, applied when the refund settles.
    pub pending_decline: Option<RefundDeclineReason>,
    pub state_updated_at: Timestamp,
    pub created_at: Timestamp,
}

#[derive(Debug, Clone)]
pub struct CreateRefund {
    pub amount: Money,
    pub soft_descriptor: Option<SoftDescriptor>,
    /// A sandbox simulation: the refund will be declined for this reason.
    pub simulated_decline: Option<RefundDeclineReason>,
}

/// The most that may ever be refunded on a charge: its captured amount plus the smaller of
/// 15% of it and 75 USD/GBP/EUR (8,400 JPY), never above the per-charge maximum (spec §6.3).
pub fn refund_limit(captured: Money) -> Result<Money, Refusal> {
    let currency = captured.currency();
    let overage = captured
        .checked_percent(limits::REFUND_OVERAGE_PERCENT)?
        .min(Money::from_minor(limits::refund_overage_cap_minor(currency), currency));
    let limit = captured.checked_add(overage)?;
    Ok(limit.min(Money::from_minor(limits::max_charge_amount_minor(currency), currency)))
}

/// Create Refund: only from Captured, in the charge's currency, at most 10 per charge, and
/// never more in total than [`refund_limit`].
pub fn create_refund(
    permission: &mut ChargePermission,
    charge: &mut Charge,
    request: CreateRefund,
    now: Timestamp,
) -> Result<Refund, Refusal> {
    let result = (|| -> Result<Refund, Refusal> {
        if permission.region == Region::Jp && request.soft_descriptor.is_some() {
            return Err(Refusal::new(ReasonCode::InvalidParameterValue, "softDescriptor is not available in Japan"));
        }
        if charge.state != ChargeState::Captured {
            return Err(Refusal::new(
                ReasonCode::InvalidChargeStatus,
                format!("the charge is {}; only a Captured charge can be refunded", charge.state.name()),
            ));
        }
        if request.amount.currency() != charge.amount.currency() {
            return Err(Refusal::new(
                ReasonCode::CurrencyMismatch,
                format!("refundAmount is in {}, the charge in {}", request.amount.currency(), charge.amount.currency()),
            ));
        }
        if !request.amount.is_positive() {
            return Err(Refusal::new(ReasonCode::InvalidParameterValue, "refundAmount must be greater than zero"));
        }
        if charge.refund_count >= limits::MAX_REFUNDS_PER_CHARGE {
            return Err(Refusal::new(
                ReasonCode::TransactionCountExceeded,
                format!("a charge allows {} refunds", limits::MAX_REFUNDS_PER_CHARGE),
            ));
        }
        let captured = charge.capture_amount.unwrap_or(charge.amount);
        let limit = refund_limit(captured)?;
        let total = charge.refunded.checked_add(charge.refund_pending)?.checked_add(request.amount)?;
        if total.exceeds(limit) {
            return Err(Refusal::new(
                ReasonCode::TransactionAmountExceeded,
                format!("refunds would total {total}, above the {limit} this charge allows"),
            ));
        }
        let id = permission.next_refund_id()?;
        charge.refund_count += 1;
        charge.refund_pending = charge.refund_pending.checked_add(request.amount)?;
        Ok(Refund {
            id,
            charge_id: charge.id.clone(),
            environment: charge.environment,
            amount: request.amount,
            soft_descriptor: request.soft_descriptor,
            state: RefundState::RefundInitiated,
            pending_decline: request.simulated_decline,
            state_updated_at: now,
            created_at: now,
        })
    })();
    crate::charge::kept(permission, charge);
    result
}

/// A refund settles: declined if a simulation said so, else refunded (the clock calls this).
pub fn settle_refund_as_simulated(charge: &mut Charge, refund: &mut Refund, now: Timestamp) -> Result<(), Refusal> {
    let outcome = match refund.pending_decline.take() {
        Some(reason) => Err(reason),
        None => Ok(()),
    };
    settle_refund(charge, refund, outcome, now)
}

/// A refund settles, successfully or not.
pub fn settle_refund(
    charge: &mut Charge,
    refund: &mut Refund,
    outcome: Result<(), RefundDeclineReason>,
    now: Timestamp,
) -> Result<(), Refusal> {
    let result = (|| -> Result<(), Refusal> {
        if refund.state != RefundState::RefundInitiated {
            return Err(Refusal::new(ReasonCode::InvalidRequest, "only a RefundInitiated refund can settle"));
        }
        charge.refund_pending = charge.refund_pending.checked_sub(refund.amount)?;
        refund.state = match outcome {
            Ok(()) => {
                charge.refunded = charge.refunded.checked_add(refund.amount)?;
                RefundState::Refunded
            }
            Err(reason) => RefundState::Declined(reason),
        };
        refund.state_updated_at = now;
        Ok(())
    })();
    charge.debug_assert_invariants();
    result
}
