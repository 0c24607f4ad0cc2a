//! The Charge: one payment (spec §5.2, §6.1), and the transitions that touch a charge and
//! its permission together.

use crate::charge_permission::{ChargePermission, ClosureReason, NonChargeableReason, PermissionState, PermissionType};
use crate::error::{ReasonCode, Refusal};
use crate::ids::{ChargeId, ChargePermissionId};
use crate::limits;
use crate::metadata::{Channel, ChargeInitiator, MerchantMetadata, SoftDescriptor, WebCheckoutDetails};
use crate::money::Money;
use crate::region::{Environment, Region};
use crate::sandbox::{AuthorizationOutcome, PendingResolution};
use crate::time::{Timestamp, beyond_calendar};

amzpay_types::named!(CancelReason, DeclineReason);

#[derive(Debug, Clone, Copy, PartialEq, Eq, strum::IntoStaticStr, strum::EnumString)]
pub enum CancelReason {
    ExpiredUnused,
    AmazonCanceled,
    MerchantCanceled,
    ChargePermissionCanceled,
    BuyerCanceled,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, strum::IntoStaticStr, strum::EnumString)]
pub enum DeclineReason {
    SoftDeclined,
    HardDeclined,
    AmazonRejected,
    ProcessingFailure,
    TransactionTimedOut,
}

impl DeclineReason {
    /// The error a synchronous decline answers with (seeds 003: 422, or 500 for
    /// ProcessingFailure).
    pub fn reason_code(self) -> ReasonCode {
        match self {
            DeclineReason::SoftDeclined => ReasonCode::SoftDeclined,
            DeclineReason::HardDeclined => ReasonCode::HardDeclined,
            DeclineReason::AmazonRejected => ReasonCode::AmazonRejected,
            DeclineReason::ProcessingFailure => ReasonCode::ProcessingFailure,
            DeclineReason::TransactionTimedOut => ReasonCode::TransactionTimedOut,
        }
    }

    fn description(self) -> &'static str {
        match self {
            DeclineReason::SoftDeclined => "The charge was soft declined; a retry may succeed.",
            DeclineReason::HardDeclined => "The charge was hard declined; ask the buyer for another payment method.",
            DeclineReason::AmazonRejected => "The charge was declined by Amazon; the charge permission is canceled.",
            DeclineReason::ProcessingFailure => {
                "Amazon could not process the charge; retry if the charge permission is Chargeable."
            }
            DeclineReason::TransactionTimedOut => "Amazon Pay did not have enough time to process the authorization.",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, strum::IntoStaticStr)]
pub enum ChargeState {
    AuthorizationInitiated,
    Authorized,
    CaptureInitiated,
    Captured,
    Canceled(CancelReason),
    Declined(DeclineReason),
}

