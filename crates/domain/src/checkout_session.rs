//! The Checkout Session: how a Charge Permission is born (spec §5.5). The merchant creates
//! it, the buyer signs in and picks a payment method on Amazon's (here: amzpay's) pages, the
//! merchant updates it with the amount and intent, the buyer confirms, the merchant
//! completes it.

use crate::charge::{self, ChargeCreation, CreateCharge};
use crate::charge_permission::{ChargePermission, NewPermission, PermissionType};
use crate::error::{ReasonCode, Refusal};
use crate::ids::{ChargeId, ChargePermissionId};
use crate::limits;
pub use crate::metadata::Address;
use crate::metadata::{Buyer, MerchantMetadata, OpaqueJson, RecurringMetadata, SoftDescriptor};
use crate::money::{Currency, Money};
use crate::region::{Environment, Region};
use crate::sandbox::{self, SandboxCard};
use crate::time::{Timestamp, beyond_calendar};

amzpay_types::named!(PaymentIntent, SessionCancelReason, Constraint);

#[derive(Debug, Clone, Copy, PartialEq, Eq, strum::IntoStaticStr, strum::EnumString)]
pub enum PaymentIntent {
    Confirm,
    Authorize,
    AuthorizeWithCapture,
}

/// Why a session was canceled (spec §5.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, strum::IntoStaticStr, strum::EnumString)]
pub enum SessionCancelReason {
    Expired,
    BuyerCanceled,
    AmazonCanceled,
    Declined,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, strum::IntoStaticStr)]
pub enum SessionState {
    Open,
    Completed,
    Canceled(SessionCancelReason),
}

impl SessionState {
    /// The state as Amazon writes it.
    pub fn name(self) -> &'static str {
        self.into()
    }

    pub fn reason_code(self) -> Option<&'static str> {
        match self {
            SessionState::Canceled(reason) => Some(reason.as_str()),
            SessionState::Open | SessionState::Completed => None,
        }
    }
}

/// What is still missing before a session can go to `amazonPayRedirectUrl` (spec §5.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, strum::IntoStaticStr, strum::EnumString)]
pub enum Constraint {
    BuyerNotAssociated,
    ChargeAmountNotSet,
    CheckoutResultReturnUrlNotSet,
    PaymentIntentNotSet,
}

impl Constraint {
    pub fn description(self) -> &'static str {
        match self {
            Constraint::BuyerNotAssociated => {
                "There is no buyer associated with the Checkout Session. Return to the merchant's page."
            }
            Constraint::ChargeAmountNotSet => "chargeAmount is not set.",
            Constraint::CheckoutResultReturnUrlNotSet => "checkoutResultReturnUrl is not set.",
            Constraint::PaymentIntentNotSet => "paymentIntent is not set.",
        }
    }
}

/// Payment details a merchant sets on create or update.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PaymentDetails {
    pub payment_intent: Option<PaymentIntent>,
    pub charge_amount: Option<Money>,
    pub total_order_amount: Option<Money>,
    pub can_handle_pending_authorization: Option<bool>,
    pub soft_descriptor: Option<SoftDescriptor>,
    pub presentment_currency: Option<Currency>,
    pub allow_overcharge: Option<bool>,
    pub extend_expiration: Option<bool>,
    /// The merchant's estimate of the order total, echoed.
    pub estimate_order_total: Option<Money>,
}

/// What the merchant may change on an Open session (create sets the same, plus more).
#[derive(Debug, Clone, Default)]
pub struct SessionUpdate {
    pub checkout_review_return_url: Option<String>,
    pub checkout_result_return_url: Option<String>,
    pub checkout_cancel_url: Option<String>,
    /// `checkoutMode: ProcessOrder` (the only mode there is).
    pub process_order: Option<bool>,
    pub payment_details: Option<PaymentDetails>,
    pub merchant_metadata: Option<MerchantMetadata>,
    pub recurring_metadata: Option<RecurringMetadata>,
    /// `chargePermissionType`, which Update may change while the session is Open.
    pub kind: Option<PermissionType>,
    pub platform_id: Option<String>,
    pub provider_reference_id: Option<String>,
    pub supplementary_data: Option<String>,
    /// Finalize Checkout Session: the addresses the merchant collected itself.
    pub shipping_address: Option<Address>,
    pub billing_address: Option<Address>,
}

