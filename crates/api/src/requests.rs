//! Request bodies (spec §2, §5) and their conversion into domain commands.

use amzpay_domain::charge::{AmazonAction, CaptureCharge, ClosePermission, CreateCharge};
use amzpay_domain::charge_permission::{NewPermission, PermissionUpdate};
use amzpay_domain::limits::REASON_TEXT_MAX_CHARS;
use amzpay_domain::metadata::{
    Buyer, Channel, ChargeInitiator, FrequencyUnit, MerchantMetadata, RecurringMetadata, SoftDescriptor,
    WebCheckoutDetails,
};
use amzpay_domain::refund::CreateRefund;
use amzpay_domain::sandbox::{DEFAULT_CARD, SandboxCard};
use amzpay_domain::{ChargeId, ChargePermissionId, PermissionType, ReasonCode, Refusal};
use serde::Deserialize;
use utoipa::ToSchema;

use crate::format::{PriceIn, parse_currency};

pub(crate) fn missing(field: &str) -> Refusal {
    Refusal::new(ReasonCode::MissingParameterValue, format!("{field} is required"))
}

pub(crate) fn invalid(message: impl Into<String>) -> Refusal {
    Refusal::new(ReasonCode::InvalidParameterValue, message)
}

fn reason_text(field: &str, value: Option<String>) -> Result<String, Refusal> {
    let value = value.filter(|v| !v.trim().is_empty()).ok_or_else(|| missing(field))?;
    if value.chars().count() > REASON_TEXT_MAX_CHARS {
        return Err(invalid(format!("{field} is longer than {REASON_TEXT_MAX_CHARS} characters")));
    }
    Ok(value)
}

fn soft_descriptor(value: Option<String>) -> Result<Option<SoftDescriptor>, Refusal> {
    value.as_deref().map(SoftDescriptor::parse).transpose()
}

