//! Records that are storage concerns rather than domain objects.

use amzpay_domain::{Environment, ReasonCode, Region, Timestamp};

amzpay_domain::named!(ObjectType, NotificationType, JobKind, DeliveryStatus, ObjectKind, Cause);

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MerchantRecord {
    pub merchant_id: String,
    pub region: Region,
    pub store_id: String,
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
/// change itself (outbox), and delivered from there at least once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// The IPN's `NotificationId`: random, unique.
    pub notification_id: String,
    /// The SNS envelope's `MessageId`: random, kept across redeliveries.
    pub message_id: String,
    pub merchant_id: String,
    pub environment: Environment,
    pub object_type: ObjectType,
    pub object_id: String,
    pub charge_permission_id: String,
    pub notification_type: NotificationType,
    /// When the change happened, on the merchant's clock.
    pub created_at: Timestamp,
}

/// Where a notification's delivery stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, strum::IntoStaticStr, strum::EnumString)]
pub enum DeliveryStatus {
    /// Waiting for its first attempt or a retry.
    Pending,
    /// An endpoint answered 2xx.
    Delivered,
    /// An endpoint answered 3xx or 4xx, or retries ran out.
    Failed,
    /// The merchant had no endpoint when it fell due: never sent.
    NoEndpoint,
}

/// One delivery attempt of a notification. Times are real time, in milliseconds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempt {
    pub at_ms: i64,
    pub url: String,
    /// The HTTP status, when the endpoint answered.
    pub status_code: Option<u16>,
    /// Why there is no status: a connection error or a timeout.
    pub error: Option<String>,
    pub latency_ms: i64,
}

/// A notification with its delivery: what the delivery log shows and the worker sends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notification {
    pub event: Event,
    pub status: DeliveryStatus,
    /// When the next attempt is due (real time, ms), while `Pending`.
    pub next_attempt_ms: Option<i64>,
    /// When the first attempt of this round was made (real time, ms): retries stop a
    /// bounded time after it. A redelivery starts a new round.
    pub first_attempt_ms: Option<i64>,
    /// Attempts made in this round (a redelivery starts a new one): picks the next delay.
    pub round_attempts: u32,
    /// When it was first leased for delivery (real time, ms): the SNS envelope's
    /// `Timestamp`, the same on every attempt and redelivery.
    pub published_ms: Option<i64>,
    /// Oldest first. Empty when read for delivery.
    pub attempts: Vec<Attempt>,
}

/// How one attempt ended, as the store records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttemptOutcome {
    /// `None` when no endpoint was set (nothing was sent).
    pub attempt: Option<Attempt>,
    pub status: DeliveryStatus,
    /// The next attempt, while `Pending`.
    pub next_attempt_ms: Option<i64>,
}

/// The key and self-signed certificate amzpay signs SNS envelopes with: one per database,
/// made on first use, so every process sharing the database signs alike.
#[derive(Clone, PartialEq, Eq)]
pub struct SnsSigningKey {
    /// PKCS#8 PEM. Never logged.
    pub private_key_pem: String,
    pub certificate_pem: String,
    pub created_at: Timestamp,
}

impl std::fmt::Debug for SnsSigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SnsSigningKey").field("private_key_pem", &"<redacted>").finish_non_exhaustive()
    }
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

/// A stored job this version cannot read (a kind or environment it does not know): it
/// cannot run, so it is recorded failed rather than left in front of the jobs after it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UndecodableJob {
    pub id: i64,
    pub merchant_id: String,
    pub due_at: Timestamp,
    /// Why it could not be read.
    pub error: String,
}

/// A job that fell due, as stored: readable, or not.
pub type DueJob = Result<Job, UndecodableJob>;

/// A job that failed: it runs no more and is kept with its error, to be shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailedJob {
    pub id: i64,
    pub merchant_id: String,
    /// As stored (`sandbox`, `live`), since a job that could not be read fails too.
    pub environment: String,
    /// As stored (`ResolveAuthorization`...).
    pub kind: String,
    pub object_id: String,
    pub due_at: Timestamp,
    /// The instant it was given up on (its due instant, as `done_at` of a job that ran).
    pub finished_at: Timestamp,
    /// Times it was run (1: a failed job is not retried).
    pub attempts: u32,
    pub error: String,
}

/// How work run in a savepoint ([`crate::WriteTx::isolated`]) ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Isolated {
    /// It asked to keep its writes: they stay in the transaction.
    Kept,
    /// It asked to roll back: its writes alone were undone.
    RolledBack,
    /// It panicked (the message): its writes alone were undone.
    Panicked(String),
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

/// A sandbox fault a merchant asked for (product.md, "Fault injection"): the next
/// `remaining` of its requests that match wait `delay_ms`, then answer `reason_code`
/// without running, or run when there is none.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fault {
    /// Random, unique.
    pub fault_id: String,
    pub merchant_id: String,
    pub environment: Environment,
    /// `TooManyRequests`, `ServiceUnavailable` or `InternalServerError`; `None` only delays.
    pub reason_code: Option<ReasonCode>,
    /// How many requests it was asked for.
    pub count: u32,
    /// How many it still applies to (at least 1: a spent fault is deleted).
    pub remaining: u32,
    /// The operations it applies to, by name; `None` for every operation.
    pub operations: Option<Vec<String>>,
    pub delay_ms: u32,
    /// On the merchant's clock.
    pub created_at: Timestamp,
}

impl Fault {
    /// Whether a request for `operation` is one of this fault's.
    pub fn applies_to(&self, operation: &str) -> bool {
        self.operations.as_ref().is_none_or(|names| names.iter().any(|name| name == operation))
    }
}

/// Which kind of object a state change or a dashboard list is about: the four objects a
/// merchant's integration makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, strum::IntoStaticStr, strum::EnumString)]
pub enum ObjectKind {
    CheckoutSession,
    ChargePermission,
    Charge,
    Refund,
}

/// What made an object change state, as the dashboard's timeline names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, strum::IntoStaticStr, strum::EnumString)]
pub enum Cause {
    /// A signed API call (the detail names the operation).
    Api,
    /// A signed API call with a sandbox simulation code (the detail names the code).
    Simulation,
    /// Time: a scheduled transition fell due on the merchant's clock, as the clock ran or
    /// was advanced (the detail names the transition).
    Clock,
    /// The buyer: a hosted page, or the buyer-action test helper (the detail names the
    /// action).
    Buyer,
    /// Amazon acting on its own (the Amazon-action test helper; the detail names it).
    Amazon,
}

/// One change of an object's state, recorded in the same transaction as the change: the
/// object's timeline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StateChange {
    pub merchant_id: String,
    pub environment: Environment,
    pub object_kind: ObjectKind,
    pub object_id: String,
    /// The new state, as Amazon names it (`Authorized`, `Closed`...).
    pub state: String,
    /// The state's reason code, when it has one (`Declined`'s `HardDeclined`...).
    pub reason_code: Option<String>,
    /// When, on the merchant's clock.
    pub at: Timestamp,
    pub cause: Cause,
    /// What of the cause: the operation, simulation code, transition or action's name.
    pub detail: String,
}

/// Which of a merchant's objects a dashboard list shows: newest first, at most `limit`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ObjectFilter {
    /// Only objects in this state (as stored: `Authorized`, `Open`...).
    pub state: Option<String>,
    /// Only objects whose id contains this text (exactly, case and all).
    pub id_contains: Option<String>,
    pub limit: u32,
}