impl ChargeState {
    /// The state as Amazon writes it.
    pub fn name(self) -> &'static str {
        self.into()
    }

    pub fn reason_code(self) -> Option<&'static str> {
        match self {
            ChargeState::Canceled(reason) => Some(reason.as_str()),
            ChargeState::Declined(reason) => Some(reason.as_str()),
            ChargeState::AuthorizationInitiated
            | ChargeState::Authorized
            | ChargeState::CaptureInitiated
            | ChargeState::Captured => None,
        }
    }

    /// Open charges hold part of their permission's balance.
    pub fn is_open(self) -> bool {
        match self {
            ChargeState::AuthorizationInitiated | ChargeState::Authorized | ChargeState::CaptureInitiated => true,
            ChargeState::Captured | ChargeState::Canceled(_) | ChargeState::Declined(_) => false,
        }
    }

    /// Canceled and Declined are final; Captured changes only through refunds.
    pub fn is_terminal(self) -> bool {
        matches!(self, ChargeState::Canceled(_) | ChargeState::Declined(_))
    }

    /// Cancel Charge is allowed until capture starts (seeds 003).
    pub(crate) fn is_cancelable(self) -> bool {
        matches!(self, ChargeState::AuthorizationInitiated | ChargeState::Authorized)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Charge {
    pub id: ChargeId,
    pub permission_id: ChargePermissionId,
    pub environment: Environment,
    pub amount: Money,
    pub capture_amount: Option<Money>,
    /// Completed refunds.
    pub refunded: Money,
    /// Refunds initiated and not yet settled.
    pub refund_pending: Money,
    pub refund_count: u32,
    pub soft_descriptor: Option<SoftDescriptor>,
    pub merchant_metadata: Option<MerchantMetadata>,
    pub provider_reference_id: Option<String>,
    pub platform_id: Option<String>,
    pub charge_initiator: Option<ChargeInitiator>,
    pub channel: Option<Channel>,
    pub capture_now: bool,
    pub can_handle_pending_authorization: bool,
    pub state: ChargeState,
    /// The merchant's `cancellationReason`, or our description of a decline.
    pub reason_description: Option<String>,
    /// What a pending authorization will turn into.
    pub pending_resolution: Option<PendingResolution>,
    pub state_updated_at: Timestamp,
    pub created_at: Timestamp,
    pub authorized_at: Option<Timestamp>,
    /// 30 days after authorization (product.md).
    pub expires_at: Timestamp,
    /// The calendar month whose monthly limit this charge counts against.
    pub period_start: Timestamp,
    /// Create Charge's `webCheckoutDetails`, echoed.
    pub web_checkout_details: Option<WebCheckoutDetails>,
    /// Amazon saw signs of unusual activity: the merchant should not ship. Shown as
    /// `StopShipmentAtypicalAuth` while the charge is open or captured (seeds 003).
    pub atypical_activity: bool,
}

impl Charge {
    /// Asserts, in debug builds, what every transition keeps true: captured ≤ authorized;
    /// settled and pending refunds within the refund limit of what was captured, and none
    /// without a capture; at most 10 refunds.
    pub fn debug_assert_invariants(&self) {
        match self.capture_amount {
            Some(captured) => {
                debug_assert!(!captured.exceeds(self.amount), "captured <= authorized: {self:?}");
                if let (Ok(limit), Ok(refunds)) =
                    (crate::refund::refund_limit(captured), self.refunded.checked_add(self.refund_pending))
                {
                    debug_assert!(!refunds.exceeds(limit), "refunds within the refund limit: {self:?}");
                }
            }
            None => debug_assert!(
                self.refund_count == 0 && !self.refunded.is_positive() && !self.refund_pending.is_positive(),
                "no refund without a capture: {self:?}"
            ),
        }
        debug_assert!(self.refund_count <= limits::MAX_REFUNDS_PER_CHARGE, "{self:?}");
    }

    /// `statusDetails.reasonCode`: the reason of a Canceled or Declined charge, else
    /// `StopShipmentAtypicalAuth` when Amazon flagged the charge (seeds 003 list it on
    /// AuthorizationInitiated, Authorized, CaptureInitiated and Captured).
    pub fn status_reason_code(&self) -> Option<&'static str> {
        match self.state {
            ChargeState::Canceled(_) | ChargeState::Declined(_) => self.state.reason_code(),
            ChargeState::AuthorizationInitiated
            | ChargeState::Authorized
            | ChargeState::CaptureInitiated
            | ChargeState::Captured => self.atypical_activity.then_some(STOP_SHIPMENT_ATYPICAL_AUTH),
        }
    }
}

/// The reason code Amazon puts on a charge with signs of unusual activity (seeds 003).
pub const STOP_SHIPMENT_ATYPICAL_AUTH: &str = "StopShipmentAtypicalAuth";

