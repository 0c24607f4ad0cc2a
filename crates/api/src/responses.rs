//! Response objects, in Amazon's field order, with Amazon's nulls (spec §5).

use amzpay_domain::metadata::{Buyer, MerchantMetadata, RecurringMetadata};
use amzpay_domain::{Charge, ChargePermission, PermissionState, Refund, Timestamp};
use serde::Serialize;

use crate::format::{Price, format_timestamp};

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MerchantMetadataOut<'a> {
    pub merchant_reference_id: Option<&'a str>,
    pub merchant_store_name: Option<&'a str>,
    pub note_to_buyer: Option<&'a str>,
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

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ProviderMetadataOut<'a> {
    pub provider_reference_id: Option<&'a str>,
}

/// Status of a Charge, Refund or Checkout Session.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StatusDetails<'a> {
    pub state: &'static str,
    pub reason_code: Option<&'static str>,
    pub reason_description: Option<&'a str>,
    pub last_updated_timestamp: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ChargeOut<'a> {
    pub charge_id: &'a str,
    pub charge_permission_id: &'a str,
    pub charge_amount: Price,
    pub capture_amount: Option<Price>,
    pub refunded_amount: Price,
    pub converted_amount: Option<String>,
    pub conversion_rate: Option<&'static str>,
    pub soft_descriptor: Option<&'a str>,
    pub merchant_metadata: Option<MerchantMetadataOut<'a>>,
    pub provider_metadata: ProviderMetadataOut<'a>,
    pub platform_id: Option<&'a str>,
    pub charge_initiator: Option<&'static str>,
    pub channel: Option<&'static str>,
    pub status_details: StatusDetails<'a>,
    pub creation_timestamp: String,
    pub expiration_timestamp: String,
    pub release_environment: &'static str,
}

impl<'a> From<&'a Charge> for ChargeOut<'a> {
    fn from(c: &'a Charge) -> Self {
        let captured = c.capture_amount.filter(|_| c.state == amzpay_domain::ChargeState::Captured);
        ChargeOut {
            charge_id: c.id.as_str(),
            charge_permission_id: c.permission_id.as_str(),
            charge_amount: c.amount.into(),
            capture_amount: c.capture_amount.map(Price::from),
            refunded_amount: c.refunded.into(),
            // Amazon converts captured amounts into the ledger currency; amzpay charges in the
            // ledger or presentment currency at a rate of one (docs/defaults.md).
            converted_amount: captured.map(|m| m.to_decimal_string()),
            conversion_rate: captured.map(|_| "1.00"),
            soft_descriptor: c.soft_descriptor.as_ref().map(|s| s.as_str()),
            merchant_metadata: c.merchant_metadata.as_ref().map(Into::into),
            provider_metadata: ProviderMetadataOut { provider_reference_id: c.provider_reference_id.as_deref() },
            platform_id: c.platform_id.as_deref(),
            charge_initiator: c.charge_initiator.map(|i| i.as_str()),
            channel: c.channel.map(|ch| ch.as_str()),
            status_details: StatusDetails {
                state: c.state.name(),
                reason_code: c.state.reason_code(),
                reason_description: c.reason_description.as_deref(),
                last_updated_timestamp: format_timestamp(c.state_updated_at),
            },
            creation_timestamp: format_timestamp(c.created_at),
            expiration_timestamp: format_timestamp(c.expires_at),
            release_environment: c.environment.release_name(),
        }
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RefundOut<'a> {
    pub refund_id: &'a str,
    pub charge_id: &'a str,
    pub refund_amount: Price,
    pub soft_descriptor: Option<&'a str>,
    pub creation_timestamp: String,
    pub status_details: StatusDetails<'a>,
    pub release_environment: &'static str,
}

