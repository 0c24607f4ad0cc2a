//! amzpay's sandbox test helpers, which the real Amazon Pay does not have: a Charge
//! Permission made directly, what a buyer does on Amazon's site (`buyerActions`), what Amazon
//! itself does to a charge (`amazonActions`), the merchant's sandbox clock, the IPN
//! endpoint and delivery log, and faults on demand.
//!
//! Only shapes live here. The real Amazon Pay has no such operations; nothing here pretends
//! it does.

use serde::{Deserialize, Serialize};

use super::charge_permission::ChargePermissionType;
use super::common::{Buyer, MerchantMetadata, RecurringMetadata};
use crate::ids::ChargePermissionId;
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

/// Where this merchant's sandbox IPNs go, as amzpay's `ipnEndpoint` test helper reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct IpnEndpoint {
    /// The URL notifications are posted to; `None` when none is set (and none are sent).
    #[serde(default)]
    pub url: Option<String>,
}

/// Sets or clears this merchant's sandbox IPN endpoint (amzpay's `ipnEndpoint` test helper).
///
/// ```
/// use amzpay_sdk::SetIpnEndpointRequest;
/// let set = SetIpnEndpointRequest::new("https://shop.example/ipn");
/// assert_eq!(serde_json::to_string(&set).unwrap(), r#"{"url":"https://shop.example/ipn"}"#);
/// assert_eq!(serde_json::to_string(&SetIpnEndpointRequest::clear()).unwrap(), r#"{"url":null}"#);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct SetIpnEndpointRequest {
    /// An absolute `http` or `https` URL (at most 2,048 characters), or `None` (sent as
    /// `null`) to stop notifications.
    pub url: Option<String>,
}

impl SetIpnEndpointRequest {
    /// Posts notifications to `url`.
    pub fn new(url: impl Into<String>) -> SetIpnEndpointRequest {
        SetIpnEndpointRequest { url: Some(url.into()) }
    }

    /// Stops notifications: no endpoint.
    pub fn clear() -> SetIpnEndpointRequest {
        SetIpnEndpointRequest { url: None }
    }
}

wire_enum!(
    /// Where a notification's delivery stands.
    NotificationStatus {
        /// Not delivered yet; another attempt is due (`nextAttemptTimestamp`).
        Pending,
        /// The endpoint answered 2xx.
        Delivered,
        /// Given up: the endpoint refused it (3xx, 4xx) or every retry failed.
        Failed,
        /// The merchant had no endpoint when it was due: nothing was sent.
        NoEndpoint,
    }
);

/// One delivery attempt of a notification.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct DeliveryAttempt {
    /// When it was made, in real time (`20261125T170000Z`).
    pub timestamp: String,
    /// Where it was posted.
    pub url: String,
    /// The endpoint's HTTP status; `None` when there was no answer (see `error`).
    #[serde(default)]
    pub status_code: Option<u16>,
    /// Why there was no answer (`connection refused`, a timeout); `None` when there was one.
    #[serde(default)]
    pub error: Option<String>,
    /// How long the attempt took, in milliseconds.
    #[serde(default)]
    pub latency_millis: u64,
}

/// A notification in amzpay's delivery log: what it says, where its delivery stands, and
/// every attempt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Notification {
    /// The message's `NotificationId` (redeliveries keep it).
    pub notification_id: String,
    /// The SNS envelope's `MessageId` (redeliveries keep it).
    pub message_id: String,
    /// `CHARGE_PERMISSION`, `CHARGE` or `REFUND`.
    pub object_type: String,
    /// The id of the object that changed.
    pub object_id: String,
    /// The Charge Permission it belongs to.
    #[serde(with = "crate::ids::amazon_id")]
    pub charge_permission_id: ChargePermissionId,
    /// `STATE_CHANGE` or `ATTRIBUTE_CHANGE`.
    pub notification_type: String,
    /// When the change happened, on the merchant's sandbox clock (`20261125T170000Z`).
    pub creation_timestamp: String,
    /// Where its delivery stands.
    pub status: NotificationStatus,
    /// When the next attempt is due, in real time; `None` unless `Pending`.
    #[serde(default)]
    pub next_attempt_timestamp: Option<String>,
    /// Every attempt so far, oldest first.
    #[serde(default)]
    pub attempts: Vec<DeliveryAttempt>,
}

