//! Checkout Session request bodies (spec §5.5), with every field an official SDK sends: the
//! .NET SDK's request types (the one typed SDK) and the Node.js, Java, PHP, Ruby and Python
//! SDKs' samples. Fields Amazon echoes are stored; the others are validated and dropped
//! (docs/defaults.md).

use std::collections::BTreeMap;

use amzpay_domain::checkout_session::{Address, NewSession, PaymentDetails, PaymentIntent, SessionUpdate};
use amzpay_domain::metadata::{Buyer, OpaqueJson, SoftDescriptor};
use amzpay_domain::sandbox::SandboxCard;
use amzpay_domain::{ChargePermissionId, Money, PermissionType, ReasonCode, Refusal};
use serde::Deserialize;
use serde_json::value::RawValue;
use utoipa::ToSchema;

use super::{
    BoolIn, MerchantMetadataIn, ProviderMetadataIn, RecurringMetadataIn, WebCheckoutDetailsIn, checkout_mode, flag,
    invalid, missing, url,
};
use crate::body::parse_part;
use crate::format::{PriceIn, parse_currency};

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PaymentDetailsIn {
    pub payment_intent: Option<String>,
    pub can_handle_pending_authorization: Option<BoolIn>,
    pub charge_amount: Option<PriceIn>,
    pub total_order_amount: Option<PriceIn>,
    pub soft_descriptor: Option<String>,
    #[schema(value_type = Option<crate::format::CurrencyCode>)]
    pub presentment_currency: Option<String>,
    pub allow_overcharge: Option<BoolIn>,
    pub extend_expiration: Option<BoolIn>,
    pub estimate_order_total: Option<PriceIn>,
}

fn intent(text: &str) -> Result<PaymentIntent, Refusal> {
    PaymentIntent::parse(text)
        .ok_or_else(|| invalid(format!("paymentIntent '{text}' is not Confirm, Authorize or AuthorizeWithCapture")))
}

fn permission_type(text: &str) -> Result<PermissionType, Refusal> {
    PermissionType::parse(text).ok_or_else(|| {
        invalid(format!("chargePermissionType '{text}' is not OneTime, Recurring or PaymentMethodOnFile"))
    })
}

fn price(field: &str, value: Option<PriceIn>) -> Result<Option<Money>, Refusal> {
    value.map(|p| p.to_money(field)).transpose()
}

impl PaymentDetailsIn {
    pub fn into_domain(self) -> Result<PaymentDetails, Refusal> {
        Ok(PaymentDetails {
            payment_intent: self.payment_intent.as_deref().map(intent).transpose()?,
            charge_amount: price("paymentDetails.chargeAmount", self.charge_amount)?,
            total_order_amount: price("paymentDetails.totalOrderAmount", self.total_order_amount)?,
            can_handle_pending_authorization: flag(
                "paymentDetails.canHandlePendingAuthorization",
                self.can_handle_pending_authorization,
            )?,
            soft_descriptor: self.soft_descriptor.as_deref().map(SoftDescriptor::parse).transpose()?,
            presentment_currency: self
                .presentment_currency
                .map(|c| parse_currency("paymentDetails.presentmentCurrency", &c))
                .transpose()?,
            allow_overcharge: flag("paymentDetails.allowOvercharge", self.allow_overcharge)?,
            extend_expiration: flag("paymentDetails.extendExpiration", self.extend_expiration)?,
            estimate_order_total: price("paymentDetails.estimateOrderTotal", self.estimate_order_total)?,
        })
    }

    /// Update Checkout Session: `allowOvercharge` and `extendExpiration` are set when the
    /// session is created and never after (Amazon's "advanced one-time payment options").
    /// Amazon refuses a field that is not valid for an operation as `UnrecognizedField`
    /// ("The field 'checkoutMode' is invalid for this API", amazon-pay-api-sdk-php#9).
    fn into_update(self) -> Result<PaymentDetails, Refusal> {
        for (field, sent) in [
            ("paymentDetails.allowOvercharge", self.allow_overcharge.is_some()),
            ("paymentDetails.extendExpiration", self.extend_expiration.is_some()),
        ] {
            if sent {
                return Err(Refusal::new(
                    ReasonCode::UnrecognizedField,
                    format!(
                        "the field '{field}' is invalid for this API: it is set when the Checkout Session is created"
                    ),
                ));
            }
        }
        self.into_domain()
    }
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PaymentMethodOnFileMetadataIn {
    pub setup_only: Option<BoolIn>,
}

/// A buyer's address (Finalize, and the sign-in test helper).
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
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

/// `addressDetails` on Create Checkout Session: the shipping address the merchant already
/// has (the Additional Payment Button's flow). It has `districtOrCounty` where an address
/// has `county` and `district`; amzpay keeps it as the county.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct AddressDetailsIn {
    pub name: Option<String>,
    pub address_line1: Option<String>,
    pub address_line2: Option<String>,
    pub address_line3: Option<String>,
    pub city: Option<String>,
    pub district_or_county: Option<String>,
    pub state_or_region: Option<String>,
    pub postal_code: Option<String>,
    pub country_code: Option<String>,
    pub phone_number: Option<String>,
}

