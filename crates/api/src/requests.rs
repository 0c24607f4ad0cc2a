//! Request bodies (spec §2, §5) and their conversion into domain commands.

use amzpay_domain::charge::{CaptureCharge, ClosePermission, CreateCharge};
use amzpay_domain::charge_permission::{NewPermission, PermissionUpdate};
use amzpay_domain::limits::REASON_TEXT_MAX_CHARS;
use amzpay_domain::metadata::{
    Buyer, Channel, ChargeInitiator, FrequencyUnit, MerchantMetadata, RecurringMetadata, SoftDescriptor,
};
use amzpay_domain::refund::CreateRefund;
use amzpay_domain::sandbox::{DEFAULT_CARD, SandboxCard};
use amzpay_domain::{ChargeId, ChargePermissionId, DomainError, PermissionType, ReasonCode};
use serde::Deserialize;

use crate::format::{PriceIn, parse_currency};

fn missing(field: &str) -> DomainError {
    DomainError::new(ReasonCode::MissingParameterValue, format!("{field} is required"))
}

fn invalid(message: impl Into<String>) -> DomainError {
    DomainError::new(ReasonCode::InvalidParameterValue, message)
}

fn reason_text(field: &str, value: Option<String>) -> Result<String, DomainError> {
    let value = value.filter(|v| !v.trim().is_empty()).ok_or_else(|| missing(field))?;
    if value.chars().count() > REASON_TEXT_MAX_CHARS {
        return Err(invalid(format!("{field} is longer than {REASON_TEXT_MAX_CHARS} characters")));
    }
    Ok(value)
}

fn soft_descriptor(value: Option<String>) -> Result<Option<SoftDescriptor>, DomainError> {
    value.as_deref().map(SoftDescriptor::parse).transpose()
}

/// A charge permission id from a body; malformed ids cannot name anything.
pub fn charge_permission_id(field: &str, value: Option<String>) -> Result<ChargePermissionId, DomainError> {
    let value = value.ok_or_else(|| missing(field))?;
    ChargePermissionId::parse(&value).ok_or_else(|| invalid(format!("{field} '{value}' is not a charge permission id")))
}

