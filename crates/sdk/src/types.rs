//! Request and response objects of Amazon Pay API v2 (spec §5), field for field.
//!
//! Requests leave out fields that are `None`. Responses accept missing fields and
//! fields this SDK does not know, so a newer API does not break an older client.

use serde::{Deserialize, Serialize};

use crate::price::Price;

macro_rules! wire_enum {
    ($(#[$doc:meta])* $name:ident { $($(#[$vdoc:meta])* $variant:ident),* $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        pub enum $name {
            $($(#[$vdoc])* $variant,)*
            /// A value this SDK does not know yet.
            #[serde(other)]
            Unknown,
        }
    };
}

wire_enum!(
    /// The state of a Charge (spec §6.1).
    ChargeState {
        /// Authorization is pending.
        AuthorizationInitiated,
        /// Authorized; can be captured or canceled.
        Authorized,
        /// Capture is pending.
        CaptureInitiated,
        /// Captured; can be refunded.
        Captured,
        /// Canceled (see the reason code).
        Canceled,
        /// Declined (see the reason code).
        Declined,
    }
);

wire_enum!(
    /// The state of a Charge Permission (spec §6.2).
    ChargePermissionState {
        /// Charges can be created.
        Chargeable,
        /// Charges cannot be created until the reasons are resolved.
        NonChargeable,
        /// Closed for good.
        Closed,
    }
);

wire_enum!(
    /// The state of a Refund (spec §6.3).
    RefundState {
        /// Processing.
        RefundInitiated,
        /// Refunded.
        Refunded,
        /// Declined (see the reason code).
        Declined,
    }
);

wire_enum!(
    /// The state of a Checkout Session (spec §5.5).
    CheckoutSessionState {
        /// The buyer is checking out.
        Open,
        /// Completed: a Charge Permission exists.
        Completed,
        /// Canceled (see the reason code).
        Canceled,
    }
);

wire_enum!(
    /// The kind of Charge Permission.
    ChargePermissionType {
        /// One order, up to 25 charges.
        OneTime,
        /// A subscription with a monthly limit.
        Recurring,
        /// Saved Wallet: charge whenever the buyer buys, no expiration.
        PaymentMethodOnFile,
    }
);

wire_enum!(
    /// What Complete Checkout Session does with the payment.
    PaymentIntent {
        /// Create a Charge Permission only.
        Confirm,
        /// Also authorize.
        Authorize,
        /// Also authorize and capture.
        AuthorizeWithCapture,
    }
);

wire_enum!(
    /// Who initiated a charge.
    ChargeInitiator {
        /// Customer-initiated, unscheduled.
        CITU,
        /// Merchant-initiated, unscheduled.
        MITU,
        /// Customer-initiated, recurring.
        CITR,
        /// Merchant-initiated, recurring.
        MITR,
    }
);

wire_enum!(
    /// Where a charge was made.
    Channel {
        /// A web site.
        Web,
        /// A phone order.
        Phone,
        /// An app.
        App,
        /// Alexa.
        Alexa,
        /// A point of sale.
        PointOfSale,
        /// Fire TV.
        FireTv,
        /// Offline.
        Offline,
        /// Amazon.
        Amazon,
    }
);

/// `statusDetails` of a Charge, Refund or Checkout Session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StatusDetails<S> {
    /// The state.
    pub state: S,
    /// Why the object is in that state, if it says.
    #[serde(default)]
    pub reason_code: Option<String>,
    /// A description of the reason.
    #[serde(default)]
    pub reason_description: Option<String>,
    /// When the state last changed (`20190714T155300Z`).
    #[serde(default)]
    pub last_updated_timestamp: Option<String>,
}

/// One reason of a Charge Permission's state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PermissionReason {
    /// E.g. `MerchantClosed`, `PaymentMethodInvalid`.
    pub reason_code: String,
    /// A description.
    #[serde(default)]
    pub reason_description: Option<String>,
}

/// `statusDetails` of a Charge Permission: a list of reasons.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PermissionStatusDetails {
    /// The state.
    pub state: ChargePermissionState,
    /// The reasons, if any.
    #[serde(default)]
    pub reasons: Option<Vec<PermissionReason>>,
    /// When the state last changed.
    #[serde(default)]
    pub last_updated_timestamp: Option<String>,
}