/// Create Checkout Session, parsed.
#[derive(Debug, Clone)]
pub struct NewSession {
    pub store_id: String,
    pub process_order: bool,
    pub kind: PermissionType,
    pub fields: SessionUpdate,
    /// `paymentMethodOnFileMetadata.setupOnly` (Saved Wallet only).
    pub setup_only: Option<bool>,
    /// `deliverySpecifications`, validated by the wire layer, echoed.
    pub delivery_specifications: Option<OpaqueJson>,
    /// `addressDetails`: the address the merchant already has (the Additional Payment
    /// Button's flow); it becomes the shipping address when the buyer signs in.
    pub address_details: Option<Address>,
    /// `chargePermissionId`: a Saved Wallet checkout that renews the payment method of this
    /// existing permission instead of making a new one.
    pub renews_permission: Option<ChargePermissionId>,
    pub checkout_button_text: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckoutSession {
    /// A UUID (spec §4).
    pub id: String,
    pub environment: Environment,
    pub region: Region,
    pub store_id: String,
    pub checkout_review_return_url: Option<String>,
    pub checkout_result_return_url: Option<String>,
    pub checkout_cancel_url: Option<String>,
    /// `checkoutMode: ProcessOrder`: no review step; the buyer confirms on Amazon's page.
    pub process_order: bool,
    pub kind: PermissionType,
    pub recurring_metadata: Option<RecurringMetadata>,
    pub payment: PaymentDetails,
    pub merchant_metadata: Option<MerchantMetadata>,
    pub platform_id: Option<String>,
    pub buyer: Option<Buyer>,
    pub shipping_address: Option<Address>,
    pub billing_address: Option<Address>,
    pub payment_method: Option<SandboxCard>,
    /// The buyer confirmed at `amazonPayRedirectUrl`.
    pub buyer_confirmed: bool,
    pub state: SessionState,
    pub state_updated_at: Timestamp,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
    pub charge_permission_id: Option<ChargePermissionId>,
    pub charge_id: Option<ChargeId>,
    pub supplementary_data: Option<String>,
    pub provider_reference_id: Option<String>,
    pub setup_only: Option<bool>,
    pub delivery_specifications: Option<OpaqueJson>,
    pub address_details: Option<Address>,
    pub renews_permission: Option<ChargePermissionId>,
    pub checkout_button_text: Option<String>,
}

fn session_status(message: impl Into<String>) -> Refusal {
    Refusal::new(ReasonCode::InvalidCheckoutSessionStatus, message)
}

fn check_currency(region: Region, money: Option<Money>) -> Result<(), Refusal> {
    match money {
        Some(m) if !region.accepts(m.currency()) => Err(Refusal::new(
            ReasonCode::InvalidParameterValue,
            format!("{} is not available in region {}", m.currency(), region.code()),
        )),
        Some(m) if !m.is_positive() => {
            Err(Refusal::new(ReasonCode::InvalidParameterValue, "amounts must be greater than zero"))
        }
        _ => Ok(()),
    }
}

impl CheckoutSession {
    pub fn create(
        id: String,
        environment: Environment,
        region: Region,
        new: NewSession,
        now: Timestamp,
    ) -> Result<CheckoutSession, Refusal> {
        let fields = new.fields;
        if new.process_order {
            if fields.checkout_result_return_url.is_none() {
                return Err(Refusal::new(
                    ReasonCode::MissingParameterValue,
                    "checkoutMode ProcessOrder needs webCheckoutDetails.checkoutResultReturnUrl",
                ));
            }
            let details = fields.payment_details.as_ref();
            if details.and_then(|d| d.payment_intent).is_none() || details.and_then(|d| d.charge_amount).is_none() {
                return Err(Refusal::new(
                    ReasonCode::MissingParameterValue,
                    "checkoutMode ProcessOrder needs paymentDetails.paymentIntent and chargeAmount",
                ));
            }
        } else if fields.checkout_review_return_url.is_none() {
            return Err(Refusal::new(
                ReasonCode::MissingParameterValue,
                "webCheckoutDetails.checkoutReviewReturnUrl is required",
            ));
        }
        if new.kind != PermissionType::PaymentMethodOnFile && new.setup_only.is_some() {
            return Err(Refusal::new(
                ReasonCode::InvalidParameterCombination,
                "paymentMethodOnFileMetadata applies to PaymentMethodOnFile checkouts only",
            ));
        }
        if new.kind != PermissionType::PaymentMethodOnFile && new.renews_permission.is_some() {
            return Err(Refusal::new(
                ReasonCode::InvalidParameterCombination,
                "chargePermissionId names the Saved Wallet to renew: it needs chargePermissionType PaymentMethodOnFile",
            ));
        }
        let checkout_button_text = crate::metadata::echoed_text("checkoutButtonText", new.checkout_button_text)?;
        let mut session = CheckoutSession {
            id,
            environment,
            region,
            store_id: new.store_id,
            checkout_review_return_url: None,
            checkout_result_return_url: None,
            checkout_cancel_url: None,
            process_order: new.process_order,
            kind: new.kind,
            recurring_metadata: None,
            payment: PaymentDetails::default(),
            merchant_metadata: None,
            platform_id: None,
            buyer: None,
            shipping_address: None,
            billing_address: None,
            payment_method: None,
            buyer_confirmed: false,
            state: SessionState::Open,
            state_updated_at: now,
            created_at: now,
            expires_at: now
                .checked_plus_seconds(limits::CHECKOUT_SESSION_LIFETIME_SECONDS)
                .ok_or_else(|| beyond_calendar("the session's expiration"))?,
            charge_permission_id: None,
            charge_id: None,
            supplementary_data: None,
            provider_reference_id: None,
            setup_only: new.setup_only,
            delivery_specifications: new.delivery_specifications,
            address_details: new.address_details,
            renews_permission: new.renews_permission,
            checkout_button_text,
        };
        session.apply(fields)?;
        Ok(session)
    }