#[derive(Debug, Clone, Deserialize)]
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

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ProviderMetadataIn {
    pub provider_reference_id: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct WebCheckoutDetailsIn {
    pub checkout_result_return_url: Option<String>,
}

/// `value` arrives as a string or an integer (spec §5.1).
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum FrequencyValueIn {
    Text(String),
    Number(u32),
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct FrequencyIn {
    pub unit: Option<String>,
    pub value: Option<FrequencyValueIn>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RecurringMetadataIn {
    pub frequency: Option<FrequencyIn>,
    pub amount: Option<PriceIn>,
}

impl RecurringMetadataIn {
    pub fn into_domain(self) -> Result<RecurringMetadata, DomainError> {
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
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct CreateChargeBody {
    pub charge_permission_id: Option<String>,
    pub charge_amount: Option<PriceIn>,
    pub capture_now: Option<bool>,
    pub soft_descriptor: Option<String>,
    pub can_handle_pending_authorization: Option<bool>,
    pub merchant_metadata: Option<MerchantMetadataIn>,
    pub provider_metadata: Option<ProviderMetadataIn>,
    pub platform_id: Option<String>,
    pub charge_initiator: Option<String>,
    pub channel: Option<String>,
    pub web_checkout_details: Option<WebCheckoutDetailsIn>,
}

impl CreateChargeBody {
    pub fn into_command(self) -> Result<(ChargePermissionId, CreateCharge), DomainError> {
        let permission_id = charge_permission_id("chargePermissionId", self.charge_permission_id)?;
        let amount = self.charge_amount.ok_or_else(|| missing("chargeAmount"))?.to_money("chargeAmount")?;
        let capture_now = self.capture_now.unwrap_or(false);
        let soft_descriptor = soft_descriptor(self.soft_descriptor)?;
        if soft_descriptor.is_some() && !capture_now {
            return Err(DomainError::new(
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
                can_handle_pending_authorization: self.can_handle_pending_authorization.unwrap_or(false),
                merchant_metadata: self.merchant_metadata.map(Into::into),
                provider_reference_id: self.provider_metadata.and_then(|p| p.provider_reference_id),
                platform_id: self.platform_id,
                charge_initiator,
                channel,
            },
        ))
    }
}

/// Capture Charge.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct CaptureChargeBody {
    pub capture_amount: Option<PriceIn>,
    pub soft_descriptor: Option<String>,
}

impl CaptureChargeBody {
    pub fn into_command(self) -> Result<CaptureCharge, DomainError> {
        let amount = self.capture_amount.ok_or_else(|| missing("captureAmount"))?.to_money("captureAmount")?;
        Ok(CaptureCharge { amount, soft_descriptor: soft_descriptor(self.soft_descriptor)? })
    }
}

/// Cancel Charge.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct CancelChargeBody {
    pub cancellation_reason: Option<String>,
}

impl CancelChargeBody {
    pub fn into_reason(self) -> Result<String, DomainError> {
        reason_text("cancellationReason", self.cancellation_reason)
    }
}

/// Create Refund.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct CreateRefundBody {
    pub charge_id: Option<String>,
    pub refund_amount: Option<PriceIn>,
    pub soft_descriptor: Option<String>,
}

impl CreateRefundBody {
    pub fn into_command(self) -> Result<(ChargeId, CreateRefund), DomainError> {
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
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct UpdatePermissionBody {
    pub merchant_metadata: Option<MerchantMetadataIn>,
    pub recurring_metadata: Option<RecurringMetadataIn>,
}

impl UpdatePermissionBody {
    pub fn into_command(self) -> Result<PermissionUpdate, DomainError> {
        Ok(PermissionUpdate {
            merchant_metadata: self.merchant_metadata.map(Into::into),
            recurring_metadata: self.recurring_metadata.map(RecurringMetadataIn::into_domain).transpose()?,
        })
    }
}

/// Close Charge Permission.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ClosePermissionBody {
    pub closure_reason: Option<String>,
    pub cancel_pending_charges: Option<bool>,
}

impl ClosePermissionBody {
    pub fn into_command(self) -> Result<ClosePermission, DomainError> {
        Ok(ClosePermission {
            closure_reason: reason_text("closureReason", self.closure_reason)?,
            cancel_pending_charges: self.cancel_pending_charges.unwrap_or(false),
            amazon_closed: false,
        })
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct BuyerIn {
    pub buyer_id: Option<String>,
    pub name: Option<String>,
    pub email: Option<String>,
    pub phone_number: Option<String>,
}

/// The sandbox test helper `POST /v2/testHelpers/chargePermissions` (product.md).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct CreatePermissionBody {
    pub charge_permission_type: Option<String>,
    pub amount_limit: Option<PriceIn>,
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

/// `POST /v2/testHelpers/chargePermissions/{id}/buyerActions`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct BuyerActionBody {
    pub action: Option<String>,
    pub payment_method: Option<String>,
}

impl BuyerActionBody {
    pub fn into_action(self) -> Result<BuyerAction, DomainError> {
        match self.action.as_deref() {
            None => Err(missing("action")),
            Some("UpdatePaymentMethod") => {
                let text = self.payment_method.ok_or_else(|| missing("paymentMethod"))?;
                let card = SandboxCard::parse(&text)
                    .ok_or_else(|| invalid(format!("paymentMethod '{text}' is not a sandbox card")))?;
                Ok(BuyerAction::UpdatePaymentMethod(card))
            }
            Some("Close") if self.payment_method.is_some() => Err(DomainError::new(
                ReasonCode::InvalidParameterCombination,
                "paymentMethod goes with UpdatePaymentMethod only",
            )),
            Some("Close") => Ok(BuyerAction::Close),
            Some(other) => Err(invalid(format!("action '{other}' is not UpdatePaymentMethod or Close"))),
        }
    }
}

/// `POST /v2/testHelpers/clock/advance`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct AdvanceClockBody {
    pub seconds: Option<serde_json::Number>,
}

impl AdvanceClockBody {
    /// Whole seconds, from 0 to `max`.
    pub fn into_seconds(self, max: i64) -> Result<i64, DomainError> {
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
    pub fn into_command(self) -> Result<NewPermission, DomainError> {
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
            platform_id: self.platform_id,
            extend_expiration: false,
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

pub mod checkout {
    //! Checkout Session request bodies (spec §5.5).

    use amzpay_domain::checkout_session::{Address, NewSession, PaymentDetails, PaymentIntent, SessionUpdate};
    use amzpay_domain::metadata::{Buyer, SoftDescriptor};
    use amzpay_domain::sandbox::SandboxCard;
    use amzpay_domain::{DomainError, Money, PermissionType, ReasonCode};
    use serde::Deserialize;

    use super::{MerchantMetadataIn, ProviderMetadataIn, RecurringMetadataIn, invalid, missing};
    use crate::format::{PriceIn, parse_currency};

    #[derive(Debug, Clone, Deserialize)]
    #[serde(deny_unknown_fields, rename_all = "camelCase")]
    pub struct WebCheckoutDetailsIn {
        pub checkout_review_return_url: Option<String>,
        pub checkout_result_return_url: Option<String>,
        pub checkout_cancel_url: Option<String>,
        pub checkout_mode: Option<String>,
    }

    #[derive(Debug, Clone, Deserialize)]
    #[serde(deny_unknown_fields, rename_all = "camelCase")]
    pub struct PaymentDetailsIn {
        pub payment_intent: Option<String>,
        pub can_handle_pending_authorization: Option<bool>,
        pub charge_amount: Option<PriceIn>,
        pub total_order_amount: Option<PriceIn>,
        pub soft_descriptor: Option<String>,
        pub presentment_currency: Option<String>,
        pub allow_overcharge: Option<bool>,
        pub extend_expiration: Option<bool>,
    }

    fn intent(text: &str) -> Result<PaymentIntent, DomainError> {
        PaymentIntent::parse(text)
            .ok_or_else(|| invalid(format!("paymentIntent '{text}' is not Confirm, Authorize or AuthorizeWithCapture")))
    }

    fn url(field: &str, value: Option<String>) -> Result<Option<String>, DomainError> {
        match value {
            Some(text) if !(text.starts_with("https://") || text.starts_with("http://")) => {
                Err(invalid(format!("{field} '{text}' is not an http(s) URL")))
            }
            other => Ok(other),
        }
    }

    impl PaymentDetailsIn {
        pub fn into_domain(self) -> Result<PaymentDetails, DomainError> {
            Ok(PaymentDetails {
                payment_intent: self.payment_intent.as_deref().map(intent).transpose()?,
                charge_amount: self.charge_amount.map(|p| p.to_money("paymentDetails.chargeAmount")).transpose()?,
                total_order_amount: self
                    .total_order_amount
                    .map(|p| p.to_money("paymentDetails.totalOrderAmount"))
                    .transpose()?,
                can_handle_pending_authorization: self.can_handle_pending_authorization,
                soft_descriptor: self.soft_descriptor.as_deref().map(SoftDescriptor::parse).transpose()?,
                presentment_currency: self
                    .presentment_currency
                    .map(|c| parse_currency("paymentDetails.presentmentCurrency", &c))
                    .transpose()?,
                allow_overcharge: self.allow_overcharge,
                extend_expiration: self.extend_expiration,
            })
        }
    }

    #[derive(Debug, Clone, Deserialize)]
    #[serde(deny_unknown_fields, rename_all = "camelCase")]
    pub struct PaymentMethodOnFileMetadataIn {
        pub setup_only: Option<bool>,
    }

    #[derive(Debug, Clone, Default, Deserialize)]
    #[serde(deny_unknown_fields, rename_all = "camelCase")]
    pub struct AddressIn {
        pub name: Option<String>,
        pub address_line1: Option<String>,
        pub address_line2: Option<String>,
        pub address_line3: Option<String>,
        pub city: Option<String>,
        pub county: Option<String>,
        pub district: Option<String>,
        pub state_or_region: Option<String>,
        pub postal_code: Option<String>,
        pub country_code: Option<String>,
        pub phone_number: Option<String>,
    }

    impl From<AddressIn> for Address {
        fn from(a: AddressIn) -> Address {
            Address {
                name: a.name,
                address_line1: a.address_line1,
                address_line2: a.address_line2,
                address_line3: a.address_line3,
                city: a.city,
                county: a.county,
                district: a.district,
                state_or_region: a.state_or_region,
                postal_code: a.postal_code,
                country_code: a.country_code,
                phone_number: a.phone_number,
            }
        }
    }

    /// Create Checkout Session.
    #[derive(Debug, Clone, Deserialize)]
    #[serde(deny_unknown_fields, rename_all = "camelCase")]
    pub struct CreateSessionBody {
        pub web_checkout_details: Option<WebCheckoutDetailsIn>,
        pub store_id: Option<String>,
        pub charge_permission_type: Option<String>,
        pub recurring_metadata: Option<RecurringMetadataIn>,
        pub payment_details: Option<PaymentDetailsIn>,
        pub merchant_metadata: Option<MerchantMetadataIn>,
        pub scopes: Option<Vec<String>>,
        pub payment_method_on_file_metadata: Option<PaymentMethodOnFileMetadataIn>,
        pub platform_id: Option<String>,
        pub provider_metadata: Option<ProviderMetadataIn>,
        pub delivery_specifications: Option<serde_json::Value>,
        pub address_details: Option<AddressIn>,
        pub checkout_button_text: Option<String>,
    }

    impl CreateSessionBody {
        pub fn into_command(self) -> Result<NewSession, DomainError> {
            let details = self.web_checkout_details.ok_or_else(|| missing("webCheckoutDetails"))?;
            let store_id = self.store_id.ok_or_else(|| missing("storeId"))?;
            let process_order = match details.checkout_mode.as_deref() {
                None => false,
                Some("ProcessOrder") => true,
                Some(other) => return Err(invalid(format!("checkoutMode '{other}' is not ProcessOrder"))),
            };
            let kind = match self.charge_permission_type.as_deref() {
                None => PermissionType::OneTime,
                Some(text) => PermissionType::parse(text).ok_or_else(|| {
                    invalid(format!("chargePermissionType '{text}' is not OneTime, Recurring or PaymentMethodOnFile"))
                })?,
            };
            if self.payment_method_on_file_metadata.is_some() && kind != PermissionType::PaymentMethodOnFile {
                return Err(DomainError::new(
                    ReasonCode::InvalidParameterCombination,
                    "paymentMethodOnFileMetadata applies to PaymentMethodOnFile checkouts only",
                ));
            }
            Ok(NewSession {
                store_id,
                process_order,
                kind,
                fields: SessionUpdate {
                    checkout_review_return_url: url("checkoutReviewReturnUrl", details.checkout_review_return_url)?,
                    checkout_result_return_url: url("checkoutResultReturnUrl", details.checkout_result_return_url)?,
                    checkout_cancel_url: url("checkoutCancelUrl", details.checkout_cancel_url)?,
                    payment_details: self.payment_details.map(PaymentDetailsIn::into_domain).transpose()?,
                    merchant_metadata: self.merchant_metadata.map(Into::into),
                    recurring_metadata: self.recurring_metadata.map(RecurringMetadataIn::into_domain).transpose()?,
                    platform_id: self.platform_id,
                },
            })
        }
    }

    #[derive(Debug, Clone, Deserialize)]
    #[serde(deny_unknown_fields, rename_all = "camelCase")]
    pub struct UpdateWebCheckoutDetailsIn {
        pub checkout_result_return_url: Option<String>,
        pub checkout_review_return_url: Option<String>,
        pub checkout_cancel_url: Option<String>,
    }

    /// Update Checkout Session.
    #[derive(Debug, Clone, Deserialize)]
    #[serde(deny_unknown_fields, rename_all = "camelCase")]
    pub struct UpdateSessionBody {
        pub web_checkout_details: Option<UpdateWebCheckoutDetailsIn>,
        pub payment_details: Option<PaymentDetailsIn>,
        pub merchant_metadata: Option<MerchantMetadataIn>,
        pub recurring_metadata: Option<RecurringMetadataIn>,
        pub platform_id: Option<String>,
        pub provider_metadata: Option<ProviderMetadataIn>,
    }

    impl UpdateSessionBody {
        pub fn into_command(self) -> Result<SessionUpdate, DomainError> {
            let details = self.web_checkout_details;
            let (review, result, cancel) = match details {
                Some(d) => (d.checkout_review_return_url, d.checkout_result_return_url, d.checkout_cancel_url),
                None => (None, None, None),
            };
            Ok(SessionUpdate {
                checkout_review_return_url: url("checkoutReviewReturnUrl", review)?,
                checkout_result_return_url: url("checkoutResultReturnUrl", result)?,
                checkout_cancel_url: url("checkoutCancelUrl", cancel)?,
                payment_details: self.payment_details.map(PaymentDetailsIn::into_domain).transpose()?,
                merchant_metadata: self.merchant_metadata.map(Into::into),
                recurring_metadata: self.recurring_metadata.map(RecurringMetadataIn::into_domain).transpose()?,
                platform_id: self.platform_id,
            })
        }
    }

    /// Complete Checkout Session.
    #[derive(Debug, Clone, Deserialize)]
    #[serde(deny_unknown_fields, rename_all = "camelCase")]
    pub struct CompleteSessionBody {
        pub charge_amount: Option<PriceIn>,
        pub total_order_amount: Option<PriceIn>,
    }

    impl CompleteSessionBody {
        pub fn into_amounts(self) -> Result<(Money, Option<Money>), DomainError> {
            let charge = self.charge_amount.ok_or_else(|| missing("chargeAmount"))?.to_money("chargeAmount")?;
            let total = self.total_order_amount.map(|p| p.to_money("totalOrderAmount")).transpose()?;
            Ok((charge, total))
        }
    }

    /// Finalize Checkout Session.
    #[derive(Debug, Clone, Deserialize)]
    #[serde(deny_unknown_fields, rename_all = "camelCase")]
    pub struct FinalizeSessionBody {
        pub shipping_address: Option<AddressIn>,
        pub billing_address: Option<AddressIn>,
        pub charge_amount: Option<PriceIn>,
        pub total_order_amount: Option<PriceIn>,
        pub payment_intent: Option<String>,
        pub can_handle_pending_authorization: Option<bool>,
        pub supplementary_data: Option<String>,
    }

    impl FinalizeSessionBody {
        /// The payment details it sets, then the amounts to complete with.
        pub fn into_parts(self) -> Result<(PaymentDetails, Money, Option<Money>), DomainError> {
            let charge = self.charge_amount.ok_or_else(|| missing("chargeAmount"))?.to_money("chargeAmount")?;
            let total = self.total_order_amount.map(|p| p.to_money("totalOrderAmount")).transpose()?;
            let details = PaymentDetails {
                payment_intent: self.payment_intent.as_deref().map(intent).transpose()?,
                charge_amount: Some(charge),
                total_order_amount: total,
                can_handle_pending_authorization: self.can_handle_pending_authorization,
                ..Default::default()
            };
            Ok((details, charge, total))
        }
    }

    /// `POST /v2/testHelpers/checkoutSessions/{id}/signIn` (product.md).
    #[derive(Debug, Clone, Deserialize)]
    #[serde(deny_unknown_fields, rename_all = "camelCase")]
    pub struct SignInBody {
        pub payment_method: Option<String>,
        pub buyer: Option<super::BuyerIn>,
        pub shipping_address: Option<AddressIn>,
    }

    /// The sandbox address a buyer gets when none is given.
    pub fn default_address() -> Address {
        Address {
            name: Some("Sandbox Buyer".into()),
            address_line1: Some("410 Terry Ave N".into()),
            city: Some("Seattle".into()),
            state_or_region: Some("WA".into()),
            postal_code: Some("98109".into()),
            country_code: Some("US".into()),
            phone_number: Some("800-000-0000".into()),
            ..Default::default()
        }
    }

    impl SignInBody {
        pub fn into_parts(self) -> Result<(Buyer, Address, SandboxCard), DomainError> {
            let text = self.payment_method.unwrap_or_else(|| amzpay_domain::sandbox::DEFAULT_CARD.to_owned());
            let card = SandboxCard::parse(&text)
                .ok_or_else(|| invalid(format!("paymentMethod '{text}' is not a sandbox card")))?;
            let fallback = super::default_buyer();
            let buyer = match self.buyer {
                None => fallback,
                Some(b) => Buyer {
                    buyer_id: b.buyer_id.unwrap_or(fallback.buyer_id),
                    name: b.name.unwrap_or(fallback.name),
                    email: b.email.unwrap_or(fallback.email),
                    phone_number: b.phone_number,
                },
            };
            let address = self.shipping_address.map(Address::from).unwrap_or_else(default_address);
            Ok((buyer, address, card))
        }
    }
}
