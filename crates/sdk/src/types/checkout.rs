//! Checkout Sessions (spec §5.5): the session object, its states, constraints and payment
//! details, and the bodies of Create, Update, Complete and Finalize Checkout Session.
//!
//! Only shapes live here: no path, no HTTP, and no check that Amazon makes itself.

use serde::{Deserialize, Serialize};

use super::charge_permission::ChargePermissionType;
use super::common::{
    Address, Buyer, MerchantMetadata, PaymentMethodOnFileMetadata, PaymentPreference, ProviderMetadata,
    RecurringMetadata, StatusDetails, WebCheckoutDetails,
};
use crate::ids::{ChargeId, ChargePermissionId, CheckoutSessionId};
use crate::price::Price;

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

wire_object! {
    /// Payment details of a Checkout Session.
    ///
    /// ```
    /// use amzpay_sdk::*;
    /// let details = PaymentDetails::default()
    ///     .payment_intent(PaymentIntent::Authorize)
    ///     .charge_amount(Price::parse("14.00", Currency::Usd).unwrap());
    /// assert_eq!(details.payment_intent, Some(PaymentIntent::Authorize));
    /// ```
    #[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct PaymentDetails {}
    optional {
        /// `Confirm`, `Authorize` or `AuthorizeWithCapture`.
        payment_intent: PaymentIntent,
        /// Accept an asynchronous authorization.
        can_handle_pending_authorization: bool,
        /// The amount authorized or to authorize.
        charge_amount: Price,
        /// The whole order, when charging in parts.
        total_order_amount: Price,
        /// Text on the buyer's statement (at most 16 characters).
        soft_descriptor: String,
        /// The currency the buyer pays in.
        presentment_currency: String,
        /// Allow charging more than the order amount.
        allow_overcharge: bool,
        /// Keep a one-time permission for 13 months instead of 180 days.
        extend_expiration: bool,
        /// The merchant's estimate of the order total.
        estimate_order_total: Price,
    }
}

/// Something still missing before a Checkout Session can complete.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
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
#[non_exhaustive]
pub struct CheckoutSession {
    /// The Checkout Session id (a UUID).
    pub checkout_session_id: CheckoutSessionId,
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
    /// The Charge Permission id (`S01-5105180-3221187`), once completed.
    #[serde(default, with = "crate::ids::optional_amazon_id")]
    pub charge_permission_id: Option<ChargePermissionId>,
    /// The Charge id (`S01-...-C000001`), once completed with an authorization.
    #[serde(default, with = "crate::ids::optional_amazon_id")]
    pub charge_id: Option<ChargeId>,
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

wire_object! {
    /// Create Checkout Session (spec §5.5).
    ///
    /// ```
    /// use amzpay_sdk::*;
    /// let request = CreateCheckoutSessionRequest::new(
    ///     "amzn1.application-oa2-client.0123456789abcdef0123456789abcdef",
    ///     WebCheckoutDetails::default().checkout_review_return_url("https://shop.example/review"),
    /// )
    /// .scopes(vec!["name".to_owned(), "email".to_owned()]);
    /// assert!(serde_json::to_string(&request).unwrap().contains(r#""scopes":["name","email"]"#));
    /// ```
    #[derive(Debug, Clone, PartialEq, Serialize)]
    #[serde(rename_all = "camelCase")]
    pub struct CreateCheckoutSessionRequest {
        /// Redirect URLs and checkout mode.
        pub web_checkout_details: WebCheckoutDetails,
        /// Your store id (`amzn1.application-oa2-client....`).
        pub store_id: String,
    }
    optional {
        /// `OneTime`, `Recurring` or `PaymentMethodOnFile`.
        charge_permission_type: ChargePermissionType,
        /// Recurring details.
        recurring_metadata: RecurringMetadata,
        /// Payment intent and amounts.
        payment_details: PaymentDetails,
        /// Merchant-provided order details.
        merchant_metadata: MerchantMetadata,
        /// Buyer details to share (`name`, `email`, ...).
        scopes: Vec<String>,
        /// Saved Wallet details.
        payment_method_on_file_metadata: PaymentMethodOnFileMetadata,
        /// Solution provider id.
        platform_id: String,
        /// Payment service provider details.
        provider_metadata: ProviderMetadata,
        /// Delivery restrictions.
        delivery_specifications: serde_json::Value,
        /// An address the merchant already knows.
        address_details: Address,
    }
}

impl CreateCheckoutSessionRequest {
    /// A session for this store with these return URLs.
    pub fn new(store_id: impl Into<String>, web_checkout_details: WebCheckoutDetails) -> CreateCheckoutSessionRequest {
        CreateCheckoutSessionRequest {
            web_checkout_details,
            store_id: store_id.into(),
            charge_permission_type: None,
            recurring_metadata: None,
            payment_details: None,
            merchant_metadata: None,
            scopes: None,
            payment_method_on_file_metadata: None,
            platform_id: None,
            provider_metadata: None,
            delivery_specifications: None,
            address_details: None,
        }
    }
}

wire_object! {
    /// Update Checkout Session.
    #[derive(Debug, Clone, Default, PartialEq, Serialize)]
    #[serde(rename_all = "camelCase")]
    pub struct UpdateCheckoutSessionRequest {}
    optional {
        /// Redirect URLs and checkout mode.
        web_checkout_details: WebCheckoutDetails,
        /// Payment intent and amounts.
        payment_details: PaymentDetails,
        /// Merchant-provided order details.
        merchant_metadata: MerchantMetadata,
        /// Recurring details.
        recurring_metadata: RecurringMetadata,
        /// Solution provider id.
        platform_id: String,
        /// Payment service provider details.
        provider_metadata: ProviderMetadata,
    }
}

wire_object! {
    /// Complete Checkout Session.
    #[derive(Debug, Clone, PartialEq, Serialize)]
    #[serde(rename_all = "camelCase")]
    pub struct CompleteCheckoutSessionRequest {
        /// Must equal the session's charge amount.
        pub charge_amount: Price,
    }
    optional {
        /// The whole order, when charging in parts.
        total_order_amount: Price,
    }
}

impl CompleteCheckoutSessionRequest {
    /// Completes for `charge_amount`, the session's charge amount.
    pub fn new(charge_amount: Price) -> CompleteCheckoutSessionRequest {
        CompleteCheckoutSessionRequest { charge_amount, total_order_amount: None }
    }
}

wire_object! {
    /// Finalize Checkout Session.
    #[derive(Debug, Clone, Default, PartialEq, Serialize)]
    #[serde(rename_all = "camelCase")]
    pub struct FinalizeCheckoutSessionRequest {}
    optional {
        /// Where to ship.
        shipping_address: Address,
        /// The billing address.
        billing_address: Address,
        /// The amount authorized or to authorize.
        charge_amount: Price,
        /// The whole order, when charging in parts.
        total_order_amount: Price,
        /// `Confirm`, `Authorize` or `AuthorizeWithCapture`.
        payment_intent: PaymentIntent,
        /// Accept an asynchronous authorization.
        can_handle_pending_authorization: bool,
        /// Extra data for Amazon.
        supplementary_data: String,
    }
}