/// A Create Charge request, parsed (spec §5.2).
#[derive(Debug, Clone)]
pub struct CreateCharge {
    pub amount: Money,
    pub capture_now: bool,
    pub soft_descriptor: Option<SoftDescriptor>,
    pub can_handle_pending_authorization: bool,
    pub merchant_metadata: Option<MerchantMetadata>,
    pub provider_reference_id: Option<String>,
    pub platform_id: Option<String>,
    pub charge_initiator: Option<ChargeInitiator>,
    pub channel: Option<Channel>,
    pub web_checkout_details: Option<WebCheckoutDetails>,
}

/// What Create Charge did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChargeCreation {
    /// 201 with the charge (Authorized, Captured or AuthorizationInitiated).
    Created(Box<Charge>),
    /// A synchronous decline: the call answers this error and no charge exists, but the
    /// permission may have changed (a hard decline, Amazon's rejection) and that change
    /// must be kept.
    Declined(Refusal),
}

pub(crate) fn charge_status(message: impl Into<String>) -> Refusal {
    Refusal::new(ReasonCode::InvalidChargeStatus, message)
}

fn check_soft_descriptor_region(region: Region, soft_descriptor: &Option<SoftDescriptor>) -> Result<(), Refusal> {
    if region == Region::Jp && soft_descriptor.is_some() {
        return Err(Refusal::new(ReasonCode::InvalidParameterValue, "softDescriptor is not available in Japan"));
    }
    Ok(())
}

/// After a transition, in debug builds: what must still hold of a permission and a charge.
pub(crate) fn kept(permission: &ChargePermission, charge: &Charge) {
    permission.debug_assert_invariants();
    charge.debug_assert_invariants();
}

/// The same, for a permission and its charges.
pub(crate) fn kept_all(permission: &ChargePermission, charges: &[Charge]) {
    permission.debug_assert_invariants();
    charges.iter().for_each(Charge::debug_assert_invariants);
}

/// The effect of a decline on the permission (seeds 001/004, spec §6.1-6.2): a hard
/// decline makes a Recurring or Saved Wallet permission NonChargeable until the buyer fixes
/// the payment method; Amazon's rejection closes any permission; soft declines, processing
/// failures and timeouts leave it as it is.
pub fn apply_decline_to_permission(permission: &mut ChargePermission, reason: DeclineReason, now: Timestamp) {
    if permission.state.is_closed() {
        return;
    }
    match reason {
        DeclineReason::HardDeclined if permission.kind != PermissionType::OneTime => {
            permission.set_state(PermissionState::NonChargeable(NonChargeableReason::PaymentMethodInvalid), now)
        }
        DeclineReason::AmazonRejected => permission
            .set_state(PermissionState::Closed { reason: Some(ClosureReason::AmazonClosed), description: None }, now),
        DeclineReason::HardDeclined
        | DeclineReason::SoftDeclined
        | DeclineReason::ProcessingFailure
        | DeclineReason::TransactionTimedOut => {}
    }
}

fn same_period(permission: &ChargePermission, charge: &Charge) -> bool {
    permission.kind.has_monthly_limit() && charge.period_start == permission.period_start
}

/// An open charge stops holding its amount (canceled, declined or expired).
fn release_open_amount(permission: &mut ChargePermission, charge: &Charge, now: Timestamp) -> Result<(), Refusal> {
    permission.open_authorized = permission.open_authorized.checked_sub(charge.amount)?;
    if same_period(permission, charge) {
        permission.period_used = permission.period_used.checked_sub(charge.amount)?;
    }
    reflect_charges_in_progress(permission, now);
    Ok(())
}

/// A one-time permission whose open authorizations hold its whole balance takes no new
/// charge until one of them ends: it reads `NonChargeable` / `ChargeInProgress` (product.md;
/// Amazon: "A charge is already in progress. You cannot initiate a new charge unless previous
/// charge is canceled"), and `Chargeable` again as soon as a charge ends and leaves balance.
fn reflect_charges_in_progress(permission: &mut ChargePermission, now: Timestamp) {
    if permission.kind != PermissionType::OneTime {
        return;
    }
    let held = permission.open_authorized.is_positive() && !permission.amount_balance().is_positive();
    match permission.state {
        PermissionState::Chargeable if held => {
            permission.set_state(PermissionState::NonChargeable(NonChargeableReason::ChargeInProgress), now)
        }
        PermissionState::NonChargeable(NonChargeableReason::ChargeInProgress) if !held => {
            permission.set_state(PermissionState::Chargeable, now)
        }
        PermissionState::Chargeable | PermissionState::NonChargeable(_) | PermissionState::Closed { .. } => {}
    }
}

