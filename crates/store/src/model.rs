//! Records that are storage concerns rather than domain objects.

use amzpay_domain::{Environment, Region, Timestamp};

amzpay_domain::named!(ObjectType, NotificationType, JobKind);

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
    /// The operation and its target (`CaptureCharge S01-...-C000001`): a key is scoped to
    /// them as well as to the merchant and environment (spec §8). Empty for records kept from
    /// before keys were scoped so; those answer for their key on every operation.
    pub scope: String,
    /// Hash of what the request asked for (operation, target, body): a retry must match.
    pub fingerprint: String,
    pub status: u16,
    pub body: Vec<u8>,
    pub created_at: Timestamp,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, strum::IntoStaticStr, strum::EnumString)]
#[strum(serialize_all = "SCREAMING_SNAKE_CASE")]
pub enum ObjectType {
    ChargePermission,
    Charge,
    Refund,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, strum::IntoStaticStr, strum::EnumString)]
#[strum(serialize_all = "SCREAMING_SNAKE_CASE")]
pub enum NotificationType {
    StateChange,
    AttributeChange,
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

/// What a scheduled transition does when it falls due.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, strum::IntoStaticStr, strum::EnumString)]
pub enum JobKind {
    /// A pending authorization resolves (sandbox delay after it started).
    ResolveAuthorization,
    /// An asynchronous capture completes (sandbox delay after it started).
    CompleteCapture,
    /// A refund settles (sandbox delay after it started).
    SettleRefund,
    /// An authorization left uncaptured expires (30 days).
    ExpireAuthorization,
    /// A charge permission reaches its expiration.
    ExpirePermission,
    /// An Open checkout session reaches 24 hours.
    ExpireCheckoutSession,
}

/// A durable scheduled transition, written in the same transaction as the change that
/// scheduled it, run once when it falls due on its merchant's clock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Job {
    /// Assigned by the store; 0 before insertion.
    pub id: i64,
    pub merchant_id: String,
    pub environment: Environment,
    pub kind: JobKind,
    /// The charge, refund, permission or checkout session id.
    pub object_id: String,
    pub due_at: Timestamp,
}

/// A merchant's sandbox clock: real time plus an offset, or frozen at an instant (then it
/// moves only when advanced, so tests can land exactly on a boundary).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SandboxClock {
    pub offset_seconds: i64,
    pub frozen_at: Option<Timestamp>,
}

impl SandboxClock {
    /// The clock's time when real time is `real_now`.
    pub fn now(self, real_now: Timestamp) -> Timestamp {
        self.frozen_at.unwrap_or_else(|| real_now.plus_seconds(self.offset_seconds))
    }

    /// Moved forward by `seconds`.
    pub fn advanced(self, seconds: i64) -> SandboxClock {
        match self.frozen_at {
            Some(at) => SandboxClock { frozen_at: Some(at.plus_seconds(seconds)), ..self },
            None => SandboxClock { offset_seconds: self.offset_seconds.saturating_add(seconds), ..self },
        }
    }

    /// Stopped at its current time.
    pub fn frozen(self, real_now: Timestamp) -> SandboxClock {
        SandboxClock { frozen_at: Some(self.now(real_now)), ..self }
    }

    /// Running again from its current time.
    pub fn running(self, real_now: Timestamp) -> SandboxClock {
        let now = self.now(real_now);
        SandboxClock { offset_seconds: now.seconds_since(real_now), frozen_at: None }
    }
}