    /// Checks an update against the session as it would become, then applies it: an `Err`
    /// changes nothing.
    fn apply(&mut self, update: SessionUpdate) -> Result<(), Refusal> {
        let kind = update.kind.unwrap_or(self.kind);
        if let Some(details) = &update.payment_details {
            check_currency(self.region, details.charge_amount)?;
            check_currency(self.region, details.total_order_amount)?;
            check_currency(self.region, details.estimate_order_total)?;
            if let (Some(charge), Some(total)) = (details.charge_amount, details.total_order_amount)
                && charge.currency() != total.currency()
            {
                return Err(Refusal::new(
                    ReasonCode::CurrencyMismatch,
                    "chargeAmount and totalOrderAmount differ in currency",
                ));
            }
            if self.region == Region::Jp && details.soft_descriptor.is_some() {
                return Err(Refusal::new(
                    ReasonCode::InvalidParameterValue,
                    "softDescriptor is not available in Japan",
                ));
            }
            if let Some(amount) = details.charge_amount {
                let max = Money::from_minor(limits::max_charge_amount_minor(amount.currency()), amount.currency());
                if amount.exceeds(max) {
                    return Err(Refusal::new(
                        ReasonCode::TransactionAmountExceeded,
                        format!("chargeAmount is above the maximum of {max}"),
                    ));
                }
            }
        }
        // The statement text goes with a capture: AuthorizeWithCapture only (Amazon's
        // Checkout Session reference), judged on the session as it would become.
        let intent = update.payment_details.as_ref().and_then(|d| d.payment_intent).or(self.payment.payment_intent);
        let descriptor_set = update.payment_details.as_ref().is_some_and(|d| d.soft_descriptor.is_some())
            || self.payment.soft_descriptor.is_some();
        if descriptor_set && intent.is_some_and(|i| i != PaymentIntent::AuthorizeWithCapture) {
            return Err(Refusal::new(
                ReasonCode::InvalidParameterCombination,
                "paymentDetails.softDescriptor goes with paymentIntent AuthorizeWithCapture only",
            ));
        }
        if update.recurring_metadata.is_some() && kind != PermissionType::Recurring {
            return Err(Refusal::new(
                ReasonCode::InvalidParameterCombination,
                "recurringMetadata applies to Recurring checkouts only",
            ));
        }
        if kind == PermissionType::Recurring && update.recurring_metadata.is_none() && self.recurring_metadata.is_none()
        {
            return Err(Refusal::new(
                ReasonCode::MissingParameterValue,
                "recurringMetadata is required for a Recurring checkout",
            ));
        }
        if kind != PermissionType::PaymentMethodOnFile
            && (self.setup_only.is_some() || self.renews_permission.is_some())
        {
            return Err(Refusal::new(
                ReasonCode::InvalidParameterCombination,
                "this checkout sets up or renews a Saved Wallet: chargePermissionType must stay PaymentMethodOnFile",
            ));
        }
        let merchant_metadata = update.merchant_metadata.map(MerchantMetadata::validate).transpose()?;
        let supplementary_data = crate::metadata::echoed_text("supplementaryData", update.supplementary_data)?;
        if let Some(url) = update.checkout_review_return_url {
            self.checkout_review_return_url = Some(url);
        }
        if let Some(url) = update.checkout_result_return_url {
            self.checkout_result_return_url = Some(url);
        }
        if let Some(url) = update.checkout_cancel_url {
            self.checkout_cancel_url = Some(url);
        }
        if update.process_order == Some(true) {
            self.process_order = true;
        }
        if let Some(details) = update.payment_details {
            let p = &mut self.payment;
            p.payment_intent = details.payment_intent.or(p.payment_intent);
            p.charge_amount = details.charge_amount.or(p.charge_amount);
            p.total_order_amount = details.total_order_amount.or(p.total_order_amount);
            p.can_handle_pending_authorization =
                details.can_handle_pending_authorization.or(p.can_handle_pending_authorization);
            p.soft_descriptor = details.soft_descriptor.or(p.soft_descriptor.take());
            p.presentment_currency = details.presentment_currency.or(p.presentment_currency);
            p.allow_overcharge = details.allow_overcharge.or(p.allow_overcharge);
            p.extend_expiration = details.extend_expiration.or(p.extend_expiration);
            p.estimate_order_total = details.estimate_order_total.or(p.estimate_order_total);
        }
        if kind != self.kind {
            self.kind = kind;
            if kind != PermissionType::Recurring {
                self.recurring_metadata = None;
            }
        }
        if merchant_metadata.is_some() {
            self.merchant_metadata = merchant_metadata;
        }
        if update.recurring_metadata.is_some() {
            self.recurring_metadata = update.recurring_metadata;
        }
        if update.platform_id.is_some() {
            self.platform_id = update.platform_id;
        }
        if supplementary_data.is_some() {
            self.supplementary_data = supplementary_data;
        }
        if update.provider_reference_id.is_some() {
            self.provider_reference_id = update.provider_reference_id;
        }
        if update.shipping_address.is_some() {
            self.shipping_address = update.shipping_address;
        }
        if update.billing_address.is_some() {
            self.billing_address = update.billing_address;
        }
        Ok(())
    }