/// A one-time permission whose whole limit is captured closes (seeds 000).
fn close_if_fully_captured(permission: &mut ChargePermission, now: Timestamp) {
    if permission.kind == PermissionType::OneTime
        && !permission.amount_limit.exceeds(permission.captured)
        && !permission.state.is_closed()
    {
        permission.set_state(PermissionState::Closed { reason: None, description: None }, now);
    }
}

/// Create Charge (spec §5.2, §6.1, §12). Checks, in order: Japan and softDescriptor,
/// currency, the per-charge maximum, the permission's state, the 25-charge count, the
/// balance; then asks the processor.
pub fn create_charge(
    permission: &mut ChargePermission,
    request: CreateCharge,
    outcome: AuthorizationOutcome,
    now: Timestamp,
) -> Result<ChargeCreation, Refusal> {
    let result = (|| -> Result<ChargeCreation, Refusal> {
        permission.advance_to(now);
        check_soft_descriptor_region(permission.region, &request.soft_descriptor)?;
        if request.soft_descriptor.is_some() && !request.capture_now {
            return Err(Refusal::new(
                ReasonCode::InvalidParameterCombination,
                "softDescriptor requires captureNow: true",
            ));
        }
        if request.amount.currency() != permission.currency {
            return Err(Refusal::new(
                ReasonCode::CurrencyMismatch,
                format!(
                    "chargeAmount is in {}, the charge permission in {}",
                    request.amount.currency(),
                    permission.currency
                ),
            ));
        }
        if !request.amount.is_positive() {
            return Err(Refusal::new(ReasonCode::InvalidParameterValue, "chargeAmount must be greater than zero"));
        }
        let max = Money::from_minor(limits::max_charge_amount_minor(permission.currency), permission.currency);
        if request.amount.exceeds(max) {
            return Err(Refusal::new(
                ReasonCode::TransactionAmountExceeded,
                format!("chargeAmount is above the maximum of {max} per charge"),
            ));
        }
        if permission.state != PermissionState::Chargeable {
            return Err(Refusal::new(
                ReasonCode::InvalidChargePermissionStatus,
                format!("the charge permission is {}", permission.state.name()),
            ));
        }
        if permission.kind == PermissionType::OneTime
            && permission.charges_created >= limits::MAX_CHARGES_PER_ONE_TIME_PERMISSION
        {
            return Err(Refusal::new(
                ReasonCode::TransactionCountExceeded,
                format!("a OneTime charge permission allows {} charges", limits::MAX_CHARGES_PER_ONE_TIME_PERMISSION),
            ));
        }
        let balance = permission.amount_balance();
        if request.amount.exceeds(balance) {
            let code = if permission.kind.has_monthly_limit() {
                ReasonCode::PeriodicAmountExceeded
            } else {
                ReasonCode::TransactionAmountExceeded
            };
            return Err(Refusal::new(
                code,
                format!("chargeAmount is above the charge permission's balance of {balance}"),
            ));
        }
        let (state, pending_resolution) = match outcome {
            AuthorizationOutcome::Declined(reason) => {
                apply_decline_to_permission(permission, reason, now);
                return Ok(ChargeCreation::Declined(Refusal::new(reason.reason_code(), reason.description())));
            }
            // Refused before any authorization: no charge, and the permission is as it was.
            AuthorizationOutcome::Refused(refusal) => return Err(refusal.error()),
            AuthorizationOutcome::Approved if request.capture_now => (ChargeState::Captured, None),
            AuthorizationOutcome::Approved => (ChargeState::Authorized, None),
            AuthorizationOutcome::Pending { then } => (ChargeState::AuthorizationInitiated, Some(then)),
        };
        let expires_at = now
            .checked_plus_seconds(limits::AUTHORIZATION_LIFETIME_SECONDS)
            .ok_or_else(|| beyond_calendar("the charge's expiration"))?;
        let id = permission.next_charge_id()?;
        permission.charges_created += 1;
        if permission.kind.has_monthly_limit() {
            permission.period_used = permission.period_used.checked_add(request.amount)?;
        }
        if permission.kind == PermissionType::Recurring {
            // Recurring permissions close after 13 months without a charge (spec §6.2).
            permission.expires_at = Some(
                now.plus_months(limits::EXTENDED_LIFETIME_MONTHS)
                    .ok_or_else(|| beyond_calendar("the permission's new expiration"))?,
            );
        }
        let captured = state == ChargeState::Captured;
        if captured {
            permission.captured = permission.captured.checked_add(request.amount)?;
        } else {
            permission.open_authorized = permission.open_authorized.checked_add(request.amount)?;
        }
        let charge = Charge {
            id,
            permission_id: permission.id.clone(),
            environment: permission.environment,
            amount: request.amount,
            capture_amount: captured.then_some(request.amount),
            refunded: Money::zero(permission.currency),
            refund_pending: Money::zero(permission.currency),
            refund_count: 0,
            soft_descriptor: request.soft_descriptor,
            merchant_metadata: request.merchant_metadata.map(MerchantMetadata::validate).transpose()?,
            provider_reference_id: request.provider_reference_id,
            platform_id: request.platform_id,
            charge_initiator: request.charge_initiator,
            channel: request.channel,
            capture_now: request.capture_now,
            can_handle_pending_authorization: request.can_handle_pending_authorization,
            state,
            reason_description: None,
            pending_resolution,
            state_updated_at: now,
            created_at: now,
            authorized_at: (state != ChargeState::AuthorizationInitiated).then_some(now),
            expires_at,
            period_start: permission.period_start,
            web_checkout_details: request.web_checkout_details,
            atypical_activity: false,
        };
        if captured {
            close_if_fully_captured(permission, now);
        }
        reflect_charges_in_progress(permission, now);
        charge.debug_assert_invariants();
        Ok(ChargeCreation::Created(Box::new(charge)))
    })();
    permission.debug_assert_invariants();
    result
}

