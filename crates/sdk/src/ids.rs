//! The ids this SDK passes around: Amazon's Charge Permission, Charge and Refund ids (from
//! `amzpay-types`, with their serde here), the Checkout Session id, and the encoding of an
//! id as one URL path segment.
//!
//! This module never invents an id and never accepts an Amazon id that does not have
//! Amazon's shape: a typed id in a request or response is always one Amazon could have
//! written.

use std::fmt;

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

pub use amzpay_types::{ChargeId, ChargePermissionId, RefundId};

/// A Checkout Session id. Amazon's are UUIDs (`bd504926-f659-4ad7-a1a9-9a747aaf5275`), but
/// Amazon documents no format, so this SDK keeps whatever text it is given or sent and only
/// encodes it safely into paths.
///
/// ```
/// use amzpay_sdk::CheckoutSessionId;
/// let id = CheckoutSessionId::new("bd504926-f659-4ad7-a1a9-9a747aaf5275");
/// assert_eq!(id.as_str(), "bd504926-f659-4ad7-a1a9-9a747aaf5275");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct CheckoutSessionId(String);

impl CheckoutSessionId {
    /// The id with this text.
    pub fn new(id: impl Into<String>) -> CheckoutSessionId {
        CheckoutSessionId(id.into())
    }

    /// The id as Amazon writes it.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl From<String> for CheckoutSessionId {
    fn from(id: String) -> CheckoutSessionId {
        CheckoutSessionId(id)
    }
}

impl From<&str> for CheckoutSessionId {
    fn from(id: &str) -> CheckoutSessionId {
        CheckoutSessionId(id.to_owned())
    }
}

impl fmt::Display for CheckoutSessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The ids of `amzpay-types`, which has no serde: how to read and write each one.
pub(crate) trait AmazonId: Sized {
    /// What the id is, for error messages.
    const WHAT: &'static str;
    fn parse_text(text: &str) -> Option<Self>;
    fn text(&self) -> &str;
}

impl AmazonId for ChargePermissionId {
    const WHAT: &'static str = "a Charge Permission id (S01-0000000-0000000)";
    fn parse_text(text: &str) -> Option<Self> {
        ChargePermissionId::parse(text)
    }
    fn text(&self) -> &str {
        self.as_str()
    }
}

impl AmazonId for ChargeId {
    const WHAT: &'static str = "a Charge id (S01-0000000-0000000-C000000)";
    fn parse_text(text: &str) -> Option<Self> {
        ChargeId::parse(text)
    }
    fn text(&self) -> &str {
        self.as_str()
    }
}

impl AmazonId for RefundId {
    const WHAT: &'static str = "a Refund id (S01-0000000-0000000-R000000)";
    fn parse_text(text: &str) -> Option<Self> {
        RefundId::parse(text)
    }
    fn text(&self) -> &str {
        self.as_str()
    }
}

/// `#[serde(with = "crate::ids::amazon_id")]` for a field holding an `amzpay-types` id.
pub(crate) mod amazon_id {
    use super::*;

    pub fn serialize<T: AmazonId, S: Serializer>(id: &T, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(id.text())
    }

    pub fn deserialize<'de, T: AmazonId, D: Deserializer<'de>>(deserializer: D) -> Result<T, D::Error> {
        let text = String::deserialize(deserializer)?;
        T::parse_text(&text).ok_or_else(|| serde::de::Error::custom(format!("'{text}' is not {}", T::WHAT)))
    }
}

/// `#[serde(with = "crate::ids::optional_amazon_id")]` for an optional `amzpay-types` id.
pub(crate) mod optional_amazon_id {
    use super::*;

    pub fn serialize<T: AmazonId, S: Serializer>(id: &Option<T>, serializer: S) -> Result<S::Ok, S::Error> {
        match id {
            Some(id) => serializer.serialize_some(id.text()),
            None => serializer.serialize_none(),
        }
    }

    pub fn deserialize<'de, T: AmazonId, D: Deserializer<'de>>(deserializer: D) -> Result<Option<T>, D::Error> {
        let Some(text) = Option::<String>::deserialize(deserializer)? else { return Ok(None) };
        T::parse_text(&text).map(Some).ok_or_else(|| serde::de::Error::custom(format!("'{text}' is not {}", T::WHAT)))
    }
}

/// Everything RFC 3986 does not call unreserved (`A-Z a-z 0-9 - _ . ~`) is encoded in a
/// path segment, so no id can add a segment (`/`), start a query (`?`) or a fragment (`#`).
const PATH_SEGMENT: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.').remove(b'~');

/// Joins path segments with `/`, each percent-encoded as one segment.
pub(crate) fn encode_path(segments: &[&str]) -> String {
    segments.iter().map(|segment| utf8_percent_encode(segment, PATH_SEGMENT).to_string()).collect::<Vec<_>>().join("/")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_segment_is_encoded_whole() {
        assert_eq!(encode_path(&["charges", "S01-5105180-3221187-C056351"]), "charges/S01-5105180-3221187-C056351");
        assert_eq!(
            encode_path(&["checkoutSessions", "a/b c?d#e%f", "complete"]),
            "checkoutSessions/a%2Fb%20c%3Fd%23e%25f/complete"
        );
        assert_eq!(encode_path(&["x", "é~._-"]), "x/%C3%A9~._-");
    }

    #[test]
    fn amazon_ids_read_and_write_as_text_and_refuse_other_shapes() {
        #[derive(Serialize, Deserialize, Debug, PartialEq)]
        struct Holder {
            #[serde(with = "amazon_id")]
            charge: ChargeId,
            #[serde(with = "optional_amazon_id", default)]
            refund: Option<RefundId>,
        }
        let json = r#"{"charge":"S01-5105180-3221187-C056351","refund":null}"#;
        let holder: Holder = serde_json::from_str(json).unwrap();
        assert_eq!(holder.charge.as_str(), "S01-5105180-3221187-C056351");
        assert_eq!(serde_json::to_string(&holder).unwrap(), json);
        let error = serde_json::from_str::<Holder>(r#"{"charge":"S01-5105180-3221187"}"#).unwrap_err();
        assert!(error.to_string().contains("is not a Charge id"), "{error}");
    }
}