/// A charge permission id from a body; malformed ids cannot name anything.
pub fn charge_permission_id(field: &str, value: Option<String>) -> Result<ChargePermissionId, Refusal> {
    let value = value.ok_or_else(|| missing(field))?;
    ChargePermissionId::parse(&value).ok_or_else(|| invalid(format!("{field} '{value}' is not a charge permission id")))
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct MerchantMetadataIn {
    pub merchant_reference_id: Option<String>,
    pub merchant_store_name: Option<String>,
    pub note_to_buyer: Option<String>,
    pub custom_information: Option<String>,
}

impl From<MerchantMetadataIn> for MerchantMetadata {
    fn from(m: MerchantMetadataIn) -> MerchantMetadata {
        MerchantMetadata {
            merchant_reference_id: m.merchant_reference_id,
            merchant_store_name: m.merchant_store_name,
            note_to_buyer: m.note_to_buyer,
            custom_information: m.custom_information,
        }
    }
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ProviderMetadataIn {
    pub provider_reference_id: Option<String>,
}

/// A boolean in a request: JSON `true`/`false`, or the strings `"true"`/`"false"`, which
/// Amazon's own Java and PHP READMEs send (`"cancelPendingCharges": "false"`).
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum BoolIn {
    Bool(bool),
    Text(String),
}

impl BoolIn {
    pub fn value(&self, field: &str) -> Result<bool, Refusal> {
        match self {
            BoolIn::Bool(value) => Ok(*value),
            BoolIn::Text(text) if text == "true" => Ok(true),
            BoolIn::Text(text) if text == "false" => Ok(false),
            BoolIn::Text(text) => Err(invalid(format!("{field} '{text}' is not true or false"))),
        }
    }
}

/// An optional boolean field.
pub(crate) fn flag(field: &str, value: Option<BoolIn>) -> Result<Option<bool>, Refusal> {
    value.map(|v| v.value(field)).transpose()
}

/// An http(s) URL the buyer may be sent to.
pub(crate) fn url(field: &str, value: Option<String>) -> Result<Option<String>, Refusal> {
    match value {
        Some(text) if !(text.starts_with("https://") || text.starts_with("http://")) => {
            Err(invalid(format!("{field} '{text}' is not an http(s) URL")))
        }
        other => Ok(other),
    }
}

/// `webCheckoutDetails.checkoutMode`: `ProcessOrder` is the only mode there is.
pub(crate) fn checkout_mode(value: Option<String>) -> Result<Option<bool>, Refusal> {
    match value.as_deref() {
        None => Ok(None),
        Some("ProcessOrder") => Ok(Some(true)),
        Some(other) => Err(invalid(format!("checkoutMode '{other}' is not ProcessOrder"))),
    }
}

/// `webCheckoutDetails`, on Checkout Sessions and on Create Charge (the official .NET SDK
/// shares one type: a Saved Wallet charge that needs multi-factor authentication returns the
/// buyer to `checkoutResultReturnUrl`). Amazon sets `amazonPayRedirectUrl`; no SDK sends it.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct WebCheckoutDetailsIn {
    pub checkout_review_return_url: Option<String>,
    pub checkout_result_return_url: Option<String>,
    pub checkout_cancel_url: Option<String>,
    pub checkout_mode: Option<String>,
}

impl WebCheckoutDetailsIn {
    fn into_domain(self) -> Result<WebCheckoutDetails, Refusal> {
        checkout_mode(self.checkout_mode)?;
        Ok(WebCheckoutDetails {
            checkout_review_return_url: url(
                "webCheckoutDetails.checkoutReviewReturnUrl",
                self.checkout_review_return_url,
            )?,
            checkout_result_return_url: url(
                "webCheckoutDetails.checkoutResultReturnUrl",
                self.checkout_result_return_url,
            )?,
            checkout_cancel_url: url("webCheckoutDetails.checkoutCancelUrl", self.checkout_cancel_url)?,
        })
    }
}

/// `value` arrives as a string or an integer (spec §5.1).
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum FrequencyValueIn {
    Text(String),
    Number(u32),
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct FrequencyIn {
    #[schema(required, value_type = String)]
    pub unit: Option<String>,
    #[schema(required, value_type = FrequencyValueIn)]
    pub value: Option<FrequencyValueIn>,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RecurringMetadataIn {
    pub frequency: Option<FrequencyIn>,
    pub amount: Option<PriceIn>,
}

impl RecurringMetadataIn {
    pub fn into_domain(self) -> Result<RecurringMetadata, Refusal> {
        let frequency = match self.frequency {
            None => None,
            Some(frequency) => {
                let unit_text = frequency.unit.ok_or_else(|| missing("recurringMetadata.frequency.unit"))?;
                let unit = FrequencyUnit::parse(&unit_text).ok_or_else(|| {
                    invalid(format!(
                        "recurringMetadata.frequency.unit '{unit_text}' is not Year, Month, Week, Day or Variable"
                    ))
                })?;
                let value = match frequency.value.ok_or_else(|| missing("recurringMetadata.frequency.value"))? {
                    FrequencyValueIn::Number(n) => n,
                    FrequencyValueIn::Text(text) => text.parse().map_err(|_| {
                        invalid(format!("recurringMetadata.frequency.value '{text}' is not a whole number"))
                    })?,
                };
                Some((unit, value))
            }
        };
        let amount = self.amount.map(|p| p.to_money("recurringMetadata.amount")).transpose()?;
        Ok(RecurringMetadata { frequency, amount })
    }
}

/// Create Charge (spec §5.2).
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[schema(example = json!({"chargePermissionId": "S01-0000000-0000000", "chargeAmount": {"amount": "14.00", "currencyCode": "USD"}, "captureNow": true, "canHandlePendingAuthorization": false}))]
pub struct CreateChargeBody {
    #[schema(required, value_type = String)]
    pub charge_permission_id: Option<String>,
    #[schema(required, value_type = PriceIn)]
    pub charge_amount: Option<PriceIn>,
    pub capture_now: Option<BoolIn>,
    pub soft_descriptor: Option<String>,
    pub can_handle_pending_authorization: Option<BoolIn>,
    pub merchant_metadata: Option<MerchantMetadataIn>,
    pub provider_metadata: Option<ProviderMetadataIn>,
    pub platform_id: Option<String>,
    pub charge_initiator: Option<String>,
    pub channel: Option<String>,
    pub web_checkout_details: Option<WebCheckoutDetailsIn>,
}

impl CreateChargeBody {
    pub fn into_command(self) -> Result<(ChargePermissionId, CreateCharge), Refusal> {
        let permission_id = charge_permission_id("chargePermissionId", self.charge_permission_id)?;
        let amount = self.charge_amount.ok_or_else(|| missing("chargeAmount"))?.to_money("chargeAmount")?;
        let capture_now = flag("captureNow", self.capture_now)?.unwrap_or(false);
        let can_handle_pending_authorization =
            flag("canHandlePendingAuthorization", self.can_handle_pending_authorization)?.unwrap_or(false);
        let soft_descriptor = soft_descriptor(self.soft_descriptor)?;
        if soft_descriptor.is_some() && !capture_now {
            return Err(Refusal::new(
                ReasonCode::InvalidParameterCombination,
                "softDescriptor can only be set with captureNow: true",
            ));
        }
        let charge_initiator = self
            .charge_initiator
            .map(|text| {
                ChargeInitiator::parse(&text)
                    .ok_or_else(|| invalid(format!("chargeInitiator '{text}' is not CITU, MITU, CITR or MITR")))
            })
            .transpose()?;
        let channel = self
            .channel
            .map(|text| {
                Channel::parse(&text).ok_or_else(|| invalid(format!("channel '{text}' is not a known channel")))
            })
            .transpose()?;
        Ok((
            permission_id,
            CreateCharge {
                amount,
                capture_now,
                soft_descriptor,
                can_handle_pending_authorization,
                merchant_metadata: self.merchant_metadata.map(Into::into),
                provider_reference_id: self.provider_metadata.and_then(|p| p.provider_reference_id),
                platform_id: self.platform_id,
                charge_initiator,
                channel,
                web_checkout_details: self.web_checkout_details.map(WebCheckoutDetailsIn::into_domain).transpose()?,
            },
        ))
    }
}

/// Capture Charge.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[schema(example = json!({"captureAmount": {"amount": "14.00", "currencyCode": "USD"}}))]
pub struct CaptureChargeBody {
    #[schema(required, value_type = PriceIn)]
    pub capture_amount: Option<PriceIn>,
    pub soft_descriptor: Option<String>,
}

impl CaptureChargeBody {
    pub fn into_command(self) -> Result<CaptureCharge, Refusal> {
        let amount = self.capture_amount.ok_or_else(|| missing("captureAmount"))?.to_money("captureAmount")?;
        Ok(CaptureCharge { amount, soft_descriptor: soft_descriptor(self.soft_descriptor)? })
    }
}

/// Cancel Charge.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[schema(example = json!({"cancellationReason": "Out of stock"}))]
pub struct CancelChargeBody {
    #[schema(required, value_type = String)]
    pub cancellation_reason: Option<String>,
}

impl CancelChargeBody {
    pub fn into_reason(self) -> Result<String, Refusal> {
        reason_text("cancellationReason", self.cancellation_reason)
    }
}

/// Create Refund.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[schema(example = json!({"chargeId": "S01-0000000-0000000-C000001", "refundAmount": {"amount": "14.00", "currencyCode": "USD"}}))]
pub struct CreateRefundBody {
    #[schema(required, value_type = String)]
    pub charge_id: Option<String>,
    #[schema(required, value_type = PriceIn)]
    pub refund_amount: Option<PriceIn>,
    pub soft_descriptor: Option<String>,
}

impl CreateRefundBody {
    pub fn into_command(self) -> Result<(ChargeId, CreateRefund), Refusal> {
        let text = self.charge_id.ok_or_else(|| missing("chargeId"))?;
        let charge_id =
            ChargeId::parse(&text).ok_or_else(|| invalid(format!("chargeId '{text}' is not a charge id")))?;
        let amount = self.refund_amount.ok_or_else(|| missing("refundAmount"))?.to_money("refundAmount")?;
        Ok((
            charge_id,
            CreateRefund { amount, soft_descriptor: soft_descriptor(self.soft_descriptor)?, simulated_decline: None },
        ))
    }
}

/// Update Charge Permission.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct UpdatePermissionBody {
    pub merchant_metadata: Option<MerchantMetadataIn>,
    pub recurring_metadata: Option<RecurringMetadataIn>,
}

impl UpdatePermissionBody {
    pub fn into_command(self) -> Result<PermissionUpdate, Refusal> {
        Ok(PermissionUpdate {
            merchant_metadata: self.merchant_metadata.map(Into::into),
            recurring_metadata: self.recurring_metadata.map(RecurringMetadataIn::into_domain).transpose()?,
        })
    }
}

/// Close Charge Permission.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[schema(example = json!({"closureReason": "No more charges", "cancelPendingCharges": false}))]
pub struct ClosePermissionBody {
    #[schema(required, value_type = String)]
    pub closure_reason: Option<String>,
    pub cancel_pending_charges: Option<BoolIn>,
}

impl ClosePermissionBody {
    pub fn into_command(self) -> Result<ClosePermission, Refusal> {
        Ok(ClosePermission {
            closure_reason: reason_text("closureReason", self.closure_reason)?,
            cancel_pending_charges: flag("cancelPendingCharges", self.cancel_pending_charges)?.unwrap_or(false),
            amazon_closed: false,
        })
    }
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct BuyerIn {
    pub buyer_id: Option<String>,
    pub name: Option<String>,
    pub email: Option<String>,
    pub phone_number: Option<String>,
}

/// The sandbox test helper `POST /v2/testHelpers/chargePermissions` (product.md).
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[schema(example = json!({"amountLimit": {"amount": "100.00", "currencyCode": "USD"}, "paymentMethod": "1111"}))]
pub struct CreatePermissionBody {
    pub charge_permission_type: Option<String>,
    pub amount_limit: Option<PriceIn>,
    #[schema(value_type = Option<crate::format::CurrencyCode>)]
    pub currency_code: Option<String>,
    pub recurring_metadata: Option<RecurringMetadataIn>,
    pub merchant_metadata: Option<MerchantMetadataIn>,
    pub payment_method: Option<String>,
    pub buyer: Option<BuyerIn>,
    pub platform_id: Option<String>,
}

/// What a buyer does on the Amazon Pay site (product.md: the `buyerActions` test helper and
/// the buyer's page).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BuyerAction {
    /// Pick another sandbox card; a NonChargeable permission becomes Chargeable.
    UpdatePaymentMethod(SandboxCard),
    /// Close the permission (Closed / BuyerClosed).
    Close,
}

impl BuyerAction {
    /// The action's name, as the test helper's body spells it.
    pub fn name(self) -> &'static str {
        match self {
            BuyerAction::UpdatePaymentMethod(_) => "UpdatePaymentMethod",
            BuyerAction::Close => "Close",
        }
    }
}

/// `POST /v2/testHelpers/chargePermissions/{id}/buyerActions`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct BuyerActionBody {
    #[schema(required, value_type = String)]
    pub action: Option<String>,
    pub payment_method: Option<String>,
}

