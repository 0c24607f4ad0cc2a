//! amzpay's sandbox test helpers, which the real Amazon Pay does not have: a Charge
//! Permission made directly, what a buyer does on Amazon's site (`buyerActions`), what Amazon
//! itself does to a charge (`amazonActions`), and the merchant's sandbox clock.
//!
//! Only shapes live here. The real Amazon Pay has no such operations; nothing here pretends
//! it does.

use serde::{Deserialize, Serialize};

use super::charge_permission::ChargePermissionType;
use super::common::{Buyer, MerchantMetadata, RecurringMetadata};
use crate::price::Price;

wire_object! {
    /// amzpay's sandbox test helper: a Charge Permission as if a buyer completed checkout.
    ///
    /// ```
    /// use amzpay_sdk::*;
    /// let request = CreateTestChargePermissionRequest::default()
    ///     .amount_limit(Price::parse("100.00", Currency::Usd).unwrap())
    ///     .payment_method("1111");
    /// assert_eq!(request.payment_method.as_deref(), Some("1111"));
    /// ```
    #[derive(Debug, Clone, Default, PartialEq, Serialize)]
    #[serde(rename_all = "camelCase")]
    pub struct CreateTestChargePermissionRequest {}
    optional {
        /// Default `OneTime`.
        charge_permission_type: ChargePermissionType,
        /// Required for `OneTime`; its currency is the permission's.
        amount_limit: Price,
        /// For `Recurring` and `PaymentMethodOnFile` (default: the region's currency).
        currency_code: String,
        /// Recurring details.
        recurring_metadata: RecurringMetadata,
        /// Order details.
        merchant_metadata: MerchantMetadata,
        /// Last four digits of a sandbox card (default `1111`).
        payment_method: String,
        /// The buyer.
        buyer: Buyer,
    }
}

/// amzpay's sandbox clock.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ClockState {
    /// The merchant's sandbox time (`20240101T120000Z`).
    pub now: String,
    /// Whether the clock is frozen (moves only when advanced).
    #[serde(default)]
    pub frozen: bool,
}

/// Advance amzpay's sandbox clock.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct AdvanceClockRequest {
    /// How far.
    pub seconds: u64,
}

impl AdvanceClockRequest {
    /// Moves the clock `seconds` forward.
    pub fn new(seconds: u64) -> AdvanceClockRequest {
        AdvanceClockRequest { seconds }
    }
}

/// What a buyer does on the Amazon Pay site, as amzpay's `buyerActions` test helper plays it.
///
/// ```
/// use amzpay_sdk::BuyerAction;
/// let action = BuyerAction::UpdatePaymentMethod { payment_method: "4444".into() };
/// assert_eq!(serde_json::to_string(&action).unwrap(), r#"{"action":"UpdatePaymentMethod","paymentMethod":"4444"}"#);
/// assert_eq!(serde_json::to_string(&BuyerAction::Close).unwrap(), r#"{"action":"Close"}"#);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "action")]
#[non_exhaustive]
pub enum BuyerAction {
    /// Pick another sandbox card; a NonChargeable permission becomes Chargeable.
    UpdatePaymentMethod {
        /// Last four digits of a sandbox card, e.g. `4444`.
        #[serde(rename = "paymentMethod")]
        payment_method: String,
    },
    /// Close the permission (Closed / BuyerClosed).
    Close,
}

/// What Amazon itself does to a charge, as amzpay's `amazonActions` test helper plays it.
///
/// ```
/// use amzpay_sdk::AmazonAction;
/// assert_eq!(serde_json::to_string(&AmazonAction::Cancel).unwrap(), r#"{"action":"Cancel"}"#);
/// assert_eq!(
///     serde_json::to_string(&AmazonAction::FlagAtypicalActivity).unwrap(),
///     r#"{"action":"FlagAtypicalActivity"}"#
/// );
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "action")]
#[non_exhaustive]
pub enum AmazonAction {
    /// Amazon cancels the charge: Canceled / AmazonCanceled.
    Cancel,
    /// Amazon flags signs of unusual activity: reason StopShipmentAtypicalAuth.
    FlagAtypicalActivity,
}
