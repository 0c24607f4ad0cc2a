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

pub mod checkout {
    //! The Checkout Session object (spec §5.5).

    use amzpay_domain::Timestamp;
    use amzpay_domain::checkout_session::{Address, CheckoutSession, SessionState};
    use serde::Serialize;

    use super::{
        BuyerOut, MerchantMetadataOut, PaymentPreferenceOut, ProviderMetadataOut, RecurringMetadataOut, StatusDetails,
    };
    use crate::format::{Price, format_timestamp};

    #[derive(Debug, Serialize)]
    #[serde(rename_all = "camelCase")]
    pub struct AddressOut<'a> {
        pub name: Option<&'a str>,
        pub address_line1: Option<&'a str>,
        pub address_line2: Option<&'a str>,
        pub address_line3: Option<&'a str>,
        pub city: Option<&'a str>,
        pub county: Option<&'a str>,
        pub district: Option<&'a str>,
        pub state_or_region: Option<&'a str>,
        pub postal_code: Option<&'a str>,
        pub country_code: Option<&'a str>,
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

    #[derive(Debug, Serialize)]
    #[serde(rename_all = "camelCase")]
    pub struct WebCheckoutDetailsOut<'a> {
        pub checkout_review_return_url: Option<&'a str>,
        pub checkout_result_return_url: Option<&'a str>,
        pub checkout_cancel_url: Option<&'a str>,
        pub amazon_pay_redirect_url: Option<String>,
        pub checkout_mode: Option<&'static str>,
    }

    #[derive(Debug, Serialize)]
    #[serde(rename_all = "camelCase")]
    pub struct PaymentDetailsOut<'a> {
        pub payment_intent: Option<&'static str>,
        pub can_handle_pending_authorization: bool,
        pub charge_amount: Option<Price>,
        pub total_order_amount: Option<Price>,
        pub soft_descriptor: Option<&'a str>,
        pub presentment_currency: Option<&'static str>,
        pub allow_overcharge: Option<bool>,
        pub extend_expiration: Option<bool>,
    }

    #[derive(Debug, Serialize)]
    #[serde(rename_all = "camelCase")]
    pub struct ConstraintOut {
        pub constraint_id: &'static str,
        pub description: &'static str,
    }

    #[derive(Debug, Serialize)]
    #[serde(rename_all = "camelCase")]
    pub struct CheckoutSessionOut<'a> {
        pub checkout_session_id: &'a str,
        pub web_checkout_details: WebCheckoutDetailsOut<'a>,
        pub product_type: Option<&'static str>,
        pub payment_details: PaymentDetailsOut<'a>,
        pub charge_permission_type: &'static str,
        pub recurring_metadata: Option<RecurringMetadataOut>,
        pub payment_method_on_file_metadata: Option<()>,
        pub merchant_metadata: Option<MerchantMetadataOut<'a>>,
        pub supplementary_data: Option<()>,
        pub buyer: Option<BuyerOut<'a>>,
        pub billing_address: Option<AddressOut<'a>>,
        pub payment_preferences: Option<Vec<PaymentPreferenceOut>>,
        pub status_details: StatusDetails<'a>,
        pub shipping_address: Option<AddressOut<'a>>,
        /// As the official SDKs expect: each entry a JSON string they parse again.
        pub shipping_address_list: Option<Vec<String>>,
        pub platform_id: Option<&'a str>,
        pub charge_permission_id: Option<&'a str>,
        pub charge_id: Option<&'a str>,
        pub constraints: Vec<ConstraintOut>,
        pub creation_timestamp: String,
        pub expiration_timestamp: String,
        pub store_id: &'a str,
        pub delivery_specifications: Option<()>,
        pub provider_metadata: ProviderMetadataOut<'a>,
        pub release_environment: &'static str,
    }

    impl<'a> CheckoutSessionOut<'a> {
        /// The session as the merchant sees it; `redirect_url` is where the buyer confirms,
        /// given once nothing is missing.
        pub fn new(s: &'a CheckoutSession, redirect_url: String, _now: Timestamp) -> Self {
            let constraints = s.constraints();
            let ready = s.state == SessionState::Open && constraints.is_empty();
            CheckoutSessionOut {
                checkout_session_id: &s.id,
                web_checkout_details: WebCheckoutDetailsOut {
                    checkout_review_return_url: s.checkout_review_return_url.as_deref(),
                    checkout_result_return_url: s.checkout_result_return_url.as_deref(),
                    checkout_cancel_url: s.checkout_cancel_url.as_deref(),
                    amazon_pay_redirect_url: ready.then_some(redirect_url),
                    checkout_mode: s.process_order.then_some("ProcessOrder"),
                },
                product_type: Some("PayAndShip"),
                payment_details: PaymentDetailsOut {
                    payment_intent: s.payment.payment_intent.map(|i| i.as_str()),
                    can_handle_pending_authorization: s.payment.can_handle_pending_authorization.unwrap_or(false),
                    charge_amount: s.payment.charge_amount.map(Price::from),
                    total_order_amount: s.payment.total_order_amount.map(Price::from),
                    soft_descriptor: s.payment.soft_descriptor.as_ref().map(|d| d.as_str()),
                    presentment_currency: s
                        .payment
                        .presentment_currency
                        .or(s.payment.charge_amount.map(|m| m.currency()))
                        .map(|c| c.code()),
                    allow_overcharge: s.payment.allow_overcharge,
                    extend_expiration: s.payment.extend_expiration,
                },
                charge_permission_type: s.kind.as_str(),
                recurring_metadata: s.recurring_metadata.as_ref().map(Into::into),
                payment_method_on_file_metadata: None,
                merchant_metadata: s.merchant_metadata.as_ref().map(Into::into),
                supplementary_data: None,
                buyer: s.buyer.as_ref().map(Into::into),
                billing_address: s.billing_address.as_ref().map(Into::into),
                payment_preferences: s
                    .payment_method
                    .map(|card| vec![PaymentPreferenceOut { payment_descriptor: card.payment_descriptor() }]),
                status_details: StatusDetails {
                    state: s.state.name(),
                    reason_code: s.state.reason_code(),
                    reason_description: None,
                    last_updated_timestamp: format_timestamp(s.state_updated_at),
                },
                shipping_address: s.shipping_address.as_ref().map(Into::into),
                shipping_address_list: s
                    .shipping_address
                    .as_ref()
                    .map(|a| vec![serde_json::to_string(&AddressOut::from(a)).expect("serializing strings")]),
                platform_id: s.platform_id.as_deref(),
                charge_permission_id: s.charge_permission_id.as_ref().map(|id| id.as_str()),
                charge_id: s.charge_id.as_ref().map(|id| id.as_str()),
                constraints: constraints
                    .into_iter()
                    .map(|c| ConstraintOut { constraint_id: c.as_str(), description: c.description() })
                    .collect(),
                creation_timestamp: format_timestamp(s.created_at),
                expiration_timestamp: format_timestamp(s.expires_at),
                store_id: &s.store_id,
                delivery_specifications: None,
                provider_metadata: ProviderMetadataOut { provider_reference_id: None },
                release_environment: s.environment.release_name(),
            }
        }
    }
}