    /// Applies what time alone does: an Open session not completed within 24 hours is
    /// `Canceled` / `Expired`. Returns whether it changed.
    pub fn advance_to(&mut self, now: Timestamp) -> bool {
        if self.state == SessionState::Open && now >= self.expires_at {
            self.state = SessionState::Canceled(SessionCancelReason::Expired);
            self.state_updated_at = self.expires_at;
            return true;
        }
        false
    }

    fn require_open(&mut self, now: Timestamp) -> Result<(), Refusal> {
        self.advance_to(now);
        match self.state {
            SessionState::Open => Ok(()),
            SessionState::Completed => Err(session_status("the Checkout Session is Completed")),
            SessionState::Canceled(reason) => {
                Err(session_status(format!("the Checkout Session is Canceled ({})", reason.as_str())))
            }
        }
    }

    /// What is still missing, in Amazon's order.
    pub fn constraints(&self) -> Vec<Constraint> {
        if self.state != SessionState::Open {
            return Vec::new();
        }
        let mut missing = Vec::new();
        if self.buyer.is_none() {
            missing.push(Constraint::BuyerNotAssociated);
        }
        if self.payment.charge_amount.is_none() {
            missing.push(Constraint::ChargeAmountNotSet);
        }
        if self.checkout_result_return_url.is_none() {
            missing.push(Constraint::CheckoutResultReturnUrlNotSet);
        }
        if self.payment.payment_intent.is_none() {
            missing.push(Constraint::PaymentIntentNotSet);
        }
        missing
    }

    /// Update Checkout Session: only while Open.
    pub fn update(&mut self, update: SessionUpdate, now: Timestamp) -> Result<(), Refusal> {
        self.require_open(now)?;
        self.apply(update)
    }

    /// A simulation code cancels the session (spec §11).
    pub fn cancel(&mut self, reason: SessionCancelReason, now: Timestamp) -> Result<(), Refusal> {
        self.require_open(now)?;
        self.state = SessionState::Canceled(reason);
        self.state_updated_at = now;
        Ok(())
    }

