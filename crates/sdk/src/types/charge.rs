//! Charges (spec §5.2): the Charge object, its states, and the bodies of Create Charge,
//! Capture Charge and Cancel Charge.
//!
//! Only shapes live here: which path and method an operation uses is the client's, and no
//! rule about amounts or states is checked here (Amazon checks them and answers).

use serde::{Deserialize, Serialize};

use super::common::{MerchantMetadata, ProviderMetadata, StatusDetails, WebCheckoutDetails, text_or_number};
use crate::ids::{ChargeId, ChargePermissionId};
use crate::price::Price;

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

/// A Charge (spec §5.2).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Charge {
    /// The Charge id (`S01-...-C000001`).
    #[serde(with = "crate::ids::amazon_id")]
    pub charge_id: ChargeId,
    /// The Charge Permission id (`S01-5105180-3221187`).
    #[serde(with = "crate::ids::amazon_id")]
    pub charge_permission_id: ChargePermissionId,
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

wire_object! {
    /// Create Charge (spec §5.2): [`CreateChargeRequest::new`] with the required fields,
    /// then a setter per optional field.
    ///
    /// ```
    /// use amzpay_sdk::*;
    /// let permission = ChargePermissionId::parse("S01-5105180-3221187").unwrap();
    /// let request = CreateChargeRequest::new(permission, Price::parse("14.00", Currency::Usd).unwrap())
    ///     .capture_now(true)
    ///     .soft_descriptor("Shop");
    /// assert_eq!(request.capture_now, Some(true));
    /// ```
    #[derive(Debug, Clone, PartialEq, Serialize)]
    #[serde(rename_all = "camelCase")]
    pub struct CreateChargeRequest {
        /// The Chargeable permission to charge.
        #[serde(with = "crate::ids::amazon_id")]
        pub charge_permission_id: ChargePermissionId,
        /// How much.
        pub charge_amount: Price,
    }
    optional {
        /// Capture right after authorizing (default false).
        capture_now: bool,
        /// Statement text, only with `capture_now` (at most 16 characters).
        soft_descriptor: String,
        /// Accept an asynchronous answer (`AuthorizationInitiated`).
        can_handle_pending_authorization: bool,
        /// Order details.
        merchant_metadata: MerchantMetadata,
        /// PSP details.
        provider_metadata: ProviderMetadata,
        /// Solution provider id.
        platform_id: String,
        /// Who initiated the charge.
        charge_initiator: ChargeInitiator,
        /// Where.
        channel: Channel,
        /// Saved Wallet multi-factor redirect.
        web_checkout_details: WebCheckoutDetails,
    }
}

impl CreateChargeRequest {
    /// A request with only the required fields.
    pub fn new(charge_permission_id: ChargePermissionId, charge_amount: Price) -> CreateChargeRequest {
        CreateChargeRequest {
            charge_permission_id,
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

wire_object! {
    /// Capture Charge.
    #[derive(Debug, Clone, PartialEq, Serialize)]
    #[serde(rename_all = "camelCase")]
    pub struct CaptureChargeRequest {
        /// How much; at most the authorized amount.
        pub capture_amount: Price,
    }
    optional {
        /// Statement text (at most 16 characters).
        soft_descriptor: String,
    }
}

impl CaptureChargeRequest {
    /// Captures `capture_amount`.
    pub fn new(capture_amount: Price) -> CaptureChargeRequest {
        CaptureChargeRequest { capture_amount, soft_descriptor: None }
    }
}

/// Cancel Charge.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct CancelChargeRequest {
    /// Why.
    pub cancellation_reason: String,
}

impl CancelChargeRequest {
    /// Cancels for this reason (at most 255 characters).
    pub fn new(cancellation_reason: impl Into<String>) -> CancelChargeRequest {
        CancelChargeRequest { cancellation_reason: cancellation_reason.into() }
    }
}