impl From<AddressDetailsIn> for Address {
    fn from(a: AddressDetailsIn) -> Address {
        Address {
            name: a.name,
            address_line1: a.address_line1,
            address_line2: a.address_line2,
            address_line3: a.address_line3,
            city: a.city,
            county: a.district_or_county,
            district: None,
            state_or_region: a.state_or_region,
            postal_code: a.postal_code,
            country_code: a.country_code,
            phone_number: a.phone_number,
        }
    }
}

/// `deliverySpecifications`: where the buyer may ship to. Validated here, then kept and
/// echoed exactly as sent.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct DeliverySpecificationsIn {
    special_restrictions: Option<Vec<SpecialRestriction>>,
    address_restrictions: Option<AddressRestrictionsIn>,
}

#[derive(Debug, Deserialize, ToSchema)]
enum SpecialRestriction {
    RestrictPOBoxes,
    RestrictPackstations,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct AddressRestrictionsIn {
    #[serde(rename = "type")]
    kind: Option<RestrictionType>,
    restrictions: Option<BTreeMap<String, CountryRestrictionIn>>,
}

#[derive(Debug, Deserialize, ToSchema)]
enum RestrictionType {
    Allowed,
    NotAllowed,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct CountryRestrictionIn {
    #[allow(dead_code)]
    states_or_regions: Option<Vec<String>>,
    #[allow(dead_code)]
    zip_codes: Option<Vec<String>>,
}

fn delivery_specifications(raw: Option<Box<RawValue>>) -> Result<Option<OpaqueJson>, Refusal> {
    let Some(raw) = raw else { return Ok(None) };
    if raw.get() == "null" {
        return Ok(None);
    }
    let parsed: DeliverySpecificationsIn = parse_part("deliverySpecifications", raw.get())?;
    if let Some(restrictions) = parsed.address_restrictions {
        let countries = restrictions.restrictions.unwrap_or_default();
        if restrictions.kind.is_none() && !countries.is_empty() {
            return Err(missing("deliverySpecifications.addressRestrictions.type"));
        }
        if let Some(code) = countries.keys().find(|c| c.len() != 2 || !c.bytes().all(|b| b.is_ascii_uppercase())) {
            return Err(invalid(format!(
                "deliverySpecifications.addressRestrictions.restrictions: '{code}' is not an ISO 3166 country code"
            )));
        }
    }
    let _ = parsed.special_restrictions;
    Ok(Some(OpaqueJson::new(raw.get().to_owned())))
}

/// `scopes`: the buyer details asked for (the .NET SDK's `CheckoutSessionScope`).
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub enum Scope {
    Name,
    Email,
    PostalCode,
    ShippingAddress,
    PhoneNumber,
    PrimeStatus,
    BillingAddress,
}

/// One entry of `multiAddressesCheckoutMetadata` (Japan's multi-address checkout).
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct MultiAddressIn {
    #[schema(required, value_type = String)]
    pub address_id: Option<String>,
    #[schema(required, value_type = PriceIn)]
    pub price: Option<PriceIn>,
}

/// Multi-address checkouts are validated, not modelled: amzpay's buyers have one address.
fn check_multi_address(entries: Option<Vec<MultiAddressIn>>) -> Result<(), Refusal> {
    for (index, entry) in entries.unwrap_or_default().into_iter().enumerate() {
        let field = format!("multiAddressesCheckoutMetadata[{index}]");
        entry.address_id.ok_or_else(|| missing(&format!("{field}.addressId")))?;
        entry.price.ok_or_else(|| missing(&format!("{field}.price")))?.to_money(&format!("{field}.price"))?;
    }
    Ok(())
}

/// Create Checkout Session.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[schema(example = json!({"webCheckoutDetails": {"checkoutReviewReturnUrl": "https://shop.example/review", "checkoutResultReturnUrl": "https://shop.example/result"}, "storeId": "amzn1.application-oa2-client.example", "paymentDetails": {"paymentIntent": "Authorize", "chargeAmount": {"amount": "14.00", "currencyCode": "USD"}}}))]
pub struct CreateSessionBody {
    #[schema(required, value_type = WebCheckoutDetailsIn)]
    pub web_checkout_details: Option<WebCheckoutDetailsIn>,
    #[schema(required, value_type = String)]
    pub store_id: Option<String>,
    pub charge_permission_type: Option<String>,
    pub recurring_metadata: Option<RecurringMetadataIn>,
    pub payment_details: Option<PaymentDetailsIn>,
    pub merchant_metadata: Option<MerchantMetadataIn>,
    pub scopes: Option<Vec<Scope>>,
    pub payment_method_on_file_metadata: Option<PaymentMethodOnFileMetadataIn>,
    pub platform_id: Option<String>,
    pub provider_metadata: Option<ProviderMetadataIn>,
    #[schema(value_type = Option<DeliverySpecificationsIn>)]
    pub delivery_specifications: Option<Box<RawValue>>,
    pub address_details: Option<AddressDetailsIn>,
    pub checkout_button_text: Option<String>,
    pub supplementary_data: Option<String>,
    pub charge_permission_id: Option<String>,
    pub multi_addresses_checkout_metadata: Option<Vec<MultiAddressIn>>,
}

impl CreateSessionBody {
    pub fn into_command(self) -> Result<NewSession, Refusal> {
        let details = self.web_checkout_details.ok_or_else(|| missing("webCheckoutDetails"))?;
        let store_id = self.store_id.ok_or_else(|| missing("storeId"))?;
        let process_order = checkout_mode(details.checkout_mode)?.unwrap_or(false);
        let kind =
            self.charge_permission_type.as_deref().map(permission_type).transpose()?.unwrap_or(PermissionType::OneTime);
        let setup_only = match self.payment_method_on_file_metadata {
            Some(metadata) => flag("paymentMethodOnFileMetadata.setupOnly", metadata.setup_only)?,
            None => None,
        };
        let renews_permission = self
            .charge_permission_id
            .map(|text| {
                ChargePermissionId::parse(&text)
                    .ok_or_else(|| invalid(format!("chargePermissionId '{text}' is not a charge permission id")))
            })
            .transpose()?;
        let _ = self.scopes;
        check_multi_address(self.multi_addresses_checkout_metadata)?;
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
                provider_reference_id: self.provider_metadata.and_then(|p| p.provider_reference_id),
                supplementary_data: self.supplementary_data,
                ..Default::default()
            },
            setup_only,
            delivery_specifications: delivery_specifications(self.delivery_specifications)?,
            address_details: self.address_details.map(Address::from),
            renews_permission,
            checkout_button_text: self.checkout_button_text,
        })
    }
}