    /// The buyer signs in on the hosted page and picks a sandbox card. The session stays
    /// Open whatever the card, so the merchant can still update it; 3064 and 3434 act when
    /// the buyer returns to `checkoutResultReturnUrl` (spec §11).
    pub fn sign_in(
        &mut self,
        buyer: Buyer,
        shipping_address: Option<Address>,
        card: SandboxCard,
        now: Timestamp,
    ) -> Result<(), Refusal> {
        self.require_open(now)?;
        self.buyer = Some(buyer);
        self.billing_address = shipping_address.clone();
        // The merchant's addressDetails (the Additional Payment Button's flow) is where the
        // order ships; the buyer does not pick another.
        self.shipping_address = self.address_details.clone().or(shipping_address);
        self.payment_method = Some(card);
        self.state_updated_at = now;
        // ProcessOrder skips the merchant's review page: signing in is confirming, and the
        // buyer goes straight back to checkoutResultReturnUrl.
        if self.process_order {
            self.buyer_returns(now);
        }
        Ok(())
    }

    /// The buyer confirms at `amazonPayRedirectUrl`: everything must be set.
    pub fn confirm(&mut self, now: Timestamp) -> Result<(), Refusal> {
        self.require_open(now)?;
        if let Some(first) = self.constraints().first() {
            return Err(session_status(format!("the Checkout Session is not ready: {}", first.as_str())));
        }
        self.buyer_returns(now);
        Ok(())
    }

    /// The buyer has confirmed and is sent back to `checkoutResultReturnUrl`: that is when
    /// 3064 cancels the session (`BuyerCanceled`) and 3434 declines it (`Declined`), "after
    /// the buyer returns to checkoutResultReturnUrl" (spec §11).
    fn buyer_returns(&mut self, now: Timestamp) {
        self.buyer_confirmed = true;
        let canceled = match self.payment_method {
            Some(SandboxCard::BuyerCancels) => Some(SessionCancelReason::BuyerCanceled),
            Some(SandboxCard::CheckoutDeclined) => Some(SessionCancelReason::Declined),
            Some(
                SandboxCard::Success(_) | SandboxCard::PendingThenAuthorized | SandboxCard::PendingThenHardDeclined,
            )
            | None => None,
        };
        if let Some(reason) = canceled {
            self.state = SessionState::Canceled(reason);
            self.state_updated_at = now;
        }
    }