/// Merchant-provided order details.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MerchantMetadata {
    /// Your order id (at most 256 characters).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub merchant_reference_id: Option<String>,
    /// Your store's name (at most 50).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub merchant_store_name: Option<String>,
    /// A note shown to the buyer (at most 255).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note_to_buyer: Option<String>,
    /// Anything else (at most 4,096).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub custom_information: Option<String>,
}

/// Payment service provider details (PSPs only).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProviderMetadata {
    /// The PSP's order id.
    #[serde(default)]
    pub provider_reference_id: Option<String>,
}

/// How often a recurring permission is charged.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Frequency {
    /// `Year`, `Month`, `Week`, `Day` or `Variable`.
    pub unit: String,
    /// How many units; Amazon sends a string.
    #[serde(with = "string_or_number")]
    pub value: String,
}

mod string_or_number {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(value: &str, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(value)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
        match serde_json::Value::deserialize(deserializer)? {
            serde_json::Value::String(text) => Ok(text),
            serde_json::Value::Number(number) => Ok(number.to_string()),
            other => Err(serde::de::Error::custom(format!("expected a string or a number, not {other}"))),
        }
    }
}

/// Recurring details.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RecurringMetadata {
    /// How often.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub frequency: Option<Frequency>,
    /// How much each time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount: Option<Price>,
}

/// Saved Wallet setup details.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PaymentMethodOnFileMetadata {
    /// Set up the wallet without charging.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub setup_only: Option<bool>,
}

/// A Charge Permission's limits.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Limits {
    /// The most that can be charged (one-time) or charged per month (recurring, Saved Wallet).
    #[serde(default)]
    pub amount_limit: Option<Price>,
    /// What can still be charged.
    #[serde(default)]
    pub amount_balance: Option<Price>,
}

/// The buyer.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Buyer {
    /// Amazon's id of the buyer.
    #[serde(default)]
    pub buyer_id: Option<String>,
    /// Name.
    #[serde(default)]
    pub name: Option<String>,
    /// Email.
    #[serde(default)]
    pub email: Option<String>,
    /// Phone number.
    #[serde(default)]
    pub phone_number: Option<String>,
    /// Prime memberships.
    #[serde(default)]
    pub prime_membership_types: Option<Vec<String>>,
}

/// A postal address.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Address {
    /// Name of the addressee.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// First address line.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address_line1: Option<String>,
    /// Second address line.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address_line2: Option<String>,
    /// Third address line.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address_line3: Option<String>,
    /// City.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub city: Option<String>,
    /// County.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub county: Option<String>,
    /// District.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub district: Option<String>,
    /// State or region.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state_or_region: Option<String>,
    /// Postal code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub postal_code: Option<String>,
    /// ISO 3166 country code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country_code: Option<String>,
    /// Phone number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone_number: Option<String>,
}

/// A payment method as shown to the merchant.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PaymentPreference {
    /// E.g. `Visa ****1111`.
    #[serde(default)]
    pub payment_descriptor: Option<String>,
}