/// Update Checkout Session.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct UpdateSessionBody {
    pub web_checkout_details: Option<WebCheckoutDetailsIn>,
    pub payment_details: Option<PaymentDetailsIn>,
    pub merchant_metadata: Option<MerchantMetadataIn>,
    pub recurring_metadata: Option<RecurringMetadataIn>,
    pub platform_id: Option<String>,
    pub provider_metadata: Option<ProviderMetadataIn>,
    pub supplementary_data: Option<String>,
    pub charge_permission_type: Option<String>,
    pub multi_addresses_checkout_metadata: Option<Vec<MultiAddressIn>>,
}

impl UpdateSessionBody {
    pub fn into_command(self) -> Result<SessionUpdate, Refusal> {
        let (review, result, cancel, mode) = match self.web_checkout_details {
            Some(d) => {
                (d.checkout_review_return_url, d.checkout_result_return_url, d.checkout_cancel_url, d.checkout_mode)
            }
            None => (None, None, None, None),
        };
        check_multi_address(self.multi_addresses_checkout_metadata)?;
        Ok(SessionUpdate {
            checkout_review_return_url: url("checkoutReviewReturnUrl", review)?,
            checkout_result_return_url: url("checkoutResultReturnUrl", result)?,
            checkout_cancel_url: url("checkoutCancelUrl", cancel)?,
            process_order: checkout_mode(mode)?,
            payment_details: self.payment_details.map(PaymentDetailsIn::into_update).transpose()?,
            merchant_metadata: self.merchant_metadata.map(Into::into),
            recurring_metadata: self.recurring_metadata.map(RecurringMetadataIn::into_domain).transpose()?,
            kind: self.charge_permission_type.as_deref().map(permission_type).transpose()?,
            platform_id: self.platform_id,
            provider_reference_id: self.provider_metadata.and_then(|p| p.provider_reference_id),
            supplementary_data: self.supplementary_data,
            shipping_address: None,
            billing_address: None,
        })
    }
}

