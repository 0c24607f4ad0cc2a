//! Response objects, in Amazon's field order, with Amazon's nulls (spec §5).

use amzpay_domain::metadata::{Address, Buyer, MerchantMetadata, RecurringMetadata};
use amzpay_domain::{Charge, ChargePermission, PermissionState, PermissionType, Refund, Timestamp};
use serde::Serialize;
use utoipa::ToSchema;

use crate::format::{Price, format_timestamp};

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MerchantMetadataOut<'a> {
    #[schema(required)]
    pub merchant_reference_id: Option<&'a str>,
    #[schema(required)]
    pub merchant_store_name: Option<&'a str>,
    #[schema(required)]
    pub note_to_buyer: Option<&'a str>,
    #[schema(required)]
    pub custom_information: Option<&'a str>,
}

impl<'a> From<&'a MerchantMetadata> for MerchantMetadataOut<'a> {
    fn from(m: &'a MerchantMetadata) -> Self {
        MerchantMetadataOut {
            merchant_reference_id: m.merchant_reference_id.as_deref(),
            merchant_store_name: m.merchant_store_name.as_deref(),
            note_to_buyer: m.note_to_buyer.as_deref(),
            custom_information: m.custom_information.as_deref(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ProviderMetadataOut<'a> {
    #[schema(required)]
    pub provider_reference_id: Option<&'a str>,
}

/// Status of a Charge, Refund or Checkout Session.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct StatusDetails<'a> {
    pub state: &'static str,
    #[schema(required)]
    pub reason_code: Option<&'static str>,
    #[schema(required)]
    pub reason_description: Option<&'a str>,
    pub last_updated_timestamp: String,
}

/// `webCheckoutDetails` of a Charge or a Checkout Session.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct WebCheckoutDetailsOut<'a> {
    #[schema(required)]
    pub checkout_review_return_url: Option<&'a str>,
    #[schema(required)]
    pub checkout_result_return_url: Option<&'a str>,
    #[schema(required)]
    pub checkout_cancel_url: Option<&'a str>,
    #[schema(required)]
    pub amazon_pay_redirect_url: Option<String>,
    #[schema(required)]
    pub checkout_mode: Option<&'static str>,
}

/// A Charge, with its keys in the order Amazon's own SDK tests expect (spec §5.2).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ChargeOut<'a> {
    pub charge_id: &'a str,
    pub charge_amount: Price,
    pub charge_permission_id: &'a str,
    #[schema(required)]
    pub capture_amount: Option<Price>,
    pub refunded_amount: Price,
    #[schema(required)]
    pub soft_descriptor: Option<&'a str>,
    pub provider_metadata: ProviderMetadataOut<'a>,
    /// A Price (seed 003; the official .NET SDK reads it as one), not a bare string.
    #[schema(required)]
    pub converted_amount: Option<Price>,
    #[schema(required)]
    pub conversion_rate: Option<&'static str>,
    #[schema(required)]
    pub channel: Option<&'static str>,
    #[schema(required)]
    pub charge_initiator: Option<&'static str>,
    pub status_details: StatusDetails<'a>,
    pub creation_timestamp: String,
    pub expiration_timestamp: String,
    pub release_environment: &'static str,
    #[schema(required)]
    pub merchant_metadata: Option<MerchantMetadataOut<'a>>,
    #[schema(required)]
    pub platform_id: Option<&'a str>,
    #[schema(required)]
    pub web_checkout_details: Option<WebCheckoutDetailsOut<'a>>,
}

impl<'a> From<&'a Charge> for ChargeOut<'a> {
    fn from(c: &'a Charge) -> Self {
        let captured = c.capture_amount.filter(|_| c.state == amzpay_domain::ChargeState::Captured);
        ChargeOut {
            charge_id: c.id.as_str(),
            charge_amount: c.amount.into(),
            charge_permission_id: c.permission_id.as_str(),
            capture_amount: c.capture_amount.map(Price::from),
            refunded_amount: c.refunded.into(),
            soft_descriptor: c.soft_descriptor.as_ref().map(|s| s.as_str()),
            provider_metadata: ProviderMetadataOut { provider_reference_id: c.provider_reference_id.as_deref() },
            // Amazon converts captured amounts into the ledger currency; amzpay charges in the
            // ledger or presentment currency at a rate of one (docs/defaults.md).
            converted_amount: captured.map(Price::from),
            conversion_rate: captured.map(|_| "1.00"),
            channel: c.channel.map(|ch| ch.as_str()),
            charge_initiator: c.charge_initiator.map(|i| i.as_str()),
            status_details: StatusDetails {
                state: c.state.name(),
                reason_code: c.status_reason_code(),
                reason_description: c.reason_description.as_deref(),
                last_updated_timestamp: format_timestamp(c.state_updated_at),
            },
            creation_timestamp: format_timestamp(c.created_at),
            expiration_timestamp: format_timestamp(c.expires_at),
            release_environment: c.environment.release_name(),
            merchant_metadata: c.merchant_metadata.as_ref().map(Into::into),
            platform_id: c.platform_id.as_deref(),
            web_checkout_details: c.web_checkout_details.as_ref().map(|w| WebCheckoutDetailsOut {
                checkout_review_return_url: w.checkout_review_return_url.as_deref(),
                checkout_result_return_url: w.checkout_result_return_url.as_deref(),
                checkout_cancel_url: w.checkout_cancel_url.as_deref(),
                amazon_pay_redirect_url: None,
                checkout_mode: None,
            }),
        }
    }
}