impl<'a> From<&'a Refund> for RefundOut<'a> {
    fn from(r: &'a Refund) -> Self {
        RefundOut {
            refund_id: r.id.as_str(),
            charge_id: r.charge_id.as_str(),
            refund_amount: r.amount.into(),
            soft_descriptor: r.soft_descriptor.as_ref().map(|s| s.as_str()),
            creation_timestamp: format_timestamp(r.created_at),
            status_details: StatusDetails {
                state: r.state.name(),
                reason_code: r.state.reason_code(),
                reason_description: None,
                last_updated_timestamp: format_timestamp(r.state_updated_at),
            },
            release_environment: r.environment.release_name(),
        }
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FrequencyOut {
    pub unit: &'static str,
    pub value: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RecurringMetadataOut {
    pub frequency: Option<FrequencyOut>,
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

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LimitsOut {
    pub amount_limit: Price,
    pub amount_balance: Price,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BuyerOut<'a> {
    pub buyer_id: &'a str,
    pub name: &'a str,
    pub email: &'a str,
    pub phone_number: Option<&'a str>,
    pub prime_membership_types: Option<Vec<String>>,
}

impl<'a> From<&'a Buyer> for BuyerOut<'a> {
    fn from(b: &'a Buyer) -> Self {
        BuyerOut {
            buyer_id: &b.buyer_id,
            name: &b.name,
            email: &b.email,
            phone_number: b.phone_number.as_deref(),
            prime_membership_types: None,
        }
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PaymentPreferenceOut {
    pub payment_descriptor: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PermissionReasonOut<'a> {
    pub reason_code: &'static str,
    pub reason_description: Option<&'a str>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PermissionStatusDetails<'a> {
    pub state: &'static str,
    pub reasons: Option<Vec<PermissionReasonOut<'a>>>,
    pub last_updated_timestamp: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ChargePermissionOut<'a> {
    pub charge_permission_id: &'a str,
    pub charge_permission_reference_id: Option<&'a str>,
    pub charge_permission_type: &'static str,
    pub recurring_metadata: Option<RecurringMetadataOut>,
    pub limits: LimitsOut,
    pub buyer: Option<BuyerOut<'a>>,
    pub shipping_address: Option<()>,
    pub billing_address: Option<()>,
    pub payment_preferences: Vec<PaymentPreferenceOut>,
    pub merchant_metadata: Option<MerchantMetadataOut<'a>>,
    pub platform_id: Option<&'a str>,
    pub presentment_currency: &'static str,
    pub status_details: PermissionStatusDetails<'a>,
    pub creation_timestamp: String,
    pub expiration_timestamp: Option<String>,
    pub release_environment: &'static str,
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
        ChargePermissionOut {
            charge_permission_id: p.id.as_str(),
            charge_permission_reference_id: None,
            charge_permission_type: p.kind.as_str(),
            recurring_metadata: p.recurring_metadata.as_ref().map(Into::into),
            limits: LimitsOut { amount_limit: p.amount_limit.into(), amount_balance: p.amount_balance().into() },
            buyer: p.buyer.as_ref().filter(|_| p.buyer_visible(now)).map(Into::into),
            shipping_address: None,
            billing_address: None,
            payment_preferences: vec![PaymentPreferenceOut {
                payment_descriptor: p.payment_method.payment_descriptor(),
            }],
            merchant_metadata: p.merchant_metadata.as_ref().map(Into::into),
            platform_id: p.platform_id.as_deref(),
            presentment_currency: p.currency.code(),
            status_details: PermissionStatusDetails {
                state: p.state.name(),
                reasons,
                last_updated_timestamp: format_timestamp(p.state_updated_at),
            },
            creation_timestamp: format_timestamp(p.created_at),
            expiration_timestamp: p.expires_at.map(format_timestamp),
            release_environment: p.environment.release_name(),
        }
    }
}

/// Serializes a response object.
pub fn to_json<T: Serialize>(value: &T) -> Vec<u8> {
    serde_json::to_vec(value).expect("response objects serialize")
}