/// A Charge (spec §5.2).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Charge {
    /// The Charge id (`S01-...-C000001`).
    pub charge_id: String,
    /// The Charge Permission id (`S01-5105180-3221187`).
    pub charge_permission_id: String,
    /// The amount authorized or to authorize.
    pub charge_amount: Price,
    /// The amount captured, once captured.
    #[serde(default)]
    pub capture_amount: Option<Price>,
    /// The amount refunded so far.
    #[serde(default)]
    pub refunded_amount: Option<Price>,
    /// The captured amount in the ledger currency (a Price, as Amazon sends it).
    #[serde(default)]
    pub converted_amount: Option<Price>,
    /// The rate of `converted_amount`, as text (Amazon sends a string or a number).
    #[serde(default, deserialize_with = "text_or_number")]
    pub conversion_rate: Option<String>,
    /// Text on the buyer's statement (at most 16 characters).
    #[serde(default)]
    pub soft_descriptor: Option<String>,
    /// Merchant-provided order details.
    #[serde(default)]
    pub merchant_metadata: Option<MerchantMetadata>,
    /// Payment service provider details.
    #[serde(default)]
    pub provider_metadata: Option<ProviderMetadata>,
    /// Solution provider id.
    #[serde(default)]
    pub platform_id: Option<String>,
    /// Who initiated the charge.
    #[serde(default)]
    pub charge_initiator: Option<ChargeInitiator>,
    /// Where the charge was made.
    #[serde(default)]
    pub channel: Option<Channel>,
    /// State, reason and when it last changed.
    pub status_details: StatusDetails<ChargeState>,
    /// When it was created (`20190714T155300Z`).
    #[serde(default)]
    pub creation_timestamp: Option<String>,
    /// When it expires (`20190714T155300Z`).
    #[serde(default)]
    pub expiration_timestamp: Option<String>,
    /// `Sandbox` or `Live`.
    #[serde(default)]
    pub release_environment: Option<String>,
    /// The return URLs given at Create Charge (Saved Wallet multi-factor authentication).
    #[serde(default)]
    pub web_checkout_details: Option<WebCheckoutDetails>,
}

fn text_or_number<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Option<String>, D::Error> {
    let value: Option<serde_json::Value> = Option::deserialize(deserializer)?;
    match value {
        None | Some(serde_json::Value::Null) => Ok(None),
        Some(serde_json::Value::String(text)) => Ok(Some(text)),
        Some(serde_json::Value::Number(number)) => Ok(Some(number.to_string())),
        Some(other) => Err(serde::de::Error::custom(format!("expected a string or a number, found {other}"))),
    }
}

/// A Charge Permission (spec §5.3).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChargePermission {
    /// The Charge Permission id (`S01-5105180-3221187`).
    pub charge_permission_id: String,
    /// Amazon's reference for the permission.
    #[serde(default)]
    pub charge_permission_reference_id: Option<String>,
    /// `OneTime`, `Recurring` or `PaymentMethodOnFile`.
    #[serde(default)]
    pub charge_permission_type: Option<ChargePermissionType>,
    /// Recurring details.
    #[serde(default)]
    pub recurring_metadata: Option<RecurringMetadata>,
    /// Amount limit and balance.
    #[serde(default)]
    pub limits: Option<Limits>,
    /// The buyer.
    #[serde(default)]
    pub buyer: Option<Buyer>,
    /// Where to ship.
    #[serde(default)]
    pub shipping_address: Option<Address>,
    /// The billing address.
    #[serde(default)]
    pub billing_address: Option<Address>,
    /// The buyer's payment methods, as descriptors.
    #[serde(default)]
    pub payment_preferences: Option<Vec<PaymentPreference>>,
    /// Merchant-provided order details.
    #[serde(default)]
    pub merchant_metadata: Option<MerchantMetadata>,
    /// Solution provider id.
    #[serde(default)]
    pub platform_id: Option<String>,
    /// The currency the buyer pays in.
    #[serde(default)]
    pub presentment_currency: Option<String>,
    /// State, reason and when it last changed.
    pub status_details: PermissionStatusDetails,
    /// When it was created (`20190714T155300Z`).
    #[serde(default)]
    pub creation_timestamp: Option<String>,
    /// When it expires (`20190714T155300Z`).
    #[serde(default)]
    pub expiration_timestamp: Option<String>,
    /// Saved Wallet details.
    #[serde(default)]
    pub payment_method_on_file_metadata: Option<PaymentMethodOnFileMetadata>,
    /// `Sandbox` or `Live`.
    #[serde(default)]
    pub release_environment: Option<String>,
}

/// A Refund (spec §5.4).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Refund {
    /// The Refund id (`S01-...-R000001`).
    pub refund_id: String,
    /// The Charge id (`S01-...-C000001`).
    pub charge_id: String,
    /// The amount refunded or to refund.
    pub refund_amount: Price,
    /// Text on the buyer's statement (at most 16 characters).
    #[serde(default)]
    pub soft_descriptor: Option<String>,
    /// When it was created (`20190714T155300Z`).
    #[serde(default)]
    pub creation_timestamp: Option<String>,
    /// State, reason and when it last changed.
    pub status_details: StatusDetails<RefundState>,
    /// `Sandbox` or `Live`.
    #[serde(default)]
    pub release_environment: Option<String>,
}

