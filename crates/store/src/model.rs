//! Records that are storage concerns rather than domain objects.

use amzpay_domain::{Environment, Region, Timestamp};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MerchantRecord {
    pub merchant_id: String,
    pub region: Region,
    pub store_id: String,
    pub ipn_url: Option<String>,
    pub created_at: Timestamp,
}

/// A merchant's public key. `environment` is `None` for a legacy key (no `SANDBOX-`/`LIVE-`
/// prefix), which works in both environments through the path segment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyRecord {
    pub public_key_id: String,
    pub merchant_id: String,
    pub environment: Option<Environment>,
    pub public_key_pem: String,
    pub created_at: Timestamp,
}

/// A stored outcome of an idempotent request: replayed byte for byte.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyRecord {
    pub merchant_id: String,
    pub environment: Environment,
    pub key: String,
    /// Hash of what the request asked for (operation, target, body): a retry must match.
    pub fingerprint: String,
    pub status: u16,
    pub body: Vec<u8>,
    pub created_at: Timestamp,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ObjectType {
    ChargePermission,
    Charge,
    Refund,
}

impl ObjectType {
    /// As the IPN message spells it (spec §10).
    pub fn as_str(self) -> &'static str {
        match self {
            ObjectType::ChargePermission => "CHARGE_PERMISSION",
            ObjectType::Charge => "CHARGE",
            ObjectType::Refund => "REFUND",
        }
    }

    pub fn parse(text: &str) -> Option<ObjectType> {
        [ObjectType::ChargePermission, ObjectType::Charge, ObjectType::Refund].into_iter().find(|t| t.as_str() == text)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotificationType {
    StateChange,
    AttributeChange,
}

impl NotificationType {
    pub fn as_str(self) -> &'static str {
        match self {
            NotificationType::StateChange => "STATE_CHANGE",
            NotificationType::AttributeChange => "ATTRIBUTE_CHANGE",
        }
    }

    pub fn parse(text: &str) -> Option<NotificationType> {
        [NotificationType::StateChange, NotificationType::AttributeChange].into_iter().find(|t| t.as_str() == text)
    }
}

/// A change to notify the merchant of (an IPN), staged in the same transaction as the
/// change itself (outbox).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    pub merchant_id: String,
    pub environment: Environment,
    pub object_type: ObjectType,
    pub object_id: String,
    pub charge_permission_id: String,
    pub notification_type: NotificationType,
    pub created_at: Timestamp,
}
