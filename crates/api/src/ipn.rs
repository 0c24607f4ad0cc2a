//! The IPN wire format (spec §10, product.md): the SNS envelope and the Amazon Pay message
//! inside it, in Amazon's field order, and amzpay's test-helper bodies for endpoints and the
//! delivery log.
//!
//! Only shapes and formats live here: who signs, when and where to send are the server's.

use amzpay_domain::Timestamp;
use serde::{Deserialize, Deserializer, Serialize};
use time::OffsetDateTime;
use time::macros::format_description;
use utoipa::ToSchema;

use crate::format::format_timestamp;
use crate::requests::invalid;
use crate::{ReasonCode, Refusal};

/// `NotificationVersion` of every Amazon Pay v2 IPN.
pub const NOTIFICATION_VERSION: &str = "V2";
/// `SignatureVersion` 1: SHA1withRSA.
pub const SIGNATURE_VERSION: &str = "1";
/// The SNS message type of a notification (envelope `Type`, header `x-amz-sns-message-type`).
pub const SNS_NOTIFICATION: &str = "Notification";
/// Longest endpoint URL accepted (ours; the practical limit of browsers and proxies).
pub const IPN_URL_MAX_CHARS: usize = 2_048;

/// The Amazon Pay message: a JSON document carried as a string in the envelope's `Message`.
/// It names what changed and carries no state: the receiver GETs the object.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct IpnMessage<'a> {
    #[serde(rename = "MerchantID")]
    pub merchant_id: &'a str,
    /// `CHARGE_PERMISSION`, `CHARGE` or `REFUND`.
    pub object_type: &'a str,
    pub object_id: &'a str,
    pub charge_permission_id: &'a str,
    /// `STATE_CHANGE` or `ATTRIBUTE_CHANGE`.
    pub notification_type: &'a str,
    pub notification_id: &'a str,
    pub notification_version: &'static str,
}

impl IpnMessage<'_> {
    /// The message as the envelope carries it.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("serializing strings")
    }
}

/// The SNS envelope posted to the endpoint (`content-type: text/plain`).
#[derive(Debug, Clone, Serialize)]
pub struct SnsEnvelope {
    #[serde(rename = "Type")]
    pub kind: &'static str,
    #[serde(rename = "MessageId")]
    pub message_id: String,
    #[serde(rename = "TopicArn")]
    pub topic_arn: String,
    #[serde(rename = "Message")]
    pub message: String,
    #[serde(rename = "Timestamp")]
    pub timestamp: String,
    #[serde(rename = "SignatureVersion")]
    pub signature_version: &'static str,
    #[serde(rename = "Signature")]
    pub signature: String,
    #[serde(rename = "SigningCertURL")]
    pub signing_cert_url: String,
    #[serde(rename = "UnsubscribeURL")]
    pub unsubscribe_url: String,
}

/// SNS's `Timestamp`: ISO 8601 in UTC with milliseconds, `2026-11-25T17:00:00.123Z`.
pub fn format_sns_timestamp(ms: i64) -> String {
    let dt =
        OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000).unwrap_or(OffsetDateTime::UNIX_EPOCH);
    dt.format(format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"))
        .expect("formatting a valid date")
}

/// A time in milliseconds, as the delivery log writes it (Amazon's format, whole seconds).
pub fn format_millis(ms: i64) -> String {
    format_timestamp(Timestamp::from_unix_seconds(ms.div_euclid(1000)))
}

/// `PUT /v2/testHelpers/ipnEndpoint`: `{"url": "https://..."}`, or `{"url": null}` to clear.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct IpnEndpointBody {
    /// Absent (`None`) is refused; `Some(None)` clears.
    #[serde(default, deserialize_with = "present")]
    #[schema(required, value_type = Option<String>)]
    pub url: Option<Option<String>>,
}

fn present<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(deserializer).map(Some)
}

impl IpnEndpointBody {
    /// The endpoint to set (`None` clears): an absolute `http` or `https` URL with a host.
    pub fn into_url(self) -> Result<Option<String>, Refusal> {
        let url = self.url.ok_or_else(|| crate::requests::missing("url"))?;
        let Some(url) = url else { return Ok(None) };
        check_endpoint_url(&url)?;
        Ok(Some(url))
    }
}

/// An IPN endpoint: absolute `http://` or `https://`, a host, no spaces or control
/// characters, at most [`IPN_URL_MAX_CHARS`].
pub fn check_endpoint_url(url: &str) -> Result<(), Refusal> {
    let rest = url.strip_prefix("https://").or_else(|| url.strip_prefix("http://"));
    let host = rest.map(|r| r.split(['/', '?', '#']).next().unwrap_or(""));
    let well_formed = url.chars().count() <= IPN_URL_MAX_CHARS
        && !url.chars().any(|c| c.is_whitespace() || c.is_control())
        && host.is_some_and(|h| !h.is_empty() && !h.contains('@'));
    if well_formed {
        Ok(())
    } else {
        Err(invalid(format!(
            "url must be an absolute http:// or https:// URL with a host, at most {IPN_URL_MAX_CHARS} characters"
        )))
    }
}

/// The answer of the endpoint test helper.
#[derive(Debug, Serialize, ToSchema)]
pub struct IpnEndpointOut<'a> {
    #[schema(required)]
    pub url: Option<&'a str>,
}

/// One attempt in the delivery log.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AttemptOut<'a> {
    pub timestamp: String,
    pub url: &'a str,
    #[schema(required)]
    pub status_code: Option<u16>,
    #[schema(required)]
    pub error: Option<&'a str>,
    pub latency_millis: i64,
}