/// Whether time alone has expired this charge's authorization by `now` (what
/// [`expire_charge_if_due`] would apply): a read can tell without loading the permission.
pub fn charge_expiry_due(charge: &Charge, now: Timestamp) -> bool {
    charge.state == ChargeState::Authorized && now >= charge.expires_at
}

/// Applies what time alone does to a charge: an authorization left uncaptured for 30 days
/// is canceled `ExpiredUnused` and releases its amount. Returns whether it changed.
pub fn expire_charge_if_due(
    permission: &mut ChargePermission,
    charge: &mut Charge,
    now: Timestamp,
) -> Result<bool, Refusal> {
    permission.advance_to(now);
    if charge_expiry_due(charge, now) {
        release_open_amount(permission, charge, charge.expires_at)?;
        charge.state = ChargeState::Canceled(CancelReason::ExpiredUnused);
        charge.state_updated_at = charge.expires_at;
        return Ok(true);
    }
    Ok(false)
}

/// A Capture Charge request, parsed.
#[derive(Debug, Clone)]
pub struct CaptureCharge {
    pub amount: Money,
    pub soft_descriptor: Option<SoftDescriptor>,
}

/// Capture Charge (seeds 003, product.md): one capture per charge, at most the charge
/// amount; synchronous within 7 days of authorization, asynchronous after.
pub fn capture(
    permission: &mut ChargePermission,
    charge: &mut Charge,
    request: CaptureCharge,
    now: Timestamp,
) -> Result<(), Refusal> {
    match capture_simulated(permission, charge, request, None, now)? {
        None => Ok(()),
        Some(declined) => Err(declined),
    }
}

