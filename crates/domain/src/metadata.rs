//! Small validated values carried by permissions and charges.

use crate::error::{ReasonCode, Refusal};
use crate::limits;
use crate::money::Money;

amzpay_types::named!(FrequencyUnit, ChargeInitiator, Channel);

fn check_length(field: &str, value: &Option<String>, max: usize) -> Result<(), Refusal> {
    match value {
        Some(text) if text.chars().count() > max => {
            Err(Refusal::new(ReasonCode::InvalidParameterValue, format!("{field} is longer than {max} characters")))
        }
        _ => Ok(()),
    }
}

/// Merchant-provided order details (spec §5.1).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MerchantMetadata {
    pub merchant_reference_id: Option<String>,
    pub merchant_store_name: Option<String>,
    pub note_to_buyer: Option<String>,
    pub custom_information: Option<String>,
}

impl MerchantMetadata {
    /// Checks every field's length (spec §5.1 (unconfirmed)).
    pub fn validate(self) -> Result<MerchantMetadata, Refusal> {
        check_length(
            "merchantMetadata.merchantReferenceId",
            &self.merchant_reference_id,
            limits::MERCHANT_REFERENCE_ID_MAX_CHARS,
        )?;
        check_length(
            "merchantMetadata.merchantStoreName",
            &self.merchant_store_name,
            limits::MERCHANT_STORE_NAME_MAX_CHARS,
        )?;
        check_length("merchantMetadata.noteToBuyer", &self.note_to_buyer, limits::NOTE_TO_BUYER_MAX_CHARS)?;
        check_length(
            "merchantMetadata.customInformation",
            &self.custom_information,
            limits::CUSTOM_INFORMATION_MAX_CHARS,
        )?;
        Ok(self)
    }
}

/// How often a recurring permission is charged (spec §5.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, strum::IntoStaticStr, strum::EnumString)]
pub enum FrequencyUnit {
    Year,
    Month,
    Week,
    Day,
    Variable,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecurringMetadata {
    pub frequency: Option<(FrequencyUnit, u32)>,
    pub amount: Option<Money>,
}

/// A postal address (spec §5.1).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Address {
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

/// A JSON document the wire layer has validated and amzpay keeps and echoes as given
/// (`deliverySpecifications`). The rules never read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpaqueJson(String);

impl OpaqueJson {
    /// Wraps JSON text the caller has validated.
    pub fn new(text: String) -> OpaqueJson {
        OpaqueJson(text)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Merchant text amzpay keeps and echoes as given (`supplementaryData`,
/// `checkoutButtonText`): bounded so that a row stays small.
pub fn echoed_text(field: &str, value: Option<String>) -> Result<Option<String>, Refusal> {
    check_length(field, &value, limits::ECHOED_TEXT_MAX_CHARS)?;
    Ok(value)
}

/// The merchant's pages a buyer may be sent to from a Charge (Create Charge
/// `webCheckoutDetails`: a Saved Wallet charge that needs the buyer's multi-factor
/// authentication returns them to `checkoutResultReturnUrl`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct WebCheckoutDetails {
    pub checkout_review_return_url: Option<String>,
    pub checkout_result_return_url: Option<String>,
    pub checkout_cancel_url: Option<String>,
}

/// The buyer as the merchant sees them (spec §5.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Buyer {
    pub buyer_id: String,
    pub name: String,
    pub email: String,
    pub phone_number: Option<String>,
}

/// Text shown on the buyer's statement (`AMZ* <softDescriptor>`): non-empty, at most
/// 16 bytes (seeds 000/003).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SoftDescriptor(String);

impl SoftDescriptor {
    pub fn parse(text: &str) -> Result<SoftDescriptor, Refusal> {
        if text.is_empty() || text.len() > limits::SOFT_DESCRIPTOR_MAX_BYTES {
            return Err(Refusal::new(
                ReasonCode::InvalidParameterValue,
                format!("softDescriptor must be 1 to {} characters", limits::SOFT_DESCRIPTOR_MAX_BYTES),
            ));
        }
        Ok(SoftDescriptor(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Who initiated a charge (spec §5.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, strum::IntoStaticStr, strum::EnumString)]
#[strum(serialize_all = "UPPERCASE")]
pub enum ChargeInitiator {
    Citu,
    Mitu,
    Citr,
    Mitr,
}

/// Where a charge was made (spec §5.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, strum::IntoStaticStr, strum::EnumString)]
pub enum Channel {
    Web,
    Phone,
    App,
    Alexa,
    PointOfSale,
    FireTv,
    Offline,
    Amazon,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn soft_descriptors_are_one_to_sixteen_bytes() {
        assert!(SoftDescriptor::parse("Descriptor").is_ok());
        assert!(SoftDescriptor::parse("0123456789abcdef").is_ok());
        assert_eq!(SoftDescriptor::parse("0123456789abcdefg").unwrap_err().code, ReasonCode::InvalidParameterValue);
        assert!(SoftDescriptor::parse("").is_err());
        // Nine two-byte characters are 18 bytes.
        assert!(SoftDescriptor::parse("ééééééééé").is_err());
    }

    #[test]
    fn merchant_metadata_lengths_are_bounded() {
        let long = |n| Some("x".repeat(n));
        let cases = [
            (MerchantMetadata { merchant_reference_id: long(256), ..Default::default() }, true),
            (MerchantMetadata { merchant_reference_id: long(257), ..Default::default() }, false),
            (MerchantMetadata { merchant_store_name: long(50), ..Default::default() }, true),
            (MerchantMetadata { merchant_store_name: long(51), ..Default::default() }, false),
            (MerchantMetadata { note_to_buyer: long(256), ..Default::default() }, false),
            (MerchantMetadata { custom_information: long(4097), ..Default::default() }, false),
        ];
        for (metadata, ok) in cases {
            assert_eq!(metadata.clone().validate().is_ok(), ok, "{metadata:?}");
        }
    }
}