impl BuyerActionBody {
    pub fn into_action(self) -> Result<BuyerAction, Refusal> {
        match self.action.as_deref() {
            None => Err(missing("action")),
            Some("UpdatePaymentMethod") => {
                let text = self.payment_method.ok_or_else(|| missing("paymentMethod"))?;
                let card = SandboxCard::parse(&text)
                    .ok_or_else(|| invalid(format!("paymentMethod '{text}' is not a sandbox card")))?;
                Ok(BuyerAction::UpdatePaymentMethod(card))
            }
            Some("Close") if self.payment_method.is_some() => Err(Refusal::new(
                ReasonCode::InvalidParameterCombination,
                "paymentMethod goes with UpdatePaymentMethod only",
            )),
            Some("Close") => Ok(BuyerAction::Close),
            Some(other) => Err(invalid(format!("action '{other}' is not UpdatePaymentMethod or Close"))),
        }
    }
}

/// `POST /v2/testHelpers/charges/{id}/amazonActions` (docs/defaults.md).
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct AmazonActionBody {
    #[schema(required, value_type = String)]
    pub action: Option<String>,
}

impl AmazonActionBody {
    pub fn into_action(self) -> Result<AmazonAction, Refusal> {
        match self.action.as_deref() {
            None => Err(missing("action")),
            Some("Cancel") => Ok(AmazonAction::Cancel),
            Some("FlagAtypicalActivity") => Ok(AmazonAction::FlagAtypicalActivity),
            Some(other) => Err(invalid(format!("action '{other}' is not Cancel or FlagAtypicalActivity"))),
        }
    }
}