/// Redirect URLs and checkout mode of a Checkout Session.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WebCheckoutDetails {
    /// Where the buyer returns after signing in and choosing a payment method.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checkout_review_return_url: Option<String>,
    /// Where the buyer returns after confirming.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checkout_result_return_url: Option<String>,
    /// Where the buyer goes on canceling.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checkout_cancel_url: Option<String>,
    /// Set by Amazon once the session is ready.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amazon_pay_redirect_url: Option<String>,
    /// `ProcessOrder` to skip the review page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checkout_mode: Option<String>,
}

/// Payment details of a Checkout Session.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PaymentDetails {
    /// `Confirm`, `Authorize` or `AuthorizeWithCapture`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment_intent: Option<PaymentIntent>,
    /// Accept an asynchronous authorization.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub can_handle_pending_authorization: Option<bool>,
    /// The amount authorized or to authorize.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub charge_amount: Option<Price>,
    /// The whole order, when charging in parts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total_order_amount: Option<Price>,
    /// Text on the buyer's statement (at most 16 characters).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub soft_descriptor: Option<String>,
    /// The currency the buyer pays in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub presentment_currency: Option<String>,
    /// Allow charging more than the order amount.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allow_overcharge: Option<bool>,
    /// Keep a one-time permission for 13 months instead of 180 days.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extend_expiration: Option<bool>,
    /// The merchant's estimate of the order total.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub estimate_order_total: Option<Price>,
}

/// Something still missing before a Checkout Session can complete.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Constraint {
    /// E.g. `BuyerNotAssociated`, `ChargeAmountNotSet`.
    pub constraint_id: String,
    /// A description.
    #[serde(default)]
    pub description: Option<String>,
}

/// A Checkout Session (spec §5.5).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CheckoutSession {
    /// The Checkout Session id (a UUID).
    pub checkout_session_id: String,
    /// Redirect URLs and checkout mode.
    #[serde(default)]
    pub web_checkout_details: Option<WebCheckoutDetails>,
    /// `PayAndShip` or `PayOnly`.
    #[serde(default)]
    pub product_type: Option<String>,
    /// Payment intent and amounts.
    #[serde(default)]
    pub payment_details: Option<PaymentDetails>,
    /// `OneTime`, `Recurring` or `PaymentMethodOnFile`.
    #[serde(default)]
    pub charge_permission_type: Option<ChargePermissionType>,
    /// Recurring details.
    #[serde(default)]
    pub recurring_metadata: Option<RecurringMetadata>,
    /// Saved Wallet details.
    #[serde(default)]
    pub payment_method_on_file_metadata: Option<PaymentMethodOnFileMetadata>,
    /// Merchant-provided order details.
    #[serde(default)]
    pub merchant_metadata: Option<MerchantMetadata>,
    /// Extra data for Amazon.
    #[serde(default)]
    pub supplementary_data: Option<String>,
    /// The buyer.
    #[serde(default)]
    pub buyer: Option<Buyer>,
    /// The billing address.
    #[serde(default)]
    pub billing_address: Option<Address>,
    /// Where to ship.
    #[serde(default)]
    pub shipping_address: Option<Address>,
    /// The buyer's addresses in a multi-address checkout (absent otherwise); the official
    /// SDKs re-parse entries sent as JSON strings, and so does this one.
    #[serde(default, deserialize_with = "address_list")]
    pub shipping_address_list: Option<Vec<Address>>,
    /// The order type Amazon reports.
    #[serde(default)]
    pub order_type: Option<String>,
    /// Merchant details Amazon reports.
    #[serde(default)]
    pub merchant_details: Option<serde_json::Value>,
    /// The button text the merchant set.
    #[serde(default)]
    pub checkout_button_text: Option<String>,
    /// Tokens Amazon reports.
    #[serde(default)]
    pub tokens: Option<serde_json::Value>,
    /// Finalize Checkout Session: the cart.
    #[serde(default)]
    pub cart_details: Option<serde_json::Value>,
    /// The buyer's payment methods, as descriptors.
    #[serde(default)]
    pub payment_preferences: Option<Vec<PaymentPreference>>,
    /// State, reason and when it last changed.
    #[serde(default)]
    pub status_details: Option<StatusDetails<CheckoutSessionState>>,
    /// What is still missing before the session can complete.
    #[serde(default)]
    pub constraints: Option<Vec<Constraint>>,
    /// The Charge Permission id (`S01-5105180-3221187`).
    #[serde(default)]
    pub charge_permission_id: Option<String>,
    /// The Charge id (`S01-...-C000001`).
    #[serde(default)]
    pub charge_id: Option<String>,
    /// Your store id (`amzn1.application-oa2-client....`).
    #[serde(default)]
    pub store_id: Option<String>,
    /// Solution provider id.
    #[serde(default)]
    pub platform_id: Option<String>,
    /// Payment service provider details.
    #[serde(default)]
    pub provider_metadata: Option<ProviderMetadata>,
    /// Delivery restrictions.
    #[serde(default)]
    pub delivery_specifications: Option<serde_json::Value>,
    /// When it was created (`20190714T155300Z`).
    #[serde(default)]
    pub creation_timestamp: Option<String>,
    /// When it expires (`20190714T155300Z`).
    #[serde(default)]
    pub expiration_timestamp: Option<String>,
    /// `Sandbox` or `Live`.
    #[serde(default)]
    pub release_environment: Option<String>,
}

