//! The Charge Permission: the buyer's consent to be charged, with its limits (spec §5.3,
//! §6.2).

use crate::error::{ReasonCode, Refusal};
use crate::ids::{ChargeId, ChargePermissionId, MAX_CHILD_SEQUENCE, RefundId};
use crate::limits;
use crate::metadata::{Address, Buyer, MerchantMetadata, RecurringMetadata};
use crate::money::{Currency, Money};
use crate::region::{Environment, Region};
use crate::sandbox::SandboxCard;
use crate::time::Timestamp;
use crate::time::beyond_calendar;

amzpay_types::named!(PermissionType, NonChargeableReason, ClosureReason);

#[derive(Debug, Clone, Copy, PartialEq, Eq, strum::IntoStaticStr, strum::EnumString)]
pub enum PermissionType {
    OneTime,
    Recurring,
    /// "Saved Wallet".
    PaymentMethodOnFile,
}

impl PermissionType {
    /// Recurring and Saved Wallet permissions have a monthly limit that resets on the 1st.
    pub fn has_monthly_limit(self) -> bool {
        match self {
            PermissionType::OneTime => false,
            PermissionType::Recurring | PermissionType::PaymentMethodOnFile => true,
        }
    }
}

/// Why a permission cannot be charged right now (spec §6.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, strum::IntoStaticStr, strum::EnumString)]
pub enum NonChargeableReason {
    PaymentMethodInvalid,
    PaymentMethodDeleted,
    BillingAddressDeleted,
    PaymentMethodExpired,
    PaymentMethodNotAllowed,
    PaymentMethodNotSet,
    ChargeInProgress,
    #[strum(serialize = "MFAFailed")]
    MfaFailed,
    AmountNotSet,
}

/// Why a permission was closed (spec §6.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, strum::IntoStaticStr, strum::EnumString)]
pub enum ClosureReason {
    MerchantClosed,
    BuyerClosed,
    AmazonClosed,
    Expired,
}

impl ClosureReason {}

#[derive(Debug, Clone, PartialEq, Eq, strum::IntoStaticStr)]
pub enum PermissionState {
    Chargeable,
    NonChargeable(NonChargeableReason),
    /// `reason` is `None` when a one-time permission closed because its whole limit was
    /// captured (product.md: "closes (no reason code)").
    Closed {
        reason: Option<ClosureReason>,
        description: Option<String>,
    },
}