/// Capture Charge with a sandbox simulation forcing a decline (spec §11). A synchronous
/// `AmazonRejected` declines the charge and closes the permission, and answers
/// `Ok(Some(error))`: the change stands and the call answers the error. A synchronous
/// `ProcessingFailure` changes nothing (`Err`). An asynchronous capture declines later.
pub fn capture_simulated(
    permission: &mut ChargePermission,
    charge: &mut Charge,
    request: CaptureCharge,
    decline: Option<DeclineReason>,
    now: Timestamp,
) -> Result<Option<Refusal>, Refusal> {
    let result = (|| -> Result<Option<Refusal>, Refusal> {
        expire_charge_if_due(permission, charge, now)?;
        check_soft_descriptor_region(permission.region, &request.soft_descriptor)?;
        if request.amount.currency() != charge.amount.currency() {
            return Err(Refusal::new(
                ReasonCode::CurrencyMismatch,
                format!(
                    "captureAmount is in {}, the charge in {}",
                    request.amount.currency(),
                    charge.amount.currency()
                ),
            ));
        }
        if !request.amount.is_positive() {
            return Err(Refusal::new(ReasonCode::InvalidParameterValue, "captureAmount must be greater than zero"));
        }
        if charge.state != ChargeState::Authorized {
            return Err(charge_status(format!(
                "the charge is {}; only an Authorized charge can be captured",
                charge.state.name()
            )));
        }
        if request.amount.exceeds(charge.amount) {
            return Err(Refusal::new(
                ReasonCode::TransactionAmountExceeded,
                format!("captureAmount is above the authorized {}", charge.amount),
            ));
        }
        let authorized_at = charge.authorized_at.unwrap_or(charge.created_at);
        let asynchronous = now.seconds_since(authorized_at) > limits::SYNCHRONOUS_CAPTURE_WINDOW_SECONDS;
        if !asynchronous && decline == Some(DeclineReason::ProcessingFailure) {
            return Err(Refusal::new(ReasonCode::ProcessingFailure, DeclineReason::ProcessingFailure.description()));
        }
        charge.capture_amount = Some(request.amount);
        if request.soft_descriptor.is_some() {
            charge.soft_descriptor = request.soft_descriptor;
        }
        charge.state_updated_at = now;
        if asynchronous {
            charge.state = ChargeState::CaptureInitiated;
            charge.pending_resolution = Some(decline.map_or(PendingResolution::Succeeds, PendingResolution::Declines));
            return Ok(None);
        }
        if let Some(reason) = decline {
            decline_open_charge(permission, charge, reason, now)?;
            return Ok(Some(Refusal::new(reason.reason_code(), reason.description())));
        }
        settle_capture(permission, charge, now)?;
        Ok(None)
    })();
    kept(permission, charge);
    result
}

/// An open charge is declined: it releases its amount and the permission bears the
/// consequences.
fn decline_open_charge(
    permission: &mut ChargePermission,
    charge: &mut Charge,
    reason: DeclineReason,
    now: Timestamp,
) -> Result<(), Refusal> {
    release_open_amount(permission, charge, now)?;
    charge.state = ChargeState::Declined(reason);
    // A declined capture captured nothing.
    charge.capture_amount = None;
    charge.pending_resolution = None;
    charge.reason_description = Some(reason.description().to_owned());
    charge.state_updated_at = now;
    apply_decline_to_permission(permission, reason, now);
    Ok(())
}