/// Complete Checkout Session.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[schema(example = json!({"chargeAmount": {"amount": "14.00", "currencyCode": "USD"}}))]
pub struct CompleteSessionBody {
    #[schema(required, value_type = PriceIn)]
    pub charge_amount: Option<PriceIn>,
    pub total_order_amount: Option<PriceIn>,
}

impl CompleteSessionBody {
    pub fn into_amounts(self) -> Result<(Money, Option<Money>), Refusal> {
        let charge = self.charge_amount.ok_or_else(|| missing("chargeAmount"))?.to_money("chargeAmount")?;
        let total = price("totalOrderAmount", self.total_order_amount)?;
        Ok((charge, total))
    }
}

/// Finalize Checkout Session.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct FinalizeSessionBody {
    pub shipping_address: Option<AddressIn>,
    pub billing_address: Option<AddressIn>,
    #[schema(required, value_type = PriceIn)]
    pub charge_amount: Option<PriceIn>,
    pub total_order_amount: Option<PriceIn>,
    pub payment_intent: Option<String>,
    pub can_handle_pending_authorization: Option<BoolIn>,
    pub supplementary_data: Option<String>,
}

impl FinalizeSessionBody {
    /// What it sets on the session, then the amounts to complete with.
    pub fn into_parts(self) -> Result<(SessionUpdate, Money, Option<Money>), Refusal> {
        let charge = self.charge_amount.ok_or_else(|| missing("chargeAmount"))?.to_money("chargeAmount")?;
        let total = price("totalOrderAmount", self.total_order_amount)?;
        let details = PaymentDetails {
            payment_intent: self.payment_intent.as_deref().map(intent).transpose()?,
            charge_amount: Some(charge),
            total_order_amount: total,
            can_handle_pending_authorization: flag(
                "canHandlePendingAuthorization",
                self.can_handle_pending_authorization,
            )?,
            ..Default::default()
        };
        let update = SessionUpdate {
            payment_details: Some(details),
            supplementary_data: self.supplementary_data,
            shipping_address: self.shipping_address.map(Address::from),
            billing_address: self.billing_address.map(Address::from),
            ..Default::default()
        };
        Ok((update, charge, total))
    }
}