impl PermissionState {
    /// The state as Amazon writes it.
    pub fn name(&self) -> &'static str {
        self.into()
    }

    /// The state's reason code, as Amazon writes it, when it has one.
    pub fn reason_code(&self) -> Option<&'static str> {
        match self {
            PermissionState::Chargeable => None,
            PermissionState::NonChargeable(reason) => Some(reason.as_str()),
            PermissionState::Closed { reason, .. } => reason.map(|r| r.as_str()),
        }
    }

    pub fn is_closed(&self) -> bool {
        matches!(self, PermissionState::Closed { .. })
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChargePermission {
    pub id: ChargePermissionId,
    pub environment: Environment,
    pub region: Region,
    pub kind: PermissionType,
    pub currency: Currency,
    /// One-time: the order's limit. Recurring and Saved Wallet: the monthly limit.
    pub amount_limit: Money,
    /// One-time: everything captured so far.
    pub captured: Money,
    /// Charge amounts of charges still open (AuthorizationInitiated, Authorized,
    /// CaptureInitiated): they hold part of the balance.
    pub open_authorized: Money,
    /// Recurring and Saved Wallet: the calendar month (its first instant) `period_used`
    /// counts, and the amounts authorized or captured in it (product.md).
    pub period_start: Timestamp,
    pub period_used: Money,
    /// Create Charge calls that created a charge.
    pub charges_created: u32,
    /// The last sequence numbers handed out for charge and refund ids.
    pub charge_sequence: u32,
    pub refund_sequence: u32,
    pub state: PermissionState,
    pub state_updated_at: Timestamp,
    pub created_at: Timestamp,
    /// `None` for Saved Wallet, which never expires (seeds 004).
    pub expires_at: Option<Timestamp>,
    pub merchant_metadata: Option<MerchantMetadata>,
    /// Set once the merchant changed `merchantMetadata` through Update Charge Permission.
    pub merchant_metadata_locked: bool,
    pub recurring_metadata: Option<RecurringMetadata>,
    pub buyer: Option<Buyer>,
    /// The addresses the buyer picked at checkout (none for test-helper permissions).
    pub shipping_address: Option<Address>,
    pub billing_address: Option<Address>,
    pub payment_method: SandboxCard,
    pub platform_id: Option<String>,
    /// Saved Wallet: the checkout's `paymentMethodOnFileMetadata.setupOnly`, echoed.
    pub setup_only: Option<bool>,
}

/// What the sandbox test helper (and, later, Complete Checkout Session) needs to mint a
/// permission.
#[derive(Debug, Clone)]
pub struct NewPermission {
    pub kind: PermissionType,
    /// Required for one-time permissions.
    pub amount_limit: Option<Money>,
    /// For Recurring and Saved Wallet; the region's ledger currency when absent.
    pub currency: Option<Currency>,
    pub recurring_metadata: Option<RecurringMetadata>,
    pub merchant_metadata: Option<MerchantMetadata>,
    pub payment_method: SandboxCard,
    pub buyer: Option<Buyer>,
    pub shipping_address: Option<Address>,
    pub billing_address: Option<Address>,
    pub platform_id: Option<String>,
    pub extend_expiration: bool,
    pub setup_only: Option<bool>,
}

fn invalid(message: impl Into<String>) -> Refusal {
    Refusal::new(ReasonCode::InvalidParameterValue, message)
}

impl ChargePermission {
    /// A new Chargeable permission.
    pub fn create(
        id: ChargePermissionId,
        environment: Environment,
        region: Region,
        new: NewPermission,
        now: Timestamp,
    ) -> Result<ChargePermission, Refusal> {
        if !new.payment_method.usable_for_charges() {
            return Err(invalid(format!("card {} acts during checkout only", new.payment_method.last_four())));
        }
        let (currency, amount_limit) = match new.kind {
            PermissionType::OneTime => {
                let limit = new.amount_limit.ok_or_else(|| {
                    Refusal::new(
                        ReasonCode::MissingParameterValue,
                        "amountLimit is required for a OneTime charge permission",
                    )
                })?;
                if new.currency.is_some_and(|c| c != limit.currency()) {
                    return Err(Refusal::new(
                        ReasonCode::CurrencyMismatch,
                        "currencyCode differs from amountLimit's currency",
                    ));
                }
                if !limit.is_positive() {
                    return Err(invalid("amountLimit must be greater than zero"));
                }
                (limit.currency(), limit)
            }
            PermissionType::Recurring => {
                if new.amount_limit.is_some() {
                    return Err(Refusal::new(
                        ReasonCode::InvalidParameterCombination,
                        "amountLimit applies to OneTime permissions; Recurring ones have Amazon's monthly limit",
                    ));
                }
                let currency = new.currency.unwrap_or(region.default_currency());
                let limit = limits::recurring_monthly_limit_minor(currency)
                    .filter(|_| region.is_ledger(currency))
                    .ok_or_else(|| {
                        invalid(format!(
                            "Recurring permissions are not available in {currency} in region {}",
                            region.code()
                        ))
                    })?;
                (currency, Money::from_minor(limit, currency))
            }
            PermissionType::PaymentMethodOnFile => {
                if new.amount_limit.is_some() {
                    return Err(Refusal::new(
                        ReasonCode::InvalidParameterCombination,
                        "amountLimit applies to OneTime permissions; Saved Wallet ones have Amazon's monthly limit",
                    ));
                }
                let currency = new.currency.unwrap_or(region.default_currency());
                (currency, Money::from_minor(limits::saved_wallet_monthly_limit_minor(currency), currency))
            }
        };
        if !region.accepts(currency) {
            return Err(invalid(format!("{currency} is not available in region {}", region.code())));
        }
        if new.recurring_metadata.is_some() && new.kind != PermissionType::Recurring {
            return Err(Refusal::new(
                ReasonCode::InvalidParameterCombination,
                "recurringMetadata applies to Recurring permissions only",
            ));
        }
        if let Some(amount) = new.recurring_metadata.as_ref().and_then(|m| m.amount)
            && amount.currency() != currency
        {
            return Err(Refusal::new(ReasonCode::CurrencyMismatch, "recurringMetadata.amount is in another currency"));
        }
        let merchant_metadata = new.merchant_metadata.map(MerchantMetadata::validate).transpose()?;
        let beyond = || beyond_calendar("the permission's expiration");
        let expires_at = match new.kind {
            PermissionType::OneTime if new.extend_expiration => {
                Some(now.plus_months(limits::EXTENDED_LIFETIME_MONTHS).ok_or_else(beyond)?)
            }
            PermissionType::OneTime => {
                Some(now.checked_plus_seconds(limits::ONE_TIME_PERMISSION_LIFETIME_SECONDS).ok_or_else(beyond)?)
            }
            PermissionType::Recurring => Some(now.plus_months(limits::EXTENDED_LIFETIME_MONTHS).ok_or_else(beyond)?),
            PermissionType::PaymentMethodOnFile => None,
        };
        let period_start = now.month_start().ok_or_else(|| beyond_calendar("the permission's monthly period"))?;
        Ok(ChargePermission {
            id,
            environment,
            region,
            kind: new.kind,
            currency,
            amount_limit,
            captured: Money::zero(currency),
            open_authorized: Money::zero(currency),
            period_start,
            period_used: Money::zero(currency),
            charges_created: 0,
            charge_sequence: 0,
            refund_sequence: 0,
            state: PermissionState::Chargeable,
            state_updated_at: now,
            created_at: now,
            expires_at,
            merchant_metadata,
            merchant_metadata_locked: false,
            recurring_metadata: new.recurring_metadata,
            buyer: new.buyer,
            shipping_address: new.shipping_address,
            billing_address: new.billing_address,
            payment_method: new.payment_method,
            platform_id: new.platform_id,
            setup_only: new.setup_only.filter(|_| new.kind == PermissionType::PaymentMethodOnFile),
        })
    }

    /// What can still be charged: one-time, the limit less what is captured and what open
    /// authorizations hold; recurring and Saved Wallet, the monthly limit less this month's
    /// use. Never negative.
    pub fn amount_balance(&self) -> Money {
        let used = if self.kind.has_monthly_limit() {
            self.period_used
        } else {
            self.captured.checked_add(self.open_authorized).unwrap_or(self.amount_limit)
        };
        let balance = self.amount_limit.checked_sub(used).unwrap_or(Money::zero(self.currency));
        if balance.minor() < 0 { Money::zero(self.currency) } else { balance }
    }

    /// Applies what time alone does: a new calendar month resets the monthly use, and an
    /// open permission past its expiration closes as `Expired`. Returns whether the state
    /// changed (which is worth a notification).
    pub fn advance_to(&mut self, now: Timestamp) -> bool {
        // An instant past the last one Amazon can write has no month to reset to (the
        // sandbox clock is bounded well before it): the period stays.
        if self.kind.has_monthly_limit()
            && let Some(month) = now.month_start()
            && month > self.period_start
        {
            self.period_start = month;
            self.period_used = Money::zero(self.currency);
        }
        match self.expires_at {
            Some(expiry) if now >= expiry && !self.state.is_closed() => {
                self.set_state(
                    PermissionState::Closed { reason: Some(ClosureReason::Expired), description: None },
                    expiry,
                );
                true
            }
            _ => false,
        }
    }

    /// A Saved Wallet checkout that named this permission (`chargePermissionId`) has
    /// completed: the buyer's new payment method and details replace the old ones, and a
    /// NonChargeable permission is Chargeable again (seeds 004, "Changing the Payment
    /// Method").
    pub fn renew_from_checkout(
        &mut self,
        card: SandboxCard,
        buyer: Option<Buyer>,
        addresses: (Option<Address>, Option<Address>),
        now: Timestamp,
    ) -> Result<(), Refusal> {
        self.advance_to(now);
        if self.kind != PermissionType::PaymentMethodOnFile {
            return Err(invalid(format!("charge permission {} is not a Saved Wallet (PaymentMethodOnFile)", self.id)));
        }
        crate::charge::buyer_update_payment_method(self, card, now)?;
        if buyer.is_some() {
            self.buyer = buyer;
        }
        let (shipping, billing) = addresses;
        if shipping.is_some() {
            self.shipping_address = shipping;
        }
        if billing.is_some() {
            self.billing_address = billing;
        }
        Ok(())
    }

    /// Asserts, in debug builds, what every transition keeps true (TigerBeetle style: the
    /// property test `tests/invariants.rs` checks the same against a model): nothing negative;
    /// one-time: captured + open authorizations ≤ limit, at most 25 charges, and NonChargeable
    /// / ChargeInProgress exactly while open authorizations hold the whole balance; recurring
    /// and Saved Wallet: the month's use within the monthly limit.
    pub fn debug_assert_invariants(&self) {
        debug_assert!(self.captured.minor() >= 0 && self.open_authorized.minor() >= 0, "{self:?}");
        match self.kind {
            PermissionType::OneTime => {
                debug_assert!(
                    self.captured.minor().saturating_add(self.open_authorized.minor()) <= self.amount_limit.minor(),
                    "captured + authorized <= limit: {self:?}"
                );
                debug_assert!(self.charges_created <= limits::MAX_CHARGES_PER_ONE_TIME_PERMISSION, "{self:?}");
                if !self.state.is_closed() {
                    let held = self.open_authorized.is_positive() && !self.amount_balance().is_positive();
                    let in_progress =
                        self.state == PermissionState::NonChargeable(NonChargeableReason::ChargeInProgress);
                    debug_assert_eq!(in_progress, held, "ChargeInProgress exactly while held: {self:?}");
                }
            }
            PermissionType::Recurring | PermissionType::PaymentMethodOnFile => {
                debug_assert!(
                    (0..=self.amount_limit.minor()).contains(&self.period_used.minor()),
                    "0 <= monthly use <= monthly limit: {self:?}"
                );
            }
        }
    }

    /// Whether the buyer's details are shown (spec §5.3): one-time permissions for 30 days
    /// after creation; recurring and Saved Wallet ones while open and 30 days after closing.
    pub fn buyer_visible(&self, now: Timestamp) -> bool {
        let window = limits::BUYER_DETAILS_VISIBLE_SECONDS;
        match self.kind {
            PermissionType::OneTime => now.seconds_since(self.created_at) < window,
            PermissionType::Recurring | PermissionType::PaymentMethodOnFile => {
                !self.state.is_closed() || now.seconds_since(self.state_updated_at) < window
            }
        }
    }

    pub(crate) fn set_state(&mut self, state: PermissionState, now: Timestamp) {
        self.state = state;
        self.state_updated_at = now;
    }

    pub(crate) fn next_charge_id(&mut self) -> Result<ChargeId, Refusal> {
        if self.charge_sequence >= MAX_CHILD_SEQUENCE {
            return Err(Refusal::new(
                ReasonCode::TransactionCountExceeded,
                "this charge permission has used every charge id",
            ));
        }
        self.charge_sequence += 1;
        Ok(self.id.charge_id(self.charge_sequence))
    }

    pub(crate) fn next_refund_id(&mut self) -> Result<RefundId, Refusal> {
        if self.refund_sequence >= MAX_CHILD_SEQUENCE {
            return Err(Refusal::new(
                ReasonCode::TransactionCountExceeded,
                "this charge permission has used every refund id",
            ));
        }
        self.refund_sequence += 1;
        Ok(self.id.refund_id(self.refund_sequence))
    }

    /// Update Charge Permission (spec §5.3): `merchantMetadata` may be changed once;
    /// `recurringMetadata` only on recurring permissions.
    pub fn update(&mut self, update: PermissionUpdate, now: Timestamp) -> Result<(), Refusal> {
        self.advance_to(now);
        if self.state.is_closed() {
            return Err(Refusal::new(ReasonCode::InvalidChargePermissionStatus, "the charge permission is Closed"));
        }
        if update.recurring_metadata.is_some() && self.kind != PermissionType::Recurring {
            return Err(Refusal::new(
                ReasonCode::InvalidParameterCombination,
                "recurringMetadata applies to Recurring permissions only",
            ));
        }
        if let Some(amount) = update.recurring_metadata.as_ref().and_then(|m| m.amount)
            && amount.currency() != self.currency
        {
            return Err(Refusal::new(ReasonCode::CurrencyMismatch, "recurringMetadata.amount is in another currency"));
        }
        let metadata = update.merchant_metadata.map(MerchantMetadata::validate).transpose()?;
        if let Some(metadata) = &metadata
            && self.merchant_metadata_locked
            && self.merchant_metadata.as_ref() != Some(metadata)
        {
            return Err(Refusal::new(
                ReasonCode::ChargePermissionNotModifiable,
                "merchantMetadata can be changed only once",
            ));
        }
        if let Some(metadata) = metadata {
            self.merchant_metadata = Some(metadata);
            self.merchant_metadata_locked = true;
        }
        if let Some(recurring) = update.recurring_metadata {
            self.recurring_metadata = Some(recurring);
        }
        Ok(())
    }
}

#[derive(Debug, Clone, Default)]
pub struct PermissionUpdate {
    pub merchant_metadata: Option<MerchantMetadata>,
    pub recurring_metadata: Option<RecurringMetadata>,
}