fn address_list<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Option<Vec<Address>>, D::Error> {
    let values: Option<Vec<serde_json::Value>> = Option::deserialize(deserializer)?;
    let Some(values) = values else { return Ok(None) };
    values
        .into_iter()
        .map(|value| match value {
            serde_json::Value::String(text) => serde_json::from_str(&text).map_err(serde::de::Error::custom),
            other => serde_json::from_value(other).map_err(serde::de::Error::custom),
        })
        .collect::<Result<Vec<_>, _>>()
        .map(Some)
}

/// Create Charge (spec §5.2).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateChargeRequest {
    /// The Chargeable permission to charge.
    pub charge_permission_id: String,
    /// How much.
    pub charge_amount: Price,
    /// Capture right after authorizing (default false).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub capture_now: Option<bool>,
    /// Statement text, only with `capture_now` (at most 16 characters).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub soft_descriptor: Option<String>,
    /// Accept an asynchronous answer (`AuthorizationInitiated`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub can_handle_pending_authorization: Option<bool>,
    /// Order details.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub merchant_metadata: Option<MerchantMetadata>,
    /// PSP details.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub provider_metadata: Option<ProviderMetadata>,
    /// Solution provider id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub platform_id: Option<String>,
    /// Who initiated the charge.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub charge_initiator: Option<ChargeInitiator>,
    /// Where.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub channel: Option<Channel>,
    /// Saved Wallet multi-factor redirect.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub web_checkout_details: Option<WebCheckoutDetails>,
}

impl CreateChargeRequest {
    /// A request with only the required fields.
    pub fn new(charge_permission_id: impl Into<String>, charge_amount: Price) -> CreateChargeRequest {
        CreateChargeRequest {
            charge_permission_id: charge_permission_id.into(),
            charge_amount,
            capture_now: None,
            soft_descriptor: None,
            can_handle_pending_authorization: None,
            merchant_metadata: None,
            provider_metadata: None,
            platform_id: None,
            charge_initiator: None,
            channel: None,
            web_checkout_details: None,
        }
    }
}

/// Capture Charge.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CaptureChargeRequest {
    /// How much; at most the authorized amount.
    pub capture_amount: Price,
    /// Statement text (at most 16 characters).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub soft_descriptor: Option<String>,
}

/// Cancel Charge.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CancelChargeRequest {
    /// Why.
    pub cancellation_reason: String,
}

/// Create Refund.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateRefundRequest {
    /// The captured charge.
    pub charge_id: String,
    /// How much.
    pub refund_amount: Price,
    /// Statement text (at most 16 characters).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub soft_descriptor: Option<String>,
}