/// The capture money moves: the open authorization becomes captured, and the part not
/// captured is released.
fn settle_capture(permission: &mut ChargePermission, charge: &mut Charge, now: Timestamp) -> Result<(), Refusal> {
    let captured = charge.capture_amount.unwrap_or(charge.amount);
    permission.open_authorized = permission.open_authorized.checked_sub(charge.amount)?;
    permission.captured = permission.captured.checked_add(captured)?;
    if same_period(permission, charge) {
        permission.period_used = permission.period_used.checked_sub(charge.amount.checked_sub(captured)?)?;
    }
    charge.state = ChargeState::Captured;
    charge.state_updated_at = now;
    close_if_fully_captured(permission, now);
    reflect_charges_in_progress(permission, now);
    Ok(())
}

/// An asynchronous capture finishes, as its simulation said (the clock calls this).
pub fn complete_capture(permission: &mut ChargePermission, charge: &mut Charge, now: Timestamp) -> Result<(), Refusal> {
    let result = (|| -> Result<(), Refusal> {
        if charge.state != ChargeState::CaptureInitiated {
            return Err(charge_status("only a CaptureInitiated charge can finish capturing"));
        }
        match charge.pending_resolution.take().unwrap_or(PendingResolution::Succeeds) {
            PendingResolution::Succeeds => settle_capture(permission, charge, now),
            PendingResolution::Declines(reason) => decline_open_charge(permission, charge, reason, now),
        }
    })();
    kept(permission, charge);
    result
}

/// A pending authorization resolves (the clock calls this).
pub fn resolve_authorization(
    permission: &mut ChargePermission,
    charge: &mut Charge,
    now: Timestamp,
) -> Result<(), Refusal> {
    let result = (|| -> Result<(), Refusal> {
        if charge.state != ChargeState::AuthorizationInitiated {
            return Err(charge_status("only an AuthorizationInitiated charge can resolve"));
        }
        match charge.pending_resolution.take().unwrap_or(PendingResolution::Succeeds) {
            PendingResolution::Succeeds => {
                charge.state = ChargeState::Authorized;
                charge.authorized_at = Some(now);
                charge.expires_at = now
                    .checked_plus_seconds(limits::AUTHORIZATION_LIFETIME_SECONDS)
                    .ok_or_else(|| beyond_calendar("the charge's expiration"))?;
                charge.state_updated_at = now;
                if charge.capture_now {
                    charge.capture_amount = Some(charge.amount);
                    settle_capture(permission, charge, now)?;
                }
            }
            PendingResolution::Declines(reason) => decline_open_charge(permission, charge, reason, now)?,
        }
        Ok(())
    })();
    kept(permission, charge);
    result
}

/// Cancel Charge (seeds 003): only from AuthorizationInitiated or Authorized.
pub fn cancel(
    permission: &mut ChargePermission,
    charge: &mut Charge,
    reason: String,
    now: Timestamp,
) -> Result<(), Refusal> {
    let result = (|| -> Result<(), Refusal> {
        expire_charge_if_due(permission, charge, now)?;
        if !charge.state.is_cancelable() {
            return Err(charge_status(format!(
                "the charge is {}; only AuthorizationInitiated or Authorized charges can be canceled",
                charge.state.name()
            )));
        }
        cancel_open_charge(permission, charge, CancelReason::MerchantCanceled, Some(reason), now)
    })();
    kept(permission, charge);
    result
}

pub(crate) fn cancel_open_charge(
    permission: &mut ChargePermission,
    charge: &mut Charge,
    reason: CancelReason,
    description: Option<String>,
    now: Timestamp,
) -> Result<(), Refusal> {
    release_open_amount(permission, charge, now)?;
    charge.state = ChargeState::Canceled(reason);
    charge.pending_resolution = None;
    charge.reason_description = description;
    charge.state_updated_at = now;
    Ok(())
}

// What happens to a permission and its charges from outside a charge's own flow lives in
// `actions`; it is re-exported here, where callers look for it.
pub use crate::actions::{
    AmazonAction, ClosePermission, amazon_action, buyer_close, buyer_update_payment_method, close_permission,
};
