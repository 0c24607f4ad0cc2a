//! What several objects share: `statusDetails`, merchant and provider metadata, recurring
//! and Saved Wallet details, the buyer, addresses, payment descriptors, the checkout return
//! URLs, and the readers of values Amazon sends as a string or a number.
//!
//! Only shapes live here, with no IO and no rule Amazon checks itself; an object that one
//! operation alone uses lives with that operation, not here.

use serde::{Deserialize, Serialize};

use crate::price::Price;

/// `statusDetails` of a Charge, Refund or Checkout Session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
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

wire_object! {
    /// Merchant-provided order details.
    ///
    /// ```
    /// let metadata = amzpay_sdk::MerchantMetadata::default().merchant_reference_id("order-42");
    /// assert_eq!(metadata.merchant_reference_id.as_deref(), Some("order-42"));
    /// ```
    #[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct MerchantMetadata {}
    optional {
        /// Your order id (at most 256 characters).
        merchant_reference_id: String,
        /// Your store's name (at most 50).
        merchant_store_name: String,
        /// A note shown to the buyer (at most 255).
        note_to_buyer: String,
        /// Anything else (at most 4,096).
        custom_information: String,
    }
}

wire_object! {
    /// Payment service provider details (PSPs only).
    #[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct ProviderMetadata {}
    optional {
        /// The PSP's order id.
        provider_reference_id: String,
    }
}

/// How often a recurring permission is charged.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Frequency {
    /// `Year`, `Month`, `Week`, `Day` or `Variable`.
    pub unit: String,
    /// How many units; Amazon sends a string.
    #[serde(with = "string_or_number")]
    pub value: String,
}

impl Frequency {
    /// Every `value` `unit`s, e.g. `Frequency::new("Month", "1")`.
    pub fn new(unit: impl Into<String>, value: impl Into<String>) -> Frequency {
        Frequency { unit: unit.into(), value: value.into() }
    }
}

/// Reads a value Amazon sends as a string or a number into its text.
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

/// Like `string_or_number`, for an optional field.
pub(crate) fn text_or_number<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Option<String>, D::Error> {
    let value: Option<serde_json::Value> = Option::deserialize(deserializer)?;
    match value {
        None | Some(serde_json::Value::Null) => Ok(None),
        Some(serde_json::Value::String(text)) => Ok(Some(text)),
        Some(serde_json::Value::Number(number)) => Ok(Some(number.to_string())),
        Some(other) => Err(serde::de::Error::custom(format!("expected a string or a number, found {other}"))),
    }
}

wire_object! {
    /// Recurring details.
    #[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct RecurringMetadata {}
    optional {
        /// How often.
        frequency: Frequency,
        /// How much each time.
        amount: Price,
    }
}

wire_object! {
    /// Saved Wallet setup details.
    #[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct PaymentMethodOnFileMetadata {}
    optional {
        /// Set up the wallet without charging.
        setup_only: bool,
    }
}

wire_object! {
    /// The buyer.
    #[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct Buyer {}
    optional {
        /// Amazon's id of the buyer.
        buyer_id: String,
        /// Name.
        name: String,
        /// Email.
        email: String,
        /// Phone number.
        phone_number: String,
        /// Prime memberships.
        prime_membership_types: Vec<String>,
    }
}

wire_object! {
    /// A postal address.
    #[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct Address {}
    optional {
        /// Name of the addressee.
        name: String,
        /// First address line.
        address_line1: String,
        /// Second address line.
        address_line2: String,
        /// Third address line.
        address_line3: String,
        /// City.
        city: String,
        /// County.
        county: String,
        /// District.
        district: String,
        /// State or region.
        state_or_region: String,
        /// Postal code.
        postal_code: String,
        /// ISO 3166 country code.
        country_code: String,
        /// Phone number.
        phone_number: String,
    }
}

/// A payment method as shown to the merchant.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct PaymentPreference {
    /// E.g. `Visa ****1111`.
    #[serde(default)]
    pub payment_descriptor: Option<String>,
}

wire_object! {
    /// Redirect URLs and checkout mode of a Checkout Session, or of a Saved Wallet charge
    /// that needs the buyer.
    ///
    /// ```
    /// let details = amzpay_sdk::WebCheckoutDetails::default().checkout_review_return_url("https://shop.example/review");
    /// assert_eq!(serde_json::to_string(&details).unwrap(), r#"{"checkoutReviewReturnUrl":"https://shop.example/review"}"#);
    /// ```
    #[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct WebCheckoutDetails {}
    optional {
        /// Where the buyer returns after signing in and choosing a payment method.
        checkout_review_return_url: String,
        /// Where the buyer returns after confirming.
        checkout_result_return_url: String,
        /// Where the buyer goes on canceling.
        checkout_cancel_url: String,
        /// Set by Amazon once the session is ready.
        amazon_pay_redirect_url: String,
        /// `ProcessOrder` to skip the review page.
        checkout_mode: String,
    }
}