/// One notification in the delivery log.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct NotificationOut<'a> {
    pub notification_id: &'a str,
    pub message_id: &'a str,
    pub object_type: &'a str,
    pub object_id: &'a str,
    pub charge_permission_id: &'a str,
    pub notification_type: &'a str,
    pub creation_timestamp: String,
    /// `Pending`, `Delivered`, `Failed` or `NoEndpoint`.
    pub status: &'a str,
    #[schema(required)]
    pub next_attempt_timestamp: Option<String>,
    pub attempts: Vec<AttemptOut<'a>>,
}

/// The delivery log: `{"notifications": [...]}`, newest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct NotificationsOut<'a> {
    pub notifications: Vec<NotificationOut<'a>>,
}

/// Most notifications one page of the log may show, and how many it shows unless asked.
pub const NOTIFICATIONS_MAX_LIMIT: u32 = 500;
pub const NOTIFICATIONS_DEFAULT_LIMIT: u32 = 100;

/// Reads `?limit=N` (1 to [`NOTIFICATIONS_MAX_LIMIT`]) from a raw query string.
pub fn notifications_limit(query: &str) -> Result<u32, Refusal> {
    let mut limit = NOTIFICATIONS_DEFAULT_LIMIT;
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        match name {
            "limit" => {
                limit = value
                    .parse()
                    .ok()
                    .filter(|n| (1..=NOTIFICATIONS_MAX_LIMIT).contains(n))
                    .ok_or_else(|| invalid(format!("limit must be 1 to {NOTIFICATIONS_MAX_LIMIT}")))?;
            }
            other => {
                return Err(Refusal::new(
                    ReasonCode::InvalidParameterValue,
                    format!("unknown query parameter '{other}'"),
                ));
            }
        }
    }
    Ok(limit)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::body::parse_body;

    #[test]
    fn the_message_and_envelope_keep_amazons_field_order() {
        let message = IpnMessage {
            merchant_id: "M1",
            object_type: "CHARGE",
            object_id: "S01-0000000-0000000-C000001",
            charge_permission_id: "S01-0000000-0000000",
            notification_type: "STATE_CHANGE",
            notification_id: "n1",
            notification_version: NOTIFICATION_VERSION,
        };
        assert_eq!(
            message.to_json(),
            r#"{"MerchantID":"M1","ObjectType":"CHARGE","ObjectId":"S01-0000000-0000000-C000001","ChargePermissionId":"S01-0000000-0000000","NotificationType":"STATE_CHANGE","NotificationId":"n1","NotificationVersion":"V2"}"#
        );
        let envelope = SnsEnvelope {
            kind: SNS_NOTIFICATION,
            message_id: "m".into(),
            topic_arn: "t".into(),
            message: "{}".into(),
            timestamp: format_sns_timestamp(1_764_090_000_042),
            signature_version: SIGNATURE_VERSION,
            signature: "s".into(),
            signing_cert_url: "c".into(),
            unsubscribe_url: "u".into(),
        };
        let keys: Vec<String> = match serde_json::to_value(&envelope).unwrap() {
            serde_json::Value::Object(map) => map.keys().cloned().collect(),
            _ => unreachable!(),
        };
        let mut sorted = keys.clone();
        sorted.sort();
        assert_eq!(sorted.len(), 9);
        let text = serde_json::to_string(&envelope).unwrap();
        let order = [
            "Type",
            "MessageId",
            "TopicArn",
            "Message",
            "Timestamp",
            "SignatureVersion",
            "Signature",
            "SigningCertURL",
            "UnsubscribeURL",
        ];
        let positions: Vec<usize> = order.iter().map(|k| text.find(&format!("\"{k}\"")).unwrap()).collect();
        assert!(positions.windows(2).all(|w| w[0] < w[1]), "{text}");
        assert_eq!(envelope.timestamp, "2025-11-25T17:00:00.042Z");
    }

    #[test]
    fn endpoints_are_absolute_http_urls_and_null_clears() {
        let url = |json: &str| parse_body::<IpnEndpointBody>(json.as_bytes()).and_then(IpnEndpointBody::into_url);
        assert_eq!(url(r#"{"url":"https://shop.example/ipn"}"#), Ok(Some("https://shop.example/ipn".into())));
        assert_eq!(url(r#"{"url":"http://127.0.0.1:9000/"}"#), Ok(Some("http://127.0.0.1:9000/".into())));
        assert_eq!(url(r#"{"url":null}"#), Ok(None));
        assert_eq!(url(r#"{}"#).unwrap_err().code, ReasonCode::MissingParameterValue);
        for bad in ["ftp://x/", "https://", "/ipn", "https://a b/", "http://user@host/"] {
            let json = serde_json::json!({ "url": bad }).to_string();
            assert_eq!(url(&json).unwrap_err().code, ReasonCode::InvalidParameterValue, "{bad}");
        }
        let long = format!("https://x.example/{}", "a".repeat(IPN_URL_MAX_CHARS));
        assert_eq!(
            url(&serde_json::json!({ "url": long }).to_string()).unwrap_err().code,
            ReasonCode::InvalidParameterValue
        );
        assert_eq!(url(r#"{"url":"https://x/","other":1}"#).unwrap_err().code, ReasonCode::UnrecognizedField);
    }

    #[test]
    fn the_log_limit_is_bounded() {
        assert_eq!(notifications_limit(""), Ok(NOTIFICATIONS_DEFAULT_LIMIT));
        assert_eq!(notifications_limit("limit=5"), Ok(5));
        for bad in ["limit=0", "limit=501", "limit=x", "page=2"] {
            assert_eq!(notifications_limit(bad).unwrap_err().code, ReasonCode::InvalidParameterValue, "{bad}");
        }
    }
}