/// `POST /v2/testHelpers/clock/advance`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[schema(example = json!({"seconds": 3600}))]
pub struct AdvanceClockBody {
    #[schema(required, value_type = u64)]
    pub seconds: Option<serde_json::Number>,
}

impl AdvanceClockBody {
    /// Whole seconds, from 0 to `max`.
    pub fn into_seconds(self, max: i64) -> Result<i64, Refusal> {
        let number = self.seconds.ok_or_else(|| missing("seconds"))?;
        let seconds: i64 =
            number.to_string().parse().map_err(|_| invalid(format!("seconds '{number}' is not a whole number")))?;
        if !(0..=max).contains(&seconds) {
            return Err(invalid(format!("seconds must be between 0 and {max}")));
        }
        Ok(seconds)
    }
}

/// The sandbox buyer a permission gets when the test helper names none.
pub fn default_buyer() -> Buyer {
    Buyer {
        buyer_id: "amzn1.account.SANDBOXBUYER0000000000000001".to_owned(),
        name: "Sandbox Buyer".to_owned(),
        email: "buyer@example.com".to_owned(),
        phone_number: Some("800-000-0000".to_owned()),
    }
}

impl CreatePermissionBody {
    pub fn into_command(self) -> Result<NewPermission, Refusal> {
        let kind = match self.charge_permission_type {
            None => PermissionType::OneTime,
            Some(text) => PermissionType::parse(&text).ok_or_else(|| {
                invalid(format!("chargePermissionType '{text}' is not OneTime, Recurring or PaymentMethodOnFile"))
            })?,
        };
        let card_text = self.payment_method.unwrap_or_else(|| DEFAULT_CARD.to_owned());
        let payment_method = SandboxCard::parse(&card_text)
            .ok_or_else(|| invalid(format!("paymentMethod '{card_text}' is not a sandbox card")))?;
        let currency = self.currency_code.map(|c| parse_currency("currencyCode", &c)).transpose()?;
        let buyer = match self.buyer {
            None => default_buyer(),
            Some(buyer) => {
                let fallback = default_buyer();
                Buyer {
                    buyer_id: buyer.buyer_id.unwrap_or(fallback.buyer_id),
                    name: buyer.name.unwrap_or(fallback.name),
                    email: buyer.email.unwrap_or(fallback.email),
                    phone_number: buyer.phone_number,
                }
            }
        };
        Ok(NewPermission {
            kind,
            amount_limit: self.amount_limit.map(|p| p.to_money("amountLimit")).transpose()?,
            currency,
            recurring_metadata: self.recurring_metadata.map(RecurringMetadataIn::into_domain).transpose()?,
            merchant_metadata: self.merchant_metadata.map(Into::into),
            payment_method,
            buyer: Some(buyer),
            shipping_address: None,
            billing_address: None,
            platform_id: self.platform_id,
            extend_expiration: false,
            setup_only: None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::body::parse_body;

    fn create_charge(json: &str) -> Result<(ChargePermissionId, CreateCharge), ReasonCode> {
        parse_body::<CreateChargeBody>(json.as_bytes()).and_then(CreateChargeBody::into_command).map_err(|e| e.code)
    }

    #[test]
    fn create_charge_bodies_are_checked_field_by_field() {
        let ok = r#"{"chargePermissionId":"S01-0000000-0000000","chargeAmount":{"amount":"14.00","currencyCode":"USD"},"captureNow":true,"softDescriptor":"Descriptor","canHandlePendingAuthorization":false,"merchantMetadata":{"merchantReferenceId":"A1"},"providerMetadata":{"providerReferenceId":null},"chargeInitiator":"CITU","channel":"Web"}"#;
        let (id, command) = create_charge(ok).unwrap();
        assert_eq!(id.as_str(), "S01-0000000-0000000");
        assert_eq!(command.amount.minor(), 1400);
        assert!(command.capture_now);
        let cases = [
            (r#"{"chargeAmount":{"amount":"1","currencyCode":"USD"}}"#, ReasonCode::MissingParameterValue),
            (r#"{"chargePermissionId":"S01-0000000-0000000"}"#, ReasonCode::MissingParameterValue),
            (
                r#"{"chargePermissionId":"nope","chargeAmount":{"amount":"1","currencyCode":"USD"}}"#,
                ReasonCode::InvalidParameterValue,
            ),
            (
                r#"{"chargePermissionId":"S01-0000000-0000000","chargeAmount":{"amount":"1","currencyCode":"USD"},"softDescriptor":"x"}"#,
                ReasonCode::InvalidParameterCombination,
            ),
            (
                r#"{"chargePermissionId":"S01-0000000-0000000","chargeAmount":{"amount":"1","currencyCode":"USD"},"captureNow":true,"softDescriptor":"0123456789abcdefg"}"#,
                ReasonCode::InvalidParameterValue,
            ),
            (
                r#"{"chargePermissionId":"S01-0000000-0000000","chargeAmount":{"amount":"1","currencyCode":"USD"},"channel":"Fax"}"#,
                ReasonCode::InvalidParameterValue,
            ),
            (
                r#"{"chargePermissionId":"S01-0000000-0000000","chargeAmount":{"amount":"1","currencyCode":"USD"},"chargeInitiator":"X"}"#,
                ReasonCode::InvalidParameterValue,
            ),
            (
                r#"{"chargePermissionId":"S01-0000000-0000000","chargeAmount":{"amount":"1","currencyCode":"USD"},"captureNOW":true}"#,
                ReasonCode::UnrecognizedField,
            ),
        ];
        for (json, code) in cases {
            assert_eq!(create_charge(json).map(|_| ()), Err(code), "{json}");
        }
    }

    #[test]
    fn close_and_cancel_need_their_reasons() {
        let close = |json: &str| {
            parse_body::<ClosePermissionBody>(json.as_bytes())
                .and_then(ClosePermissionBody::into_command)
                .map_err(|e| e.code)
        };
        assert_eq!(close("{}").map(|_| ()), Err(ReasonCode::MissingParameterValue));
        assert!(close(r#"{"closureReason":"done","cancelPendingCharges":true}"#).unwrap().cancel_pending_charges);
        // Amazon's Java and PHP READMEs send booleans as strings.
        assert!(!close(r#"{"closureReason":"done","cancelPendingCharges":"false"}"#).unwrap().cancel_pending_charges);
        assert!(close(r#"{"closureReason":"done","cancelPendingCharges":"true"}"#).unwrap().cancel_pending_charges);
        assert_eq!(
            close(r#"{"closureReason":"done","cancelPendingCharges":"yes"}"#).map(|_| ()),
            Err(ReasonCode::InvalidParameterValue)
        );
        assert_eq!(
            close(r#"{"closureReason":"done","cancelPendingCharges":1}"#).map(|_| ()),
            Err(ReasonCode::InvalidParameterValue)
        );
        let cancel = |json: &str| {
            parse_body::<CancelChargeBody>(json.as_bytes()).and_then(CancelChargeBody::into_reason).map_err(|e| e.code)
        };
        assert_eq!(cancel(r#"{"cancellationReason":"  "}"#), Err(ReasonCode::MissingParameterValue));
        assert_eq!(
            cancel(&format!(r#"{{"cancellationReason":"{}"}}"#, "x".repeat(1025))),
            Err(ReasonCode::InvalidParameterValue)
        );
    }

    #[test]
    fn buyer_actions_and_clock_advances_are_checked() {
        let action = |json: &str| parse_body::<BuyerActionBody>(json.as_bytes()).and_then(BuyerActionBody::into_action);
        assert_eq!(action(r#"{"action":"Close"}"#), Ok(BuyerAction::Close));
        assert_eq!(
            action(r#"{"action":"UpdatePaymentMethod","paymentMethod":"4444"}"#),
            Ok(BuyerAction::UpdatePaymentMethod(SandboxCard::parse("4444").unwrap()))
        );
        assert_eq!(action(r#"{"action":"UpdatePaymentMethod"}"#).unwrap_err().code, ReasonCode::MissingParameterValue);
        assert_eq!(
            action(r#"{"action":"Close","paymentMethod":"1111"}"#).unwrap_err().code,
            ReasonCode::InvalidParameterCombination
        );
        assert_eq!(action(r#"{"action":"Dance"}"#).unwrap_err().code, ReasonCode::InvalidParameterValue);
        assert_eq!(action(r#"{}"#).unwrap_err().code, ReasonCode::MissingParameterValue);
        let advance = |json: &str| parse_body::<AdvanceClockBody>(json.as_bytes()).and_then(|b| b.into_seconds(1000));
        assert_eq!(advance(r#"{"seconds":30}"#), Ok(30));
        assert_eq!(advance(r#"{"seconds":0}"#), Ok(0));
        assert_eq!(advance(r#"{"seconds":-1}"#).unwrap_err().code, ReasonCode::InvalidParameterValue);
        assert_eq!(advance(r#"{"seconds":1.5}"#).unwrap_err().code, ReasonCode::InvalidParameterValue);
        assert_eq!(advance(r#"{"seconds":1001}"#).unwrap_err().code, ReasonCode::InvalidParameterValue);
        assert_eq!(advance(r#"{"seconds":"30"}"#).unwrap_err().code, ReasonCode::InvalidParameterValue);
        assert_eq!(advance(r#"{}"#).unwrap_err().code, ReasonCode::MissingParameterValue);
    }

    #[test]
    fn recurring_frequency_values_arrive_as_strings_or_integers() {
        for json in [r#"{"frequency":{"unit":"Month","value":"1"}}"#, r#"{"frequency":{"unit":"Month","value":1}}"#] {
            let metadata = parse_body::<RecurringMetadataIn>(json.as_bytes()).unwrap().into_domain().unwrap();
            assert_eq!(metadata.frequency, Some((FrequencyUnit::Month, 1)));
        }
        let bad = parse_body::<RecurringMetadataIn>(br#"{"frequency":{"unit":"Fortnight","value":1}}"#)
            .unwrap()
            .into_domain();
        assert_eq!(bad.unwrap_err().code, ReasonCode::InvalidParameterValue);
    }
}

pub mod checkout;