/// `POST /v2/testHelpers/checkoutSessions/{id}/signIn` (product.md).
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[schema(example = json!({"paymentMethod": "1111"}))]
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
    pub fn into_parts(self) -> Result<(Buyer, Address, SandboxCard), Refusal> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::body::parse_body;

    fn create(json: &str) -> Result<NewSession, ReasonCode> {
        parse_body::<CreateSessionBody>(json.as_bytes()).and_then(CreateSessionBody::into_command).map_err(|e| e.code)
    }

    fn update(json: &str) -> Result<SessionUpdate, ReasonCode> {
        parse_body::<UpdateSessionBody>(json.as_bytes()).and_then(UpdateSessionBody::into_command).map_err(|e| e.code)
    }

    const BASE: &str = r#""webCheckoutDetails":{"checkoutReviewReturnUrl":"https://a.example/r"},"storeId":"s""#;

    #[test]
    fn delivery_specifications_are_validated_and_kept_as_sent() {
        let sent = r#"{"specialRestrictions":["RestrictPOBoxes"],"addressRestrictions":{"type":"Allowed","restrictions":{"US":{"statesOrRegions":["WA"],"zipCodes":["98109"]},"DE":{}}}}"#;
        let new = create(&format!(r#"{{{BASE},"deliverySpecifications":{sent}}}"#)).unwrap();
        assert_eq!(new.delivery_specifications.unwrap().as_str(), sent);
        let refused = [
            (r#"{"specialRestrictions":["RestrictIgloos"]}"#, ReasonCode::InvalidParameterValue),
            (r#"{"addressRestrictions":{"type":"Maybe","restrictions":{}}}"#, ReasonCode::InvalidParameterValue),
            (r#"{"addressRestrictions":{"restrictions":{"US":{}}}}"#, ReasonCode::MissingParameterValue),
            (
                r#"{"addressRestrictions":{"type":"Allowed","restrictions":{"usa":{}}}}"#,
                ReasonCode::InvalidParameterValue,
            ),
            (
                r#"{"addressRestrictions":{"type":"Allowed","restrictions":{"US":{"cities":[]}}}}"#,
                ReasonCode::UnrecognizedField,
            ),
            (r#"{"bogus":1}"#, ReasonCode::UnrecognizedField),
        ];
        for (specs, code) in refused {
            assert_eq!(
                create(&format!(r#"{{{BASE},"deliverySpecifications":{specs}}}"#)).map(|_| ()),
                Err(code),
                "{specs}"
            );
        }
        let error =
            parse_body::<CreateSessionBody>(format!(r#"{{{BASE},"deliverySpecifications":{{"bogus":1}}}}"#).as_bytes())
                .and_then(CreateSessionBody::into_command)
                .unwrap_err();
        assert!(error.message.contains("deliverySpecifications.bogus"), "{}", error.message);
    }

    #[test]
    fn creation_only_payment_details_are_refused_on_update() {
        for field in ["allowOvercharge", "extendExpiration"] {
            let json = format!(r#"{{"paymentDetails":{{"{field}":true}}}}"#);
            assert_eq!(update(&json).map(|_| ()), Err(ReasonCode::UnrecognizedField), "{field}");
            assert!(create(&format!(r#"{{{BASE},"paymentDetails":{{"{field}":true}}}}"#)).is_ok(), "{field}");
        }
        let changed = update(r#"{"chargePermissionType":"Recurring","webCheckoutDetails":{"checkoutMode":"ProcessOrder"},"supplementaryData":"{\"k\":1}"}"#)
            .unwrap();
        assert_eq!(changed.kind, Some(PermissionType::Recurring));
        assert_eq!(changed.process_order, Some(true));
        assert_eq!(changed.supplementary_data.as_deref(), Some(r#"{"k":1}"#));
        assert_eq!(
            update(r#"{"webCheckoutDetails":{"checkoutMode":"Express"}}"#).map(|_| ()),
            Err(ReasonCode::InvalidParameterValue)
        );
    }

    #[test]
    fn saved_wallet_fields_scopes_and_multi_address_entries_are_checked() {
        let new = create(&format!(
            r#"{{{BASE},"chargePermissionType":"PaymentMethodOnFile","paymentMethodOnFileMetadata":{{"setupOnly":"true"}},"chargePermissionId":"B01-0000000-0000000","scopes":["name","email","postalCode","shippingAddress","phoneNumber","primeStatus","billingAddress"]}}"#
        ))
        .unwrap();
        assert_eq!(new.setup_only, Some(true));
        assert_eq!(new.renews_permission.unwrap().as_str(), "B01-0000000-0000000");
        let refused = [
            (r#""chargePermissionId":"B01""#, ReasonCode::InvalidParameterValue),
            (r#""scopes":["shoeSize"]"#, ReasonCode::InvalidParameterValue),
            (
                r#""multiAddressesCheckoutMetadata":[{"price":{"amount":1,"currencyCode":"JPY"}}]"#,
                ReasonCode::MissingParameterValue,
            ),
            (
                r#""multiAddressesCheckoutMetadata":[{"addressId":"a","price":{"amount":1.5,"currencyCode":"JPY"}}]"#,
                ReasonCode::InvalidParameterValue,
            ),
            (r#""addressDetails":{"county":"x"}"#, ReasonCode::UnrecognizedField),
        ];
        for (extra, code) in refused {
            assert_eq!(create(&format!("{{{BASE},{extra}}}")).map(|_| ()), Err(code), "{extra}");
        }
        let apb = create(&format!(
            r#"{{{BASE},"addressDetails":{{"districtOrCounty":"Manhattan","name":"Paul Smith","city":"New York"}}}}"#
        ))
        .unwrap();
        assert_eq!(apb.address_details.unwrap().county.as_deref(), Some("Manhattan"));
    }
}