/// This merchant's notifications, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct NotificationList {
    /// The notifications, newest first.
    pub notifications: Vec<Notification>,
}

wire_enum!(
    /// The error a sandbox fault answers with: `TooManyRequests` (429), `ServiceUnavailable`
    /// (503) or `InternalServerError` (500). `Unknown` is only ever read from an answer.
    FaultReasonCode {
        /// 429.
        TooManyRequests,
        /// 503.
        ServiceUnavailable,
        /// 500.
        InternalServerError,
    }
);

/// Adds a sandbox fault (amzpay's `faults` test helper): the next `count` requests of this
/// merchant that it applies to wait `delay_ms`, then answer `reason_code` without running,
/// so no idempotency key is recorded; without a reason code they only wait, then run. Test
/// helpers never meet a fault.
///
/// ```
/// use amzpay_sdk::*;
/// let unavailable = AddFaultRequest::error(FaultReasonCode::ServiceUnavailable, 2).operation("CreateCharge");
/// assert_eq!(
///     serde_json::to_string(&unavailable).unwrap(),
///     r#"{"reasonCode":"ServiceUnavailable","count":2,"operations":["CreateCharge"]}"#
/// );
/// let slow = AddFaultRequest::delay(1_500, 1);
/// assert_eq!(serde_json::to_string(&slow).unwrap(), r#"{"reasonCode":null,"count":1,"delayMs":1500}"#);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct AddFaultRequest {
    /// The error to answer with; `None` (sent as `null`) only delays.
    pub reason_code: Option<FaultReasonCode>,
    /// How many requests it applies to: 1 to 1,000.
    pub count: u32,
    /// The operations it applies to, by Amazon's names (`CreateCharge`, `GetChargePermission`,
    /// ...); `None` for every operation.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub operations: Option<Vec<String>>,
    /// How long each of those requests waits first, in milliseconds: 0 (the default) to
    /// 60,000.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delay_ms: Option<u32>,
}

impl AddFaultRequest {
    /// The next `count` requests answer `reason_code`.
    pub fn error(reason_code: FaultReasonCode, count: u32) -> AddFaultRequest {
        AddFaultRequest { reason_code: Some(reason_code), count, operations: None, delay_ms: None }
    }

    /// The next `count` requests wait `delay_ms` milliseconds, then run.
    pub fn delay(delay_ms: u32, count: u32) -> AddFaultRequest {
        AddFaultRequest { reason_code: None, count, operations: None, delay_ms: Some(delay_ms) }
    }

    /// Applies only to this operation (and any others named so).
    pub fn operation(mut self, name: impl Into<String>) -> AddFaultRequest {
        self.operations.get_or_insert_with(Vec::new).push(name.into());
        self
    }

    /// Waits `delay_ms` milliseconds before answering.
    pub fn delay_ms(mut self, delay_ms: u32) -> AddFaultRequest {
        self.delay_ms = Some(delay_ms);
        self
    }
}

/// A sandbox fault, as amzpay's `faults` test helper reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Fault {
    /// Its id.
    pub fault_id: String,
    /// The error it answers with; `None` when it only delays.
    #[serde(default)]
    pub reason_code: Option<FaultReasonCode>,
    /// How many requests it was added for.
    pub count: u32,
    /// How many requests it still applies to.
    pub remaining_count: u32,
    /// The operations it applies to; `None` for every operation.
    #[serde(default)]
    pub operations: Option<Vec<String>>,
    /// How long each request waits first, in milliseconds.
    #[serde(default)]
    pub delay_ms: u32,
    /// When it was added, on the merchant's sandbox clock (`20261125T170000Z`).
    pub creation_timestamp: String,
}

/// Faults, oldest first: the active ones, or those a clear removed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct FaultList {
    /// The faults, oldest first.
    pub faults: Vec<Fault>,
}
