//! Charge Permissions (spec §5.3): the object, its states, reasons and limits, and the
//! bodies of Update and Close Charge Permission.
//!
//! Only shapes live here: no path, no HTTP, and no check that Amazon makes itself.

use serde::{Deserialize, Serialize};

use super::common::{
    Address, Buyer, MerchantMetadata, PaymentMethodOnFileMetadata, PaymentPreference, RecurringMetadata,
};
use crate::ids::ChargePermissionId;
use crate::price::Price;

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

/// One reason of a Charge Permission's state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
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
#[non_exhaustive]
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

/// A Charge Permission's limits.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Limits {
    /// The most that can be charged (one-time) or charged per month (recurring, Saved Wallet).
    #[serde(default)]
    pub amount_limit: Option<Price>,
    /// What can still be charged.
    #[serde(default)]
    pub amount_balance: Option<Price>,
}

/// A Charge Permission (spec §5.3).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ChargePermission {
    /// The Charge Permission id (`S01-5105180-3221187`).
    #[serde(with = "crate::ids::amazon_id")]
    pub charge_permission_id: ChargePermissionId,
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

wire_object! {
    /// Update Charge Permission.
    #[derive(Debug, Clone, Default, PartialEq, Serialize)]
    #[serde(rename_all = "camelCase")]
    pub struct UpdateChargePermissionRequest {}
    optional {
        /// Order details (can be changed once).
        merchant_metadata: MerchantMetadata,
        /// Recurring details (recurring permissions only).
        recurring_metadata: RecurringMetadata,
    }
}

wire_object! {
    /// Close Charge Permission.
    #[derive(Debug, Clone, PartialEq, Eq, Serialize)]
    #[serde(rename_all = "camelCase")]
    pub struct CloseChargePermissionRequest {
        /// Why.
        pub closure_reason: String,
    }
    optional {
        /// Also cancel charges still open.
        cancel_pending_charges: bool,
    }
}

impl CloseChargePermissionRequest {
    /// Closes for this reason (at most 255 characters).
    pub fn new(closure_reason: impl Into<String>) -> CloseChargePermissionRequest {
        CloseChargePermissionRequest { closure_reason: closure_reason.into(), cancel_pending_charges: None }
    }
}