    /// The amount limit of the permission this session makes: the order total (or charge
    /// amount); with `allowOvercharge`, the larger of 900% of it and 500 units (70,000 JPY)
    /// (spec §12).
    fn permission_limit(&self, charge_amount: Money) -> Result<Money, Refusal> {
        let order = self.payment.total_order_amount.unwrap_or(charge_amount);
        if !self.payment.allow_overcharge.unwrap_or(false) {
            return Ok(order);
        }
        let currency = order.currency();
        let floor = Money::from_minor(limits::overcharge_floor_minor(currency), currency);
        let ninefold = order.checked_percent(limits::OVERCHARGE_PERCENT)?;
        Ok(if ninefold.exceeds(floor) { ninefold } else { floor })
    }
}

/// Which permission a completed checkout gives the merchant.
#[derive(Debug)]
pub enum PermissionTarget {
    /// A new permission, with this id.
    New(ChargePermissionId),
    /// The Saved Wallet the session named (`chargePermissionId`), as loaded: the checkout
    /// renews its payment method.
    Renewed(Box<ChargePermission>),
}

/// What Complete Checkout Session did.
#[derive(Debug)]
pub struct Completion {
    pub permission: ChargePermission,
    /// Whether `permission` is new (else it is the renewed Saved Wallet).
    pub created: bool,
    /// `None` for the Confirm intent. A pending authorization answers 202.
    pub charge: Option<crate::charge::Charge>,
}

/// Complete Checkout Session (spec §5.5): the amount must match (`409 AmountMismatch`); a
/// Canceled session is `CheckoutSessionCanceled`; the buyer must have confirmed. Creates the
/// permission and, unless the intent is Confirm, the charge. A synchronous decline cancels
/// the session (`Declined`) and answers the decline: `Err` carries it, with the session
/// changed.
pub fn complete(
    session: &mut CheckoutSession,
    charge_amount: Money,
    total_order_amount: Option<Money>,
    target: PermissionTarget,
    now: Timestamp,
) -> Result<Result<Completion, Refusal>, Refusal> {
    session.advance_to(now);
    match session.state {
        SessionState::Canceled(reason) => {
            return Err(Refusal::new(
                ReasonCode::CheckoutSessionCanceled,
                format!("the Checkout Session is Canceled ({})", reason.as_str()),
            ));
        }
        SessionState::Completed => return Err(session_status("the Checkout Session is already Completed")),
        SessionState::Open => {}
    }
    if !session.buyer_confirmed {
        return Err(session_status("the buyer has not confirmed the Checkout Session yet"));
    }
    let expected = session.payment.charge_amount.ok_or_else(|| session_status("chargeAmount is not set"))?;
    if charge_amount != expected {
        return Err(Refusal::new(
            ReasonCode::AmountMismatch,
            format!("chargeAmount {charge_amount} differs from the Checkout Session's {expected}"),
        ));
    }
    if total_order_amount.is_some() && total_order_amount != session.payment.total_order_amount.or(total_order_amount) {
        return Err(Refusal::new(ReasonCode::AmountMismatch, "totalOrderAmount differs from the Checkout Session's"));
    }
    let card = session.payment_method.ok_or_else(|| session_status("no payment method"))?;
    let intent = session.payment.payment_intent.ok_or_else(|| session_status("paymentIntent is not set"))?;
    // 0701 and 4354 simulate a pending authorization, which needs paymentIntent Authorize
    // (spec §11: "or using this payment method will result in an error"). Without
    // canHandlePendingAuthorization the authorization below is Amazon's TransactionTimedOut.
    if session.environment == Environment::Sandbox && card.pends() && intent != PaymentIntent::Authorize {
        return Err(Refusal::new(
            ReasonCode::InvalidSandboxSimulationSpecified,
            format!(
                "card {} simulates a pending authorization and needs paymentIntent Authorize with \
                 canHandlePendingAuthorization true, not {}",
                card.last_four(),
                intent.as_str()
            ),
        ));
    }
    let addresses = (session.shipping_address.clone(), session.billing_address.clone());
    let (mut permission, created) = match target {
        PermissionTarget::New(permission_id) => {
            let new = NewPermission {
                kind: session.kind,
                amount_limit: (session.kind == PermissionType::OneTime)
                    .then(|| session.permission_limit(charge_amount))
                    .transpose()?,
                currency: Some(charge_amount.currency()),
                recurring_metadata: session.recurring_metadata.clone(),
                merchant_metadata: session.merchant_metadata.clone(),
                payment_method: card,
                buyer: session.buyer.clone(),
                shipping_address: addresses.0,
                billing_address: addresses.1,
                platform_id: session.platform_id.clone(),
                extend_expiration: session.payment.extend_expiration.unwrap_or(false),
                setup_only: session.setup_only,
            };
            (ChargePermission::create(permission_id, session.environment, session.region, new, now)?, true)
        }
        PermissionTarget::Renewed(mut existing) => {
            if session.renews_permission.as_ref() != Some(&existing.id) {
                return Err(session_status("this Checkout Session renews no such charge permission"));
            }
            existing.renew_from_checkout(card, session.buyer.clone(), addresses, now)?;
            if session.setup_only.is_some() {
                existing.setup_only = session.setup_only;
            }
            (*existing, false)
        }
    };
    let charge = match intent {
        PaymentIntent::Confirm => None,
        PaymentIntent::Authorize | PaymentIntent::AuthorizeWithCapture => {
            let can_handle_pending = session.payment.can_handle_pending_authorization.unwrap_or(false);
            let outcome = match session.environment {
                Environment::Sandbox => sandbox::authorize(card, can_handle_pending)?,
                Environment::Live => sandbox::AuthorizationOutcome::Approved,
            };
            let request = CreateCharge {
                amount: charge_amount,
                capture_now: intent == PaymentIntent::AuthorizeWithCapture,
                soft_descriptor: session
                    .payment
                    .soft_descriptor
                    .clone()
                    .filter(|_| intent == PaymentIntent::AuthorizeWithCapture),
                can_handle_pending_authorization: can_handle_pending,
                merchant_metadata: session.merchant_metadata.clone(),
                provider_reference_id: session.provider_reference_id.clone(),
                platform_id: session.platform_id.clone(),
                charge_initiator: None,
                channel: None,
                web_checkout_details: None,
            };
            match charge::create_charge(&mut permission, request, outcome, now)? {
                ChargeCreation::Created(charge) => Some(*charge),
                ChargeCreation::Declined(error) => {
                    session.state = SessionState::Canceled(SessionCancelReason::Declined);
                    session.state_updated_at = now;
                    return Ok(Err(error));
                }
            }
        }
    };
    session.state = SessionState::Completed;
    session.state_updated_at = now;
    session.charge_permission_id = Some(permission.id.clone());
    session.charge_id = charge.as_ref().map(|c| c.id.clone());
    Ok(Ok(Completion { permission, created, charge }))
}