/// Update Charge Permission.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UpdateChargePermissionRequest {
    /// Order details (can be changed once).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub merchant_metadata: Option<MerchantMetadata>,
    /// Recurring details (recurring permissions only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recurring_metadata: Option<RecurringMetadata>,
}

/// Close Charge Permission.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CloseChargePermissionRequest {
    /// Why.
    pub closure_reason: String,
    /// Also cancel charges still open.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cancel_pending_charges: Option<bool>,
}

/// Create Checkout Session (spec §5.5).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateCheckoutSessionRequest {
    /// Redirect URLs and checkout mode.
    pub web_checkout_details: WebCheckoutDetails,
    /// Your store id (`amzn1.application-oa2-client....`).
    pub store_id: String,
    /// `OneTime`, `Recurring` or `PaymentMethodOnFile`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub charge_permission_type: Option<ChargePermissionType>,
    /// Recurring details.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recurring_metadata: Option<RecurringMetadata>,
    /// Payment intent and amounts.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub payment_details: Option<PaymentDetails>,
    /// Merchant-provided order details.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub merchant_metadata: Option<MerchantMetadata>,
    /// Buyer details to share (`name`, `email`, ...).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scopes: Option<Vec<String>>,
    /// Saved Wallet details.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub payment_method_on_file_metadata: Option<PaymentMethodOnFileMetadata>,
    /// Solution provider id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub platform_id: Option<String>,
    /// Payment service provider details.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub provider_metadata: Option<ProviderMetadata>,
    /// Delivery restrictions.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delivery_specifications: Option<serde_json::Value>,
    /// An address the merchant already knows.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub address_details: Option<Address>,
}

/// Update Checkout Session.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UpdateCheckoutSessionRequest {
    /// Redirect URLs and checkout mode.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub web_checkout_details: Option<WebCheckoutDetails>,
    /// Payment intent and amounts.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub payment_details: Option<PaymentDetails>,
    /// Merchant-provided order details.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub merchant_metadata: Option<MerchantMetadata>,
    /// Recurring details.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recurring_metadata: Option<RecurringMetadata>,
    /// Solution provider id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub platform_id: Option<String>,
    /// Payment service provider details.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub provider_metadata: Option<ProviderMetadata>,
}

/// Complete Checkout Session.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CompleteCheckoutSessionRequest {
    /// Must equal the session's charge amount.
    pub charge_amount: Price,
    /// The whole order, when charging in parts.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub total_order_amount: Option<Price>,
}

/// Finalize Checkout Session.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FinalizeCheckoutSessionRequest {
    /// Where to ship.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shipping_address: Option<Address>,
    /// The billing address.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub billing_address: Option<Address>,
    /// The amount authorized or to authorize.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub charge_amount: Option<Price>,
    /// The whole order, when charging in parts.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub total_order_amount: Option<Price>,
    /// `Confirm`, `Authorize` or `AuthorizeWithCapture`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub payment_intent: Option<PaymentIntent>,
    /// Accept an asynchronous authorization.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub can_handle_pending_authorization: Option<bool>,
    /// Extra data for Amazon.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub supplementary_data: Option<String>,
}

/// amzpay's sandbox test helper: a Charge Permission as if a buyer completed checkout.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateTestChargePermissionRequest {
    /// Default `OneTime`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub charge_permission_type: Option<ChargePermissionType>,
    /// Required for `OneTime`; its currency is the permission's.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub amount_limit: Option<Price>,
    /// For `Recurring` and `PaymentMethodOnFile` (default: the region's currency).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub currency_code: Option<String>,
    /// Recurring details.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recurring_metadata: Option<RecurringMetadata>,
    /// Order details.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub merchant_metadata: Option<MerchantMetadata>,
    /// Last four digits of a sandbox card (default `1111`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub payment_method: Option<String>,
    /// The buyer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub buyer: Option<Buyer>,
}

/// amzpay's sandbox clock.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
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
pub struct AdvanceClockRequest {
    /// How far.
    pub seconds: u64,
}