/// A Refund, keys in the order Amazon's Node.js SDK tests expect (spec §5.4).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RefundOut<'a> {
    pub refund_id: &'a str,
    pub charge_id: &'a str,
    pub creation_timestamp: String,
    pub refund_amount: Price,
    pub status_details: StatusDetails<'a>,
    #[schema(required)]
    pub soft_descriptor: Option<&'a str>,
    pub release_environment: &'static str,
}

impl<'a> From<&'a Refund> for RefundOut<'a> {
    fn from(r: &'a Refund) -> Self {
        RefundOut {
            refund_id: r.id.as_str(),
            charge_id: r.charge_id.as_str(),
            creation_timestamp: format_timestamp(r.created_at),
            refund_amount: r.amount.into(),
            status_details: StatusDetails {
                state: r.state.name(),
                reason_code: r.state.reason_code(),
                reason_description: None,
                last_updated_timestamp: format_timestamp(r.state_updated_at),
            },
            soft_descriptor: r.soft_descriptor.as_ref().map(|s| s.as_str()),
            release_environment: r.environment.release_name(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct FrequencyOut {
    pub unit: &'static str,
    pub value: String,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RecurringMetadataOut {
    #[schema(required)]
    pub frequency: Option<FrequencyOut>,
    #[schema(required)]
    pub amount: Option<Price>,
}

impl From<&RecurringMetadata> for RecurringMetadataOut {
    fn from(m: &RecurringMetadata) -> Self {
        RecurringMetadataOut {
            frequency: m.frequency.map(|(unit, value)| FrequencyOut { unit: unit.as_str(), value: value.to_string() }),
            amount: m.amount.map(Price::from),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LimitsOut {
    pub amount_limit: Price,
    pub amount_balance: Price,
}

/// The buyer, keys in the order of Amazon's responses in the official .NET SDK's tests.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BuyerOut<'a> {
    pub name: &'a str,
    pub email: &'a str,
    pub buyer_id: &'a str,
    #[schema(required)]
    pub prime_membership_types: Option<Vec<String>>,
    #[schema(required)]
    pub phone_number: Option<&'a str>,
}

impl<'a> From<&'a Buyer> for BuyerOut<'a> {
    fn from(b: &'a Buyer) -> Self {
        BuyerOut {
            name: &b.name,
            email: &b.email,
            buyer_id: &b.buyer_id,
            prime_membership_types: None,
            phone_number: b.phone_number.as_deref(),
        }
    }
}

/// A postal address, keys in Amazon's order.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AddressOut<'a> {
    #[schema(required)]
    pub name: Option<&'a str>,
    #[schema(required)]
    pub address_line1: Option<&'a str>,
    #[schema(required)]
    pub address_line2: Option<&'a str>,
    #[schema(required)]
    pub address_line3: Option<&'a str>,
    #[schema(required)]
    pub city: Option<&'a str>,
    #[schema(required)]
    pub county: Option<&'a str>,
    #[schema(required)]
    pub district: Option<&'a str>,
    #[schema(required)]
    pub state_or_region: Option<&'a str>,
    #[schema(required)]
    pub postal_code: Option<&'a str>,
    #[schema(required)]
    pub country_code: Option<&'a str>,
    #[schema(required)]
    pub phone_number: Option<&'a str>,
}

impl<'a> From<&'a Address> for AddressOut<'a> {
    fn from(a: &'a Address) -> Self {
        AddressOut {
            name: a.name.as_deref(),
            address_line1: a.address_line1.as_deref(),
            address_line2: a.address_line2.as_deref(),
            address_line3: a.address_line3.as_deref(),
            city: a.city.as_deref(),
            county: a.county.as_deref(),
            district: a.district.as_deref(),
            state_or_region: a.state_or_region.as_deref(),
            postal_code: a.postal_code.as_deref(),
            country_code: a.country_code.as_deref(),
            phone_number: a.phone_number.as_deref(),
        }
    }
}

/// `paymentMethodOnFileMetadata` (Saved Wallet).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PaymentMethodOnFileMetadataOut {
    pub setup_only: bool,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PaymentPreferenceOut {
    pub payment_descriptor: String,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PermissionReasonOut<'a> {
    pub reason_code: &'static str,
    #[schema(required)]
    pub reason_description: Option<&'a str>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PermissionStatusDetails<'a> {
    pub state: &'static str,
    #[schema(required)]
    pub reasons: Option<Vec<PermissionReasonOut<'a>>>,
    pub last_updated_timestamp: String,
}

/// A Charge Permission, keys in the order Amazon's Node.js SDK tests expect (spec §5.3);
/// a Saved Wallet also carries `paymentMethodOnFileMetadata` after `expirationTimestamp`, as
/// in Amazon's responses in the official .NET SDK's tests.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ChargePermissionOut<'a> {
    pub charge_permission_id: &'a str,
    #[schema(required)]
    pub charge_permission_reference_id: Option<&'a str>,
    #[schema(required)]
    pub platform_id: Option<&'a str>,
    #[schema(required)]
    pub buyer: Option<BuyerOut<'a>>,
    #[schema(required)]
    pub shipping_address: Option<AddressOut<'a>>,
    #[schema(required)]
    pub billing_address: Option<AddressOut<'a>>,
    pub payment_preferences: Vec<PaymentPreferenceOut>,
    pub status_details: PermissionStatusDetails<'a>,
    pub creation_timestamp: String,
    #[schema(required)]
    pub expiration_timestamp: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub payment_method_on_file_metadata: Option<Option<PaymentMethodOnFileMetadataOut>>,
    #[schema(required)]
    pub merchant_metadata: Option<MerchantMetadataOut<'a>>,
    pub release_environment: &'static str,
    pub limits: LimitsOut,
    pub charge_permission_type: &'static str,
    #[schema(required)]
    pub recurring_metadata: Option<RecurringMetadataOut>,
    #[schema(value_type = crate::format::CurrencyCode)]
    pub presentment_currency: &'static str,
}

impl<'a> ChargePermissionOut<'a> {
    /// The permission as the merchant sees it at `now` (buyer details fade, spec §5.3).
    pub fn new(p: &'a ChargePermission, now: Timestamp) -> Self {
        let reasons = match &p.state {
            PermissionState::Chargeable => None,
            PermissionState::NonChargeable(reason) => {
                Some(vec![PermissionReasonOut { reason_code: reason.as_str(), reason_description: None }])
            }
            PermissionState::Closed { reason: None, .. } => None,
            PermissionState::Closed { reason: Some(reason), description } => Some(vec![PermissionReasonOut {
                reason_code: reason.as_str(),
                reason_description: description.as_deref(),
            }]),
        };
        let visible = p.buyer_visible(now);
        ChargePermissionOut {
            charge_permission_id: p.id.as_str(),
            charge_permission_reference_id: None,
            platform_id: p.platform_id.as_deref(),
            buyer: p.buyer.as_ref().filter(|_| visible).map(Into::into),
            shipping_address: p.shipping_address.as_ref().filter(|_| visible).map(Into::into),
            billing_address: p.billing_address.as_ref().filter(|_| visible).map(Into::into),
            payment_preferences: vec![PaymentPreferenceOut {
                payment_descriptor: p.payment_method.payment_descriptor(),
            }],
            status_details: PermissionStatusDetails {
                state: p.state.name(),
                reasons,
                last_updated_timestamp: format_timestamp(p.state_updated_at),
            },
            creation_timestamp: format_timestamp(p.created_at),
            expiration_timestamp: p.expires_at.map(format_timestamp),
            payment_method_on_file_metadata: (p.kind == PermissionType::PaymentMethodOnFile)
                .then(|| p.setup_only.map(|setup_only| PaymentMethodOnFileMetadataOut { setup_only })),
            merchant_metadata: p.merchant_metadata.as_ref().map(Into::into),
            release_environment: p.environment.release_name(),
            limits: LimitsOut { amount_limit: p.amount_limit.into(), amount_balance: p.amount_balance().into() },
            charge_permission_type: p.kind.as_str(),
            recurring_metadata: p.recurring_metadata.as_ref().map(Into::into),
            presentment_currency: p.currency.code(),
        }
    }
}

/// The sandbox clock test helpers' answer: `{"now": "20240101T120000Z", "frozen": false}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct ClockOut {
    pub now: String,
    pub frozen: bool,
}

/// The confirm test helper's answer: where the buyer returns to, `null` when the session has
/// no `checkoutResultReturnUrl`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ConfirmOut {
    #[schema(required)]
    pub redirect_url: Option<String>,
}

/// Serializes a response object.
pub fn to_json<T: Serialize>(value: &T) -> Vec<u8> {
    serde_json::to_vec(value).expect("response objects serialize")
}

pub mod checkout;
