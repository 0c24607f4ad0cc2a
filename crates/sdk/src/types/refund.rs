//! Refunds (spec §5.4): the Refund object, its states, and the body of Create Refund.
//!
//! Only shapes live here: no path, no HTTP, and no check that Amazon makes itself.

use serde::{Deserialize, Serialize};

use super::common::StatusDetails;
use crate::ids::{ChargeId, RefundId};
use crate::price::Price;

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

/// A Refund (spec §5.4).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Refund {
    /// The Refund id (`S01-...-R000001`).
    #[serde(with = "crate::ids::amazon_id")]
    pub refund_id: RefundId,
    /// The Charge id (`S01-...-C000001`).
    #[serde(with = "crate::ids::amazon_id")]
    pub charge_id: ChargeId,
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

wire_object! {
    /// Create Refund.
    ///
    /// ```
    /// use amzpay_sdk::*;
    /// let charge = ChargeId::parse("S01-5105180-3221187-C056351").unwrap();
    /// let request = CreateRefundRequest::new(charge, Price::parse("4.00", Currency::Usd).unwrap()).soft_descriptor("Refund");
    /// assert_eq!(request.refund_amount.amount(), "4.00");
    /// ```
    #[derive(Debug, Clone, PartialEq, Serialize)]
    #[serde(rename_all = "camelCase")]
    pub struct CreateRefundRequest {
        /// The captured charge.
        #[serde(with = "crate::ids::amazon_id")]
        pub charge_id: ChargeId,
        /// How much.
        pub refund_amount: Price,
    }
    optional {
        /// Statement text (at most 16 characters).
        soft_descriptor: String,
    }
}

impl CreateRefundRequest {
    /// Refunds `refund_amount` of a captured charge.
    pub fn new(charge_id: ChargeId, refund_amount: Price) -> CreateRefundRequest {
        CreateRefundRequest { charge_id, refund_amount, soft_descriptor: None }
    }
}
