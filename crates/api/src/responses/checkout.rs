//! The Checkout Session object (spec §5.5), with exactly the keys, in the order, that
//! Amazon's Node.js SDK tests compare against Amazon's sandbox.

use amzpay_domain::Timestamp;
use amzpay_domain::checkout_session::{CheckoutSession, SessionState};
use serde::Serialize;
use serde_json::value::RawValue;
use utoipa::ToSchema;

use super::{
    AddressOut, BuyerOut, MerchantMetadataOut, PaymentMethodOnFileMetadataOut, PaymentPreferenceOut,
    ProviderMetadataOut, RecurringMetadataOut, StatusDetails, WebCheckoutDetailsOut,
};
use crate::format::{Price, format_timestamp};

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PaymentDetailsOut<'a> {
    #[schema(required)]
    pub payment_intent: Option<&'static str>,
    pub can_handle_pending_authorization: bool,
    #[schema(required)]
    pub charge_amount: Option<Price>,
    #[schema(required)]
    pub total_order_amount: Option<Price>,
    #[schema(required)]
    pub soft_descriptor: Option<&'a str>,
    #[schema(required, value_type = Option<crate::format::CurrencyCode>)]
    pub presentment_currency: Option<&'static str>,
    #[schema(required)]
    pub allow_overcharge: Option<bool>,
    #[schema(required)]
    pub extend_expiration: Option<bool>,
    #[schema(required)]
    pub estimate_order_total: Option<Price>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ConstraintOut {
    pub constraint_id: &'static str,
    pub description: &'static str,
}

/// Which operation answers: Finalize adds `cartDetails` after `paymentDetails`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionView {
    Standard,
    Finalize,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CheckoutSessionOut<'a> {
    pub checkout_session_id: &'a str,
    pub web_checkout_details: WebCheckoutDetailsOut<'a>,
    #[schema(required)]
    pub product_type: Option<&'static str>,
    pub payment_details: PaymentDetailsOut<'a>,
    /// Finalize only: present and `null` (amzpay keeps no cart).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(schema_with = crate::format::always_null)]
    pub cart_details: Option<()>,
    pub charge_permission_type: &'static str,
    #[schema(required)]
    pub order_type: Option<&'static str>,
    #[schema(required)]
    pub recurring_metadata: Option<RecurringMetadataOut>,
    #[schema(required)]
    pub payment_method_on_file_metadata: Option<PaymentMethodOnFileMetadataOut>,
    #[schema(required, schema_with = crate::format::always_null)]
    pub merchant_details: Option<()>,
    #[schema(required)]
    pub merchant_metadata: Option<MerchantMetadataOut<'a>>,
    #[schema(required)]
    pub supplementary_data: Option<&'a str>,
    #[schema(required)]
    pub buyer: Option<BuyerOut<'a>>,
    #[schema(required)]
    pub billing_address: Option<AddressOut<'a>>,
    #[schema(required)]
    pub payment_preferences: Option<Vec<PaymentPreferenceOut>>,
    pub status_details: StatusDetails<'a>,
    #[schema(required)]
    pub shipping_address: Option<AddressOut<'a>>,
    #[schema(required)]
    pub platform_id: Option<&'a str>,
    #[schema(required)]
    pub charge_permission_id: Option<&'a str>,
    #[schema(required)]
    pub charge_id: Option<&'a str>,
    pub constraints: Vec<ConstraintOut>,
    pub creation_timestamp: String,
    pub expiration_timestamp: String,
    pub store_id: &'a str,
    pub provider_metadata: ProviderMetadataOut<'a>,
    pub release_environment: &'static str,
    #[schema(required)]
    pub checkout_button_text: Option<&'a str>,
    /// Echoed exactly as the merchant sent it.
    #[schema(required, value_type = Option<crate::requests::checkout::DeliverySpecificationsIn>)]
    pub delivery_specifications: Option<&'a RawValue>,
    #[schema(required, schema_with = crate::format::always_null)]
    pub tokens: Option<()>,
}

impl<'a> CheckoutSessionOut<'a> {
    /// The session as the merchant sees it; `redirect_url` is where the buyer confirms,
    /// given once nothing is missing. There is no `shippingAddressList`: Amazon sends it
    /// for multi-address checkouts only, and the official .NET SDK fails on a `null` one.
    pub fn new(s: &'a CheckoutSession, redirect_url: String, _now: Timestamp, view: SessionView) -> Self {
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
                estimate_order_total: s.payment.estimate_order_total.map(Price::from),
            },
            cart_details: (view == SessionView::Finalize).then_some(()),
            charge_permission_type: s.kind.as_str(),
            order_type: None,
            recurring_metadata: s.recurring_metadata.as_ref().map(Into::into),
            payment_method_on_file_metadata: s
                .setup_only
                .map(|setup_only| PaymentMethodOnFileMetadataOut { setup_only }),
            merchant_details: None,
            merchant_metadata: s.merchant_metadata.as_ref().map(Into::into),
            supplementary_data: s.supplementary_data.as_deref(),
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
            provider_metadata: ProviderMetadataOut { provider_reference_id: s.provider_reference_id.as_deref() },
            release_environment: s.environment.release_name(),
            checkout_button_text: s.checkout_button_text.as_deref(),
            // The wire layer validated it when it arrived; stored text that no longer parses
            // would be a bug, shown as null rather than as a broken document.
            delivery_specifications: s
                .delivery_specifications
                .as_ref()
                .and_then(|d| serde_json::from_str::<&RawValue>(d.as_str()).ok()),
            tokens: None,
        }
    }
}
