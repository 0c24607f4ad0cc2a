//! The SQLite backend.
//!
//! Durability: WAL with `synchronous=FULL`, so a committed transaction survives a crash or
//! a power loss. Throughput: one writer thread owns the write connection and commits every
//! job waiting in its queue in one transaction (group commit), each job inside its own
//! savepoint so that one job's failure rolls back only its own writes. Reads run on a small
//! pool of read connections, which WAL lets proceed beside the writer.

use std::path::Path;
use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use amzpay_domain::charge::{CancelReason, ChargeState, DeclineReason};
use amzpay_domain::charge_permission::{ClosureReason, NonChargeableReason};
use amzpay_domain::checkout_session::{
    Address, CheckoutSession, PaymentDetails, PaymentIntent, SessionCancelReason, SessionState,
};
use amzpay_domain::metadata::{
    Buyer, Channel, ChargeInitiator, FrequencyUnit, MerchantMetadata, OpaqueJson, RecurringMetadata, SoftDescriptor,
    WebCheckoutDetails,
};
use amzpay_domain::refund::RefundDeclineReason;
use amzpay_domain::sandbox::{PendingResolution, SandboxCard};
use amzpay_domain::*;
use rusqlite::{Connection, OptionalExtension, Row, params};

use crate::model::*;
use crate::{BoxFuture, ReadJob, ReadTx, Store, StoreError, WriteJob, WriteTx};

/// Write jobs waiting for the writer. Beyond this the server answers 503 rather than
/// queueing without bound: a full queue means the disk cannot keep up.
pub const WRITE_QUEUE_CAPACITY: usize = 16_384;
/// Jobs committed together at most: bounds the latency one commit adds to its first job.
pub const MAX_GROUP_COMMIT_JOBS: usize = 512;
/// Read connections: enough for two cores with headroom for blocking.
pub const READ_CONNECTIONS: usize = 4;
/// How long a connection waits for another process's lock (the CLI registering a merchant
/// while the server runs, or a second server on the same file).
pub const BUSY_TIMEOUT_MS: u64 = 10_000;

const MIGRATIONS: &[&str] = &[
    r#"
CREATE TABLE merchants (
    merchant_id TEXT PRIMARY KEY,
    region TEXT NOT NULL,
    store_id TEXT NOT NULL,
    ipn_url TEXT,
    created_at INTEGER NOT NULL
);
CREATE TABLE keys (
    public_key_id TEXT PRIMARY KEY,
    merchant_id TEXT NOT NULL REFERENCES merchants(merchant_id),
    environment TEXT,
    public_key_pem TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE TABLE charge_permissions (
    id TEXT PRIMARY KEY,
    merchant_id TEXT NOT NULL,
    environment TEXT NOT NULL,
    region TEXT NOT NULL,
    kind TEXT NOT NULL,
    currency TEXT NOT NULL,
    amount_limit INTEGER NOT NULL,
    captured INTEGER NOT NULL,
    open_authorized INTEGER NOT NULL,
    period_start INTEGER NOT NULL,
    period_used INTEGER NOT NULL,
    charges_created INTEGER NOT NULL,
    charge_sequence INTEGER NOT NULL,
    refund_sequence INTEGER NOT NULL,
    state TEXT NOT NULL,
    state_reason TEXT,
    state_description TEXT,
    state_updated_at INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER,
    mm_present INTEGER NOT NULL,
    mm_reference_id TEXT,
    mm_store_name TEXT,
    mm_note_to_buyer TEXT,
    mm_custom_information TEXT,
    mm_locked INTEGER NOT NULL,
    rm_present INTEGER NOT NULL,
    rm_unit TEXT,
    rm_value INTEGER,
    rm_amount INTEGER,
    buyer_id TEXT,
    buyer_name TEXT,
    buyer_email TEXT,
    buyer_phone TEXT,
    payment_method TEXT NOT NULL,
    platform_id TEXT
);
CREATE TABLE charges (
    id TEXT PRIMARY KEY,
    permission_id TEXT NOT NULL,
    merchant_id TEXT NOT NULL,
    environment TEXT NOT NULL,
    currency TEXT NOT NULL,
    amount INTEGER NOT NULL,
    capture_amount INTEGER,
    refunded INTEGER NOT NULL,
    refund_pending INTEGER NOT NULL,
    refund_count INTEGER NOT NULL,
    soft_descriptor TEXT,
    mm_present INTEGER NOT NULL,
    mm_reference_id TEXT,
    mm_store_name TEXT,
    mm_note_to_buyer TEXT,
    mm_custom_information TEXT,
    provider_reference_id TEXT,
    platform_id TEXT,
    charge_initiator TEXT,
    channel TEXT,
    capture_now INTEGER NOT NULL,
    can_handle_pending INTEGER NOT NULL,
    state TEXT NOT NULL,
    state_reason TEXT,
    reason_description TEXT,
    pending_resolution TEXT,
    state_updated_at INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    authorized_at INTEGER,
    expires_at INTEGER NOT NULL,
    period_start INTEGER NOT NULL
);
CREATE INDEX charges_by_permission ON charges (permission_id, state);
CREATE TABLE refunds (
    id TEXT PRIMARY KEY,
    charge_id TEXT NOT NULL,
    merchant_id TEXT NOT NULL,
    environment TEXT NOT NULL,
    currency TEXT NOT NULL,
    amount INTEGER NOT NULL,
    soft_descriptor TEXT,
    state TEXT NOT NULL,
    state_reason TEXT,
    state_updated_at INTEGER NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE TABLE events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    merchant_id TEXT NOT NULL,
    environment TEXT NOT NULL,
    object_type TEXT NOT NULL,
    object_id TEXT NOT NULL,
    charge_permission_id TEXT NOT NULL,
    notification_type TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    delivered_at INTEGER
);
CREATE INDEX events_undelivered ON events (delivered_at, seq);
CREATE TABLE idempotency_keys (
    merchant_id TEXT NOT NULL,
    environment TEXT NOT NULL,
    key TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    status INTEGER NOT NULL,
    body BLOB NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (merchant_id, environment, key)
) WITHOUT ROWID;
"#,
    r#"
ALTER TABLE refunds ADD COLUMN pending_decline TEXT;
CREATE TABLE jobs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    merchant_id TEXT NOT NULL,
    environment TEXT NOT NULL,
    kind TEXT NOT NULL,
    object_id TEXT NOT NULL,
    due_at INTEGER NOT NULL,
    done_at INTEGER
);
CREATE INDEX jobs_pending ON jobs (due_at) WHERE done_at IS NULL;
CREATE INDEX jobs_by_object ON jobs (object_id);
CREATE TABLE clocks (
    merchant_id TEXT PRIMARY KEY,
    offset_seconds INTEGER NOT NULL,
    frozen_at INTEGER
);
"#,
    r#"
CREATE TABLE checkout_sessions (
    id TEXT PRIMARY KEY,
    merchant_id TEXT NOT NULL,
    environment TEXT NOT NULL,
    region TEXT NOT NULL,
    store_id TEXT NOT NULL,
    review_url TEXT,
    result_url TEXT,
    cancel_url TEXT,
    process_order INTEGER NOT NULL,
    kind TEXT NOT NULL,
    rm_present INTEGER NOT NULL,
    rm_unit TEXT,
    rm_value INTEGER,
    rm_amount INTEGER,
    rm_currency TEXT,
    payment_intent TEXT,
    charge_amount INTEGER,
    total_order_amount INTEGER,
    amount_currency TEXT,
    can_handle_pending INTEGER,
    soft_descriptor TEXT,
    presentment_currency TEXT,
    allow_overcharge INTEGER,
    extend_expiration INTEGER,
    mm_present INTEGER NOT NULL,
    mm_reference_id TEXT,
    mm_store_name TEXT,
    mm_note_to_buyer TEXT,
    mm_custom_information TEXT,
    platform_id TEXT,
    buyer_id TEXT,
    buyer_name TEXT,
    buyer_email TEXT,
    buyer_phone TEXT,
    shipping_address TEXT,
    billing_address TEXT,
    payment_method TEXT,
    buyer_confirmed INTEGER NOT NULL,
    state TEXT NOT NULL,
    state_reason TEXT,
    state_updated_at INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    charge_permission_id TEXT,
    charge_id TEXT
);
"#,
    // Idempotency keys are scoped to the operation and its target too (spec §8). Records
    // written before keep an empty scope: they still answer for their key on every
    // operation, and their fingerprint (which names the operation and target) decides.
    r#"
CREATE TABLE idempotency_records (
    merchant_id TEXT NOT NULL,
    environment TEXT NOT NULL,
    key TEXT NOT NULL,
    scope TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    status INTEGER NOT NULL,
    body BLOB NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (merchant_id, environment, key, scope)
) WITHOUT ROWID;
INSERT INTO idempotency_records (merchant_id, environment, key, scope, fingerprint, status, body, created_at)
    SELECT merchant_id, environment, key, '', fingerprint, status, body, created_at FROM idempotency_keys;
DROP TABLE idempotency_keys;
"#,
    // What the buyer chose and the merchant sent, kept to be echoed (issue: fidelity, round
    // two): addresses and Saved Wallet setup on permissions, a charge's return URLs and
    // Amazon's atypical-activity flag, and a session's merchant-supplied extras.
    r#"
ALTER TABLE charge_permissions ADD COLUMN shipping_address TEXT;
ALTER TABLE charge_permissions ADD COLUMN billing_address TEXT;
ALTER TABLE charge_permissions ADD COLUMN setup_only INTEGER;
ALTER TABLE charges ADD COLUMN wcd_present INTEGER NOT NULL DEFAULT 0;
ALTER TABLE charges ADD COLUMN wcd_review_url TEXT;
ALTER TABLE charges ADD COLUMN wcd_result_url TEXT;
ALTER TABLE charges ADD COLUMN wcd_cancel_url TEXT;
ALTER TABLE charges ADD COLUMN atypical_activity INTEGER NOT NULL DEFAULT 0;
ALTER TABLE checkout_sessions ADD COLUMN supplementary_data TEXT;
ALTER TABLE checkout_sessions ADD COLUMN setup_only INTEGER;
ALTER TABLE checkout_sessions ADD COLUMN delivery_specifications TEXT;
ALTER TABLE checkout_sessions ADD COLUMN address_details TEXT;
ALTER TABLE checkout_sessions ADD COLUMN renews_permission TEXT;
ALTER TABLE checkout_sessions ADD COLUMN checkout_button_text TEXT;
ALTER TABLE checkout_sessions ADD COLUMN estimate_order_total INTEGER;
ALTER TABLE checkout_sessions ADD COLUMN estimate_currency TEXT;
ALTER TABLE checkout_sessions ADD COLUMN provider_reference_id TEXT;
"#,
];

fn configure(connection: &Connection) -> Result<(), StoreError> {
    connection.busy_timeout(std::time::Duration::from_millis(BUSY_TIMEOUT_MS))?;
    connection.pragma_update(None, "journal_mode", "WAL")?;
    // FULL: the WAL is synced at every commit, so a 2xx survives a power loss.
    connection.pragma_update(None, "synchronous", "FULL")?;
    connection.pragma_update(None, "foreign_keys", "ON")?;
    connection.set_prepared_statement_cache_capacity(64);
    Ok(())
}

fn migrate(connection: &mut Connection) -> Result<(), StoreError> {
    let tx = connection.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let version: usize = tx.query_row("PRAGMA user_version", [], |row| row.get::<_, i64>(0))? as usize;
    for (index, migration) in MIGRATIONS.iter().enumerate().skip(version) {
        tx.execute_batch(migration)?;
        tx.pragma_update(None, "user_version", (index + 1) as i64)?;
    }
    tx.commit()?;
    Ok(())
}

pub struct SqliteStore {
    sender: Mutex<Option<SyncSender<WriteJob>>>,
    writer: Mutex<Option<JoinHandle<()>>>,
    readers: Arc<ReaderPool>,
}

struct ReaderPool {
    connections: Mutex<Vec<Connection>>,
    permits: tokio::sync::Semaphore,
}

impl SqliteStore {
    /// Opens (creating if needed) the database file and starts the writer thread.
    pub fn open(path: &Path) -> Result<SqliteStore, StoreError> {
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        let mut writer = Connection::open(path)?;
        configure(&writer)?;
        migrate(&mut writer)?;
        let mut readers = Vec::with_capacity(READ_CONNECTIONS);
        for _ in 0..READ_CONNECTIONS {
            let reader = Connection::open(path)?;
            configure(&reader)?;
            readers.push(reader);
        }
        let (sender, receiver) = sync_channel(WRITE_QUEUE_CAPACITY);
        let handle = std::thread::Builder::new()
            .name("amzpay-sqlite-writer".into())
            .spawn(move || write_loop(writer, receiver))?;
        Ok(SqliteStore {
            sender: Mutex::new(Some(sender)),
            writer: Mutex::new(Some(handle)),
            readers: Arc::new(ReaderPool {
                connections: Mutex::new(readers),
                permits: tokio::sync::Semaphore::new(READ_CONNECTIONS),
            }),
        })
    }

    /// Stops accepting writes, lets the writer commit what is queued, and waits for it.
    pub fn close(&self) {
        drop(self.sender.lock().expect("sender lock").take());
        if let Some(handle) = self.writer.lock().expect("writer lock").take() {
            let _ = handle.join();
        }
    }
}

impl Drop for SqliteStore {
    fn drop(&mut self) {
        self.close();
    }
}

impl Store for SqliteStore {
    fn submit_write(&self, job: WriteJob) -> Result<(), StoreError> {
        let guard = self.sender.lock().expect("sender lock");
        let sender = guard.as_ref().ok_or(StoreError::WriterStopped)?;
        match sender.try_send(job) {
            Ok(()) => Ok(()),
            Err(TrySendError::Full(_)) => Err(StoreError::Conflict("the write queue is full".into())),
            Err(TrySendError::Disconnected(_)) => Err(StoreError::WriterStopped),
        }
    }

    fn run_read(&self, job: ReadJob) -> BoxFuture<'_, Result<(), StoreError>> {
        let pool = self.readers.clone();
        Box::pin(async move {
            let _permit = pool.permits.acquire().await.map_err(|_| StoreError::WriterStopped)?;
            let pool_for_thread = pool.clone();
            tokio::task::spawn_blocking(move || {
                let connection = pool_for_thread.connections.lock().expect("reader pool").pop();
                let connection = connection.ok_or_else(|| StoreError::Conflict("no read connection".into()))?;
                let result = (|| {
                    connection.execute_batch("BEGIN")?;
                    job(&mut SqliteTx { connection: &connection });
                    connection.execute_batch("COMMIT")?;
                    Ok::<(), StoreError>(())
                })();
                if result.is_err() {
                    let _ = connection.execute_batch("ROLLBACK");
                }
                pool_for_thread.connections.lock().expect("reader pool").push(connection);
                result
            })
            .await
            .map_err(|_| StoreError::Conflict("read task panicked".into()))?
        })
    }
}

fn write_loop(connection: Connection, receiver: Receiver<WriteJob>) {
    while let Ok(first) = receiver.recv() {
        let mut batch = Vec::with_capacity(64);
        batch.push(first);
        while batch.len() < MAX_GROUP_COMMIT_JOBS {
            match receiver.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        if let Err(error) = connection.execute_batch("BEGIN IMMEDIATE") {
            // Dropping the jobs drops their result channels: each requester sees the writer
            // failed and answers 500; nothing was written.
            tracing::error!(%error, jobs = batch.len(), "could not begin a write transaction");
            continue;
        }
        let mut delivers = Vec::with_capacity(batch.len());
        for job in batch {
            if let Err(error) = connection.execute_batch("SAVEPOINT job") {
                tracing::error!(%error, "could not open a savepoint");
                continue;
            }
            let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                job(&mut SqliteTx { connection: &connection })
            }));
            let keep = match &outcome {
                Ok((keep, _)) => *keep,
                Err(_) => {
                    tracing::error!("a write job panicked; its writes are rolled back");
                    false
                }
            };
            let end = if keep { "RELEASE job" } else { "ROLLBACK TO job; RELEASE job" };
            if let Err(error) = connection.execute_batch(end) {
                tracing::error!(%error, "could not end a savepoint");
            }
            if let Ok((_, deliver)) = outcome {
                delivers.push(deliver);
            }
        }
        let committed = connection.execute_batch("COMMIT").map_err(|e| e.to_string());
        if committed.is_err() {
            let _ = connection.execute_batch("ROLLBACK");
        }
        for deliver in delivers {
            deliver(committed.clone().map_err(StoreError::Conflict));
        }
    }
}

struct SqliteTx<'c> {
    connection: &'c Connection,
}

fn corrupt(what: &str, value: &str) -> StoreError {
    StoreError::Corrupt(format!("{what} '{value}'"))
}

fn currency_of(code: &str) -> Result<Currency, StoreError> {
    Currency::from_code(code).ok_or_else(|| corrupt("currency", code))
}

fn environment_of(text: &str) -> Result<Environment, StoreError> {
    Environment::from_path_segment(text).ok_or_else(|| corrupt("environment", text))
}

fn region_of(text: &str) -> Result<Region, StoreError> {
    Region::from_alias(text).ok_or_else(|| corrupt("region", text))
}

fn ts(seconds: i64) -> Timestamp {
    Timestamp::from_unix_seconds(seconds)
}

fn merchant_metadata_from(row: &Row<'_>) -> rusqlite::Result<Option<MerchantMetadata>> {
    if !row.get::<_, bool>("mm_present")? {
        return Ok(None);
    }
    Ok(Some(MerchantMetadata {
        merchant_reference_id: row.get("mm_reference_id")?,
        merchant_store_name: row.get("mm_store_name")?,
        note_to_buyer: row.get("mm_note_to_buyer")?,
        custom_information: row.get("mm_custom_information")?,
    }))
}

fn buyer_from(row: &Row<'_>) -> rusqlite::Result<Option<Buyer>> {
    let Some(buyer_id) = row.get::<_, Option<String>>("buyer_id")? else { return Ok(None) };
    Ok(Some(Buyer {
        buyer_id,
        name: row.get("buyer_name")?,
        email: row.get("buyer_email")?,
        phone_number: row.get("buyer_phone")?,
    }))
}

fn permission_state_from(
    name: &str,
    reason: Option<String>,
    description: Option<String>,
) -> Result<PermissionState, StoreError> {
    match name {
        "Chargeable" => Ok(PermissionState::Chargeable),
        "NonChargeable" => {
            let reason = reason.unwrap_or_default();
            Ok(PermissionState::NonChargeable(
                NonChargeableReason::parse(&reason).ok_or_else(|| corrupt("non-chargeable reason", &reason))?,
            ))
        }
        "Closed" => {
            let reason = match reason {
                None => None,
                Some(text) => Some(ClosureReason::parse(&text).ok_or_else(|| corrupt("closure reason", &text))?),
            };
            Ok(PermissionState::Closed { reason, description })
        }
        other => Err(corrupt("permission state", other)),
    }
}

fn permission_state_columns(state: &PermissionState) -> (&'static str, Option<&'static str>, Option<&str>) {
    match state {
        PermissionState::Chargeable => ("Chargeable", None, None),
        PermissionState::NonChargeable(reason) => ("NonChargeable", Some(reason.as_str()), None),
        PermissionState::Closed { reason, description } => {
            ("Closed", reason.map(|r| r.as_str()), description.as_deref())
        }
    }
}

fn charge_state_from(name: &str, reason: Option<String>) -> Result<ChargeState, StoreError> {
    let reason_text = reason.unwrap_or_default();
    match name {
        "AuthorizationInitiated" => Ok(ChargeState::AuthorizationInitiated),
        "Authorized" => Ok(ChargeState::Authorized),
        "CaptureInitiated" => Ok(ChargeState::CaptureInitiated),
        "Captured" => Ok(ChargeState::Captured),
        "Canceled" => CancelReason::parse(&reason_text)
            .map(ChargeState::Canceled)
            .ok_or_else(|| corrupt("cancel reason", &reason_text)),
        "Declined" => DeclineReason::parse(&reason_text)
            .map(ChargeState::Declined)
            .ok_or_else(|| corrupt("decline reason", &reason_text)),
        other => Err(corrupt("charge state", other)),
    }
}

fn pending_resolution_text(resolution: Option<PendingResolution>) -> Option<&'static str> {
    resolution.map(|r| match r {
        PendingResolution::Succeeds => "Succeeds",
        PendingResolution::Declines(reason) => reason.as_str(),
    })
}

fn pending_resolution_from(text: Option<String>) -> Result<Option<PendingResolution>, StoreError> {
    match text.as_deref() {
        None => Ok(None),
        Some("Succeeds") => Ok(Some(PendingResolution::Succeeds)),
        Some(other) => DeclineReason::parse(other)
            .map(|reason| Some(PendingResolution::Declines(reason)))
            .ok_or_else(|| corrupt("pending resolution", other)),
    }
}

fn permission_from(row: &Row<'_>) -> Result<ChargePermission, StoreError> {
    let currency = currency_of(&row.get::<_, String>("currency")?)?;
    let money = |column: &str| -> Result<Money, StoreError> { Ok(Money::from_minor(row.get(column)?, currency)) };
    let id_text: String = row.get("id")?;
    let kind_text: String = row.get("kind")?;
    let card_text: String = row.get("payment_method")?;
    let recurring_metadata = if row.get::<_, bool>("rm_present")? {
        let unit: Option<String> = row.get("rm_unit")?;
        let frequency = match unit {
            Some(unit) => Some((
                FrequencyUnit::parse(&unit).ok_or_else(|| corrupt("frequency unit", &unit))?,
                row.get::<_, u32>("rm_value")?,
            )),
            None => None,
        };
        let amount = row.get::<_, Option<i64>>("rm_amount")?.map(|minor| Money::from_minor(minor, currency));
        Some(RecurringMetadata { frequency, amount })
    } else {
        None
    };
    let buyer = buyer_from(row)?;
    Ok(ChargePermission {
        id: ChargePermissionId::parse(&id_text).ok_or_else(|| corrupt("permission id", &id_text))?,
        environment: environment_of(&row.get::<_, String>("environment")?)?,
        region: region_of(&row.get::<_, String>("region")?)?,
        kind: PermissionType::parse(&kind_text).ok_or_else(|| corrupt("permission type", &kind_text))?,
        currency,
        amount_limit: money("amount_limit")?,
        captured: money("captured")?,
        open_authorized: money("open_authorized")?,
        period_start: ts(row.get("period_start")?),
        period_used: money("period_used")?,
        charges_created: row.get("charges_created")?,
        charge_sequence: row.get("charge_sequence")?,
        refund_sequence: row.get("refund_sequence")?,
        state: permission_state_from(
            &row.get::<_, String>("state")?,
            row.get("state_reason")?,
            row.get("state_description")?,
        )?,
        state_updated_at: ts(row.get("state_updated_at")?),
        created_at: ts(row.get("created_at")?),
        expires_at: row.get::<_, Option<i64>>("expires_at")?.map(ts),
        merchant_metadata: merchant_metadata_from(row)?,
        merchant_metadata_locked: row.get("mm_locked")?,
        recurring_metadata,
        buyer,
        shipping_address: address_from(row.get("shipping_address")?)?,
        billing_address: address_from(row.get("billing_address")?)?,
        payment_method: SandboxCard::parse(&card_text).ok_or_else(|| corrupt("payment method", &card_text))?,
        platform_id: row.get("platform_id")?,
        setup_only: row.get("setup_only")?,
    })
}

fn charge_from(row: &Row<'_>) -> Result<Charge, StoreError> {
    let currency = currency_of(&row.get::<_, String>("currency")?)?;
    let money = |column: &str| -> Result<Money, StoreError> { Ok(Money::from_minor(row.get(column)?, currency)) };
    let id_text: String = row.get("id")?;
    let id = ChargeId::parse(&id_text).ok_or_else(|| corrupt("charge id", &id_text))?;
    let soft_descriptor = match row.get::<_, Option<String>>("soft_descriptor")? {
        Some(text) => Some(SoftDescriptor::parse(&text).map_err(|_| corrupt("soft descriptor", &text))?),
        None => None,
    };
    let initiator = row.get::<_, Option<String>>("charge_initiator")?;
    let channel = row.get::<_, Option<String>>("channel")?;
    Ok(Charge {
        permission_id: id.permission_id(),
        id,
        environment: environment_of(&row.get::<_, String>("environment")?)?,
        amount: money("amount")?,
        capture_amount: row.get::<_, Option<i64>>("capture_amount")?.map(|m| Money::from_minor(m, currency)),
        refunded: money("refunded")?,
        refund_pending: money("refund_pending")?,
        refund_count: row.get("refund_count")?,
        soft_descriptor,
        merchant_metadata: merchant_metadata_from(row)?,
        provider_reference_id: row.get("provider_reference_id")?,
        platform_id: row.get("platform_id")?,
        charge_initiator: initiator
            .map(|t| ChargeInitiator::parse(&t).ok_or_else(|| corrupt("charge initiator", &t)))
            .transpose()?,
        channel: channel.map(|t| Channel::parse(&t).ok_or_else(|| corrupt("channel", &t))).transpose()?,
        capture_now: row.get("capture_now")?,
        can_handle_pending_authorization: row.get("can_handle_pending")?,
        state: charge_state_from(&row.get::<_, String>("state")?, row.get("state_reason")?)?,
        reason_description: row.get("reason_description")?,
        pending_resolution: pending_resolution_from(row.get("pending_resolution")?)?,
        state_updated_at: ts(row.get("state_updated_at")?),
        created_at: ts(row.get("created_at")?),
        authorized_at: row.get::<_, Option<i64>>("authorized_at")?.map(ts),
        expires_at: ts(row.get("expires_at")?),
        period_start: ts(row.get("period_start")?),
        web_checkout_details: if row.get::<_, bool>("wcd_present")? {
            Some(WebCheckoutDetails {
                checkout_review_return_url: row.get("wcd_review_url")?,
                checkout_result_return_url: row.get("wcd_result_url")?,
                checkout_cancel_url: row.get("wcd_cancel_url")?,
            })
        } else {
            None
        },
        atypical_activity: row.get("atypical_activity")?,
    })
}

fn refund_from(row: &Row<'_>) -> Result<Refund, StoreError> {
    let currency = currency_of(&row.get::<_, String>("currency")?)?;
    let id_text: String = row.get("id")?;
    let charge_text: String = row.get("charge_id")?;
    let state_text: String = row.get("state")?;
    let state = match state_text.as_str() {
        "RefundInitiated" => RefundState::RefundInitiated,
        "Refunded" => RefundState::Refunded,
        "Declined" => {
            let reason: String = row.get::<_, Option<String>>("state_reason")?.unwrap_or_default();
            RefundState::Declined(
                RefundDeclineReason::parse(&reason).ok_or_else(|| corrupt("refund decline reason", &reason))?,
            )
        }
        other => return Err(corrupt("refund state", other)),
    };
    let soft_descriptor = match row.get::<_, Option<String>>("soft_descriptor")? {
        Some(text) => Some(SoftDescriptor::parse(&text).map_err(|_| corrupt("soft descriptor", &text))?),
        None => None,
    };
    let pending_decline = match row.get::<_, Option<String>>("pending_decline")? {
        Some(text) => Some(RefundDeclineReason::parse(&text).ok_or_else(|| corrupt("refund decline reason", &text))?),
        None => None,
    };
    Ok(Refund {
        pending_decline,
        id: RefundId::parse(&id_text).ok_or_else(|| corrupt("refund id", &id_text))?,
        charge_id: ChargeId::parse(&charge_text).ok_or_else(|| corrupt("charge id", &charge_text))?,
        environment: environment_of(&row.get::<_, String>("environment")?)?,
        amount: Money::from_minor(row.get("amount")?, currency),
        soft_descriptor,
        state,
        state_updated_at: ts(row.get("state_updated_at")?),
        created_at: ts(row.get("created_at")?),
    })
}

/// Addresses are stored as one text: their fields joined by the ASCII unit separator, each
/// absent field empty. A field never contains the separator (it is a control character).
const ADDRESS_SEPARATOR: char = '\u{1f}';

fn address_text(address: &Address) -> String {
    [
        &address.name,
        &address.address_line1,
        &address.address_line2,
        &address.address_line3,
        &address.city,
        &address.county,
        &address.district,
        &address.state_or_region,
        &address.postal_code,
        &address.country_code,
        &address.phone_number,
    ]
    .iter()
    .map(|field| field.as_deref().unwrap_or("").replace(ADDRESS_SEPARATOR, " "))
    .collect::<Vec<_>>()
    .join(&ADDRESS_SEPARATOR.to_string())
}

fn address_from(text: Option<String>) -> Result<Option<Address>, StoreError> {
    let Some(text) = text else { return Ok(None) };
    let fields: Vec<Option<String>> =
        text.split(ADDRESS_SEPARATOR).map(|f| (!f.is_empty()).then(|| f.to_owned())).collect();
    let [
        name,
        address_line1,
        address_line2,
        address_line3,
        city,
        county,
        district,
        state_or_region,
        postal_code,
        country_code,
        phone_number,
    ] = <[Option<String>; 11]>::try_from(fields).map_err(|_| corrupt("address", &text))?;
    Ok(Some(Address {
        name,
        address_line1,
        address_line2,
        address_line3,
        city,
        county,
        district,
        state_or_region,
        postal_code,
        country_code,
        phone_number,
    }))
}

fn session_from(row: &Row<'_>) -> Result<CheckoutSession, StoreError> {
    let amount_currency = row.get::<_, Option<String>>("amount_currency")?.map(|c| currency_of(&c)).transpose()?;
    let money = |column: &str| -> Result<Option<Money>, StoreError> {
        let minor: Option<i64> = row.get(column)?;
        Ok(match (minor, amount_currency) {
            (Some(minor), Some(currency)) => Some(Money::from_minor(minor, currency)),
            _ => None,
        })
    };
    let kind_text: String = row.get("kind")?;
    let recurring_metadata = if row.get::<_, bool>("rm_present")? {
        let unit: Option<String> = row.get("rm_unit")?;
        let frequency = match unit {
            Some(unit) => Some((
                FrequencyUnit::parse(&unit).ok_or_else(|| corrupt("frequency unit", &unit))?,
                row.get::<_, u32>("rm_value")?,
            )),
            None => None,
        };
        let amount = match (row.get::<_, Option<i64>>("rm_amount")?, row.get::<_, Option<String>>("rm_currency")?) {
            (Some(minor), Some(code)) => Some(Money::from_minor(minor, currency_of(&code)?)),
            _ => None,
        };
        Some(RecurringMetadata { frequency, amount })
    } else {
        None
    };
    let buyer = buyer_from(row)?;
    let state_text: String = row.get("state")?;
    let state = match state_text.as_str() {
        "Open" => SessionState::Open,
        "Completed" => SessionState::Completed,
        "Canceled" => {
            let reason: String = row.get::<_, Option<String>>("state_reason")?.unwrap_or_default();
            SessionState::Canceled(
                SessionCancelReason::parse(&reason).ok_or_else(|| corrupt("session cancel reason", &reason))?,
            )
        }
        other => return Err(corrupt("session state", other)),
    };
    let payment_method = row
        .get::<_, Option<String>>("payment_method")?
        .map(|c| SandboxCard::parse(&c).ok_or_else(|| corrupt("card", &c)))
        .transpose()?;
    let intent = row
        .get::<_, Option<String>>("payment_intent")?
        .map(|t| PaymentIntent::parse(&t).ok_or_else(|| corrupt("payment intent", &t)))
        .transpose()?;
    let soft_descriptor = match row.get::<_, Option<String>>("soft_descriptor")? {
        Some(text) => Some(SoftDescriptor::parse(&text).map_err(|_| corrupt("soft descriptor", &text))?),
        None => None,
    };
    Ok(CheckoutSession {
        id: row.get("id")?,
        environment: environment_of(&row.get::<_, String>("environment")?)?,
        region: region_of(&row.get::<_, String>("region")?)?,
        store_id: row.get("store_id")?,
        checkout_review_return_url: row.get("review_url")?,
        checkout_result_return_url: row.get("result_url")?,
        checkout_cancel_url: row.get("cancel_url")?,
        process_order: row.get("process_order")?,
        kind: PermissionType::parse(&kind_text).ok_or_else(|| corrupt("permission type", &kind_text))?,
        recurring_metadata,
        payment: PaymentDetails {
            payment_intent: intent,
            charge_amount: money("charge_amount")?,
            total_order_amount: money("total_order_amount")?,
            can_handle_pending_authorization: row.get("can_handle_pending")?,
            soft_descriptor,
            presentment_currency: row
                .get::<_, Option<String>>("presentment_currency")?
                .map(|c| currency_of(&c))
                .transpose()?,
            allow_overcharge: row.get("allow_overcharge")?,
            extend_expiration: row.get("extend_expiration")?,
            estimate_order_total: match (
                row.get::<_, Option<i64>>("estimate_order_total")?,
                row.get::<_, Option<String>>("estimate_currency")?,
            ) {
                (Some(minor), Some(code)) => Some(Money::from_minor(minor, currency_of(&code)?)),
                _ => None,
            },
        },
        merchant_metadata: merchant_metadata_from(row)?,
        platform_id: row.get("platform_id")?,
        buyer,
        shipping_address: address_from(row.get("shipping_address")?)?,
        billing_address: address_from(row.get("billing_address")?)?,
        payment_method,
        buyer_confirmed: row.get("buyer_confirmed")?,
        state,
        state_updated_at: ts(row.get("state_updated_at")?),
        created_at: ts(row.get("created_at")?),
        expires_at: ts(row.get("expires_at")?),
        charge_permission_id: row
            .get::<_, Option<String>>("charge_permission_id")?
            .map(|t| ChargePermissionId::parse(&t).ok_or_else(|| corrupt("permission id", &t)))
            .transpose()?,
        charge_id: row
            .get::<_, Option<String>>("charge_id")?
            .map(|t| ChargeId::parse(&t).ok_or_else(|| corrupt("charge id", &t)))
            .transpose()?,
        supplementary_data: row.get("supplementary_data")?,
        provider_reference_id: row.get("provider_reference_id")?,
        setup_only: row.get("setup_only")?,
        delivery_specifications: row.get::<_, Option<String>>("delivery_specifications")?.map(OpaqueJson::new),
        address_details: address_from(row.get("address_details")?)?,
        renews_permission: row
            .get::<_, Option<String>>("renews_permission")?
            .map(|t| ChargePermissionId::parse(&t).ok_or_else(|| corrupt("permission id", &t)))
            .transpose()?,
        checkout_button_text: row.get("checkout_button_text")?,
    })
}

fn job_from(row: &Row<'_>) -> Result<Job, StoreError> {
    let kind: String = row.get(3)?;
    Ok(Job {
        id: row.get(0)?,
        merchant_id: row.get(1)?,
        environment: environment_of(&row.get::<_, String>(2)?)?,
        kind: JobKind::parse(&kind).ok_or_else(|| corrupt("job kind", &kind))?,
        object_id: row.get(4)?,
        due_at: ts(row.get(5)?),
    })
}

fn query_one<T>(
    connection: &Connection,
    sql: &str,
    params: &[&dyn rusqlite::ToSql],
    map: impl FnOnce(&Row<'_>) -> Result<T, StoreError>,
) -> Result<Option<T>, StoreError> {
    let mut statement = connection.prepare_cached(sql)?;
    let mut rows = statement.query(params)?;
    match rows.next()? {
        Some(row) => Ok(Some(map(row)?)),
        None => Ok(None),
    }
}

const PERMISSION_COLUMNS: &str = "id, merchant_id, environment, region, kind, currency, amount_limit, captured, open_authorized, period_start, period_used, charges_created, charge_sequence, refund_sequence, state, state_reason, state_description, state_updated_at, created_at, expires_at, mm_present, mm_reference_id, mm_store_name, mm_note_to_buyer, mm_custom_information, mm_locked, rm_present, rm_unit, rm_value, rm_amount, buyer_id, buyer_name, buyer_email, buyer_phone, payment_method, platform_id, shipping_address, billing_address, setup_only";

impl SqliteTx<'_> {
    fn write_permission(&self, verb: &str, merchant_id: &str, p: &ChargePermission) -> Result<usize, StoreError> {
        let sql = format!(
            "{verb} INTO charge_permissions ({PERMISSION_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23, ?24, ?25, ?26, ?27, ?28, ?29, ?30, ?31, ?32, ?33, ?34, ?35, ?36, ?37, ?38, ?39)"
        );
        let (state, reason, description) = permission_state_columns(&p.state);
        let mm = p.merchant_metadata.as_ref();
        let rm = p.recurring_metadata.as_ref();
        let buyer = p.buyer.as_ref();
        let mut statement = self.connection.prepare_cached(&sql)?;
        Ok(statement.execute(params![
            p.id.as_str(),
            merchant_id,
            p.environment.path_segment(),
            p.region.code(),
            p.kind.as_str(),
            p.currency.code(),
            p.amount_limit.minor(),
            p.captured.minor(),
            p.open_authorized.minor(),
            p.period_start.unix_seconds(),
            p.period_used.minor(),
            p.charges_created,
            p.charge_sequence,
            p.refund_sequence,
            state,
            reason,
            description,
            p.state_updated_at.unix_seconds(),
            p.created_at.unix_seconds(),
            p.expires_at.map(Timestamp::unix_seconds),
            mm.is_some(),
            mm.and_then(|m| m.merchant_reference_id.as_deref()),
            mm.and_then(|m| m.merchant_store_name.as_deref()),
            mm.and_then(|m| m.note_to_buyer.as_deref()),
            mm.and_then(|m| m.custom_information.as_deref()),
            p.merchant_metadata_locked,
            rm.is_some(),
            rm.and_then(|m| m.frequency).map(|(unit, _)| unit.as_str()),
            rm.and_then(|m| m.frequency).map(|(_, value)| value),
            rm.and_then(|m| m.amount).map(Money::minor),
            buyer.map(|b| b.buyer_id.as_str()),
            buyer.map(|b| b.name.as_str()),
            buyer.map(|b| b.email.as_str()),
            buyer.and_then(|b| b.phone_number.as_deref()),
            p.payment_method.last_four(),
            p.platform_id.as_deref(),
            p.shipping_address.as_ref().map(address_text),
            p.billing_address.as_ref().map(address_text),
            p.setup_only,
        ])?)
    }
}

impl ReadTx for SqliteTx<'_> {
    fn merchant(&mut self, merchant_id: &str) -> Result<Option<MerchantRecord>, StoreError> {
        query_one(
            self.connection,
            "SELECT merchant_id, region, store_id, ipn_url, created_at FROM merchants WHERE merchant_id = ?1",
            &[&merchant_id],
            |row| {
                Ok(MerchantRecord {
                    merchant_id: row.get(0)?,
                    region: region_of(&row.get::<_, String>(1)?)?,
                    store_id: row.get(2)?,
                    ipn_url: row.get(3)?,
                    created_at: ts(row.get(4)?),
                })
            },
        )
    }

    fn key(&mut self, public_key_id: &str) -> Result<Option<KeyRecord>, StoreError> {
        query_one(
            self.connection,
            "SELECT public_key_id, merchant_id, environment, public_key_pem, created_at FROM keys WHERE public_key_id = ?1",
            &[&public_key_id],
            |row| {
                Ok(KeyRecord {
                    public_key_id: row.get(0)?,
                    merchant_id: row.get(1)?,
                    environment: row.get::<_, Option<String>>(2)?.map(|e| environment_of(&e)).transpose()?,
                    public_key_pem: row.get(3)?,
                    created_at: ts(row.get(4)?),
                })
            },
        )
    }

    fn permission(
        &mut self,
        merchant_id: &str,
        environment: Environment,
        id: &ChargePermissionId,
    ) -> Result<Option<ChargePermission>, StoreError> {
        let sql = format!(
            "SELECT {PERMISSION_COLUMNS} FROM charge_permissions WHERE id = ?1 AND merchant_id = ?2 AND environment = ?3"
        );
        query_one(self.connection, &sql, &[&id.as_str(), &merchant_id, &environment.path_segment()], permission_from)
    }

    fn charge(
        &mut self,
        merchant_id: &str,
        environment: Environment,
        id: &ChargeId,
    ) -> Result<Option<Charge>, StoreError> {
        query_one(
            self.connection,
            "SELECT * FROM charges WHERE id = ?1 AND merchant_id = ?2 AND environment = ?3",
            &[&id.as_str(), &merchant_id, &environment.path_segment()],
            charge_from,
        )
    }

    fn refund(
        &mut self,
        merchant_id: &str,
        environment: Environment,
        id: &RefundId,
    ) -> Result<Option<Refund>, StoreError> {
        query_one(
            self.connection,
            "SELECT * FROM refunds WHERE id = ?1 AND merchant_id = ?2 AND environment = ?3",
            &[&id.as_str(), &merchant_id, &environment.path_segment()],
            refund_from,
        )
    }

    fn open_charges(
        &mut self,
        merchant_id: &str,
        environment: Environment,
        permission_id: &ChargePermissionId,
    ) -> Result<Vec<Charge>, StoreError> {
        let mut statement = self.connection.prepare_cached(
            "SELECT * FROM charges WHERE permission_id = ?1 AND merchant_id = ?2 AND environment = ?3 \
             AND state IN ('AuthorizationInitiated', 'Authorized', 'CaptureInitiated') ORDER BY id",
        )?;
        let mut rows = statement.query(params![permission_id.as_str(), merchant_id, environment.path_segment()])?;
        let mut charges = Vec::new();
        while let Some(row) = rows.next()? {
            charges.push(charge_from(row)?);
        }
        Ok(charges)
    }

    fn idempotency(
        &mut self,
        merchant_id: &str,
        environment: Environment,
        scope: &str,
        key: &str,
    ) -> Result<Option<IdempotencyRecord>, StoreError> {
        // A record of this scope, else one from before scopes existed (empty scope).
        query_one(
            self.connection,
            "SELECT scope, fingerprint, status, body, created_at FROM idempotency_records \
             WHERE merchant_id = ?1 AND environment = ?2 AND key = ?3 AND scope IN (?4, '') ORDER BY scope DESC LIMIT 1",
            &[&merchant_id, &environment.path_segment(), &key, &scope],
            |row| {
                Ok(IdempotencyRecord {
                    merchant_id: merchant_id.to_owned(),
                    environment,
                    key: key.to_owned(),
                    scope: row.get(0)?,
                    fingerprint: row.get(1)?,
                    status: row.get(2)?,
                    body: row.get(3)?,
                    created_at: ts(row.get(4)?),
                })
            },
        )
    }

    fn events(&mut self, merchant_id: &str, environment: Environment, limit: u32) -> Result<Vec<Event>, StoreError> {
        let mut statement = self.connection.prepare_cached(
            "SELECT object_type, object_id, charge_permission_id, notification_type, created_at FROM events \
             WHERE merchant_id = ?1 AND environment = ?2 ORDER BY seq LIMIT ?3",
        )?;
        let mut rows = statement.query(params![merchant_id, environment.path_segment(), limit])?;
        let mut events = Vec::new();
        while let Some(row) = rows.next()? {
            let object_type: String = row.get(0)?;
            let notification_type: String = row.get(3)?;
            events.push(Event {
                merchant_id: merchant_id.to_owned(),
                environment,
                object_type: ObjectType::parse(&object_type).ok_or_else(|| corrupt("object type", &object_type))?,
                object_id: row.get(1)?,
                charge_permission_id: row.get(2)?,
                notification_type: NotificationType::parse(&notification_type)
                    .ok_or_else(|| corrupt("notification type", &notification_type))?,
                created_at: ts(row.get(4)?),
            });
        }
        Ok(events)
    }

    fn sandbox_permission_by_id(
        &mut self,
        id: &ChargePermissionId,
    ) -> Result<Option<(String, ChargePermission)>, StoreError> {
        let sql =
            format!("SELECT {PERMISSION_COLUMNS} FROM charge_permissions WHERE id = ?1 AND environment = 'sandbox'");
        query_one(self.connection, &sql, &[&id.as_str()], |row| {
            Ok((row.get::<_, String>("merchant_id")?, permission_from(row)?))
        })
    }

    fn checkout_session(
        &mut self,
        merchant_id: &str,
        environment: Environment,
        id: &str,
    ) -> Result<Option<CheckoutSession>, StoreError> {
        query_one(
            self.connection,
            "SELECT * FROM checkout_sessions WHERE id = ?1 AND merchant_id = ?2 AND environment = ?3",
            &[&id, &merchant_id, &environment.path_segment()],
            session_from,
        )
    }

    fn sandbox_checkout_session_by_id(&mut self, id: &str) -> Result<Option<(String, CheckoutSession)>, StoreError> {
        query_one(
            self.connection,
            "SELECT * FROM checkout_sessions WHERE id = ?1 AND environment = 'sandbox'",
            &[&id],
            |row| Ok((row.get::<_, String>("merchant_id")?, session_from(row)?)),
        )
    }

    fn clock(&mut self, merchant_id: &str) -> Result<SandboxClock, StoreError> {
        let found = query_one(
            self.connection,
            "SELECT offset_seconds, frozen_at FROM clocks WHERE merchant_id = ?1",
            &[&merchant_id],
            |row| Ok(SandboxClock { offset_seconds: row.get(0)?, frozen_at: row.get::<_, Option<i64>>(1)?.map(ts) }),
        )?;
        Ok(found.unwrap_or(SandboxClock { offset_seconds: 0, frozen_at: None }))
    }

    fn due_jobs(&mut self, real_now: Timestamp, merchant: Option<&str>, limit: u32) -> Result<Vec<Job>, StoreError> {
        let mut statement = self.connection.prepare_cached(
            "SELECT j.id, j.merchant_id, j.environment, j.kind, j.object_id, j.due_at FROM jobs j \
             LEFT JOIN clocks c ON c.merchant_id = j.merchant_id AND j.environment = 'sandbox' \
             WHERE j.done_at IS NULL AND j.due_at <= COALESCE(c.frozen_at, ?1 + COALESCE(c.offset_seconds, 0)) \
             AND (?2 IS NULL OR (j.merchant_id = ?2 AND j.environment = 'sandbox')) \
             ORDER BY j.due_at, j.id LIMIT ?3",
        )?;
        let mut rows = statement.query(params![real_now.unix_seconds(), merchant, limit])?;
        let mut jobs = Vec::new();
        while let Some(row) = rows.next()? {
            jobs.push(job_from(row)?);
        }
        Ok(jobs)
    }

    fn jobs_for_object(&mut self, object_id: &str) -> Result<Vec<(Job, Option<Timestamp>)>, StoreError> {
        let mut statement = self.connection.prepare_cached(
            "SELECT id, merchant_id, environment, kind, object_id, due_at, done_at FROM jobs WHERE object_id = ?1 ORDER BY id",
        )?;
        let mut rows = statement.query(params![object_id])?;
        let mut jobs = Vec::new();
        while let Some(row) = rows.next()? {
            jobs.push((job_from(row)?, row.get::<_, Option<i64>>(6)?.map(ts)));
        }
        Ok(jobs)
    }
}

impl WriteTx for SqliteTx<'_> {
    fn insert_merchant(&mut self, m: &MerchantRecord) -> Result<(), StoreError> {
        self.connection
            .prepare_cached("INSERT INTO merchants (merchant_id, region, store_id, ipn_url, created_at) VALUES (?1, ?2, ?3, ?4, ?5)")?
            .execute(params![m.merchant_id, m.region.code(), m.store_id, m.ipn_url, m.created_at.unix_seconds()])?;
        Ok(())
    }

    fn insert_key(&mut self, k: &KeyRecord) -> Result<(), StoreError> {
        self.connection
            .prepare_cached("INSERT INTO keys (public_key_id, merchant_id, environment, public_key_pem, created_at) VALUES (?1, ?2, ?3, ?4, ?5)")?
            .execute(params![k.public_key_id, k.merchant_id, k.environment.map(Environment::path_segment), k.public_key_pem, k.created_at.unix_seconds()])?;
        Ok(())
    }

    fn insert_permission(&mut self, merchant_id: &str, permission: &ChargePermission) -> Result<(), StoreError> {
        let exists: Option<i64> = self
            .connection
            .prepare_cached("SELECT 1 FROM charge_permissions WHERE id = ?1")?
            .query_row([permission.id.as_str()], |row| row.get(0))
            .optional()?;
        if exists.is_some() {
            return Err(StoreError::Conflict(format!("charge permission {} exists", permission.id)));
        }
        self.write_permission("INSERT", merchant_id, permission)?;
        Ok(())
    }

    fn update_permission(&mut self, merchant_id: &str, permission: &ChargePermission) -> Result<(), StoreError> {
        self.write_permission("REPLACE", merchant_id, permission)?;
        Ok(())
    }

    fn save_charge(&mut self, merchant_id: &str, c: &Charge) -> Result<(), StoreError> {
        let mm = c.merchant_metadata.as_ref();
        self.connection
            .prepare_cached(
                "REPLACE INTO charges (id, permission_id, merchant_id, environment, currency, amount, capture_amount, refunded, refund_pending, refund_count, soft_descriptor, \
                 mm_present, mm_reference_id, mm_store_name, mm_note_to_buyer, mm_custom_information, provider_reference_id, platform_id, charge_initiator, channel, \
                 capture_now, can_handle_pending, state, state_reason, reason_description, pending_resolution, state_updated_at, created_at, authorized_at, expires_at, period_start, \
                 wcd_present, wcd_review_url, wcd_result_url, wcd_cancel_url, atypical_activity) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23, ?24, ?25, ?26, ?27, ?28, ?29, ?30, ?31, \
                 ?32, ?33, ?34, ?35, ?36)",
            )?
            .execute(params![
                c.id.as_str(),
                c.permission_id.as_str(),
                merchant_id,
                c.environment.path_segment(),
                c.amount.currency().code(),
                c.amount.minor(),
                c.capture_amount.map(Money::minor),
                c.refunded.minor(),
                c.refund_pending.minor(),
                c.refund_count,
                c.soft_descriptor.as_ref().map(SoftDescriptor::as_str),
                mm.is_some(),
                mm.and_then(|m| m.merchant_reference_id.as_deref()),
                mm.and_then(|m| m.merchant_store_name.as_deref()),
                mm.and_then(|m| m.note_to_buyer.as_deref()),
                mm.and_then(|m| m.custom_information.as_deref()),
                c.provider_reference_id.as_deref(),
                c.platform_id.as_deref(),
                c.charge_initiator.map(ChargeInitiator::as_str),
                c.channel.map(Channel::as_str),
                c.capture_now,
                c.can_handle_pending_authorization,
                c.state.name(),
                c.state.reason_code(),
                c.reason_description.as_deref(),
                pending_resolution_text(c.pending_resolution),
                c.state_updated_at.unix_seconds(),
                c.created_at.unix_seconds(),
                c.authorized_at.map(Timestamp::unix_seconds),
                c.expires_at.unix_seconds(),
                c.period_start.unix_seconds(),
                c.web_checkout_details.is_some(),
                c.web_checkout_details.as_ref().and_then(|w| w.checkout_review_return_url.as_deref()),
                c.web_checkout_details.as_ref().and_then(|w| w.checkout_result_return_url.as_deref()),
                c.web_checkout_details.as_ref().and_then(|w| w.checkout_cancel_url.as_deref()),
                c.atypical_activity,
            ])?;
        Ok(())
    }

    fn save_refund(&mut self, merchant_id: &str, r: &Refund) -> Result<(), StoreError> {
        self.connection
            .prepare_cached(
                "REPLACE INTO refunds (id, charge_id, merchant_id, environment, currency, amount, soft_descriptor, state, state_reason, state_updated_at, created_at, pending_decline) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
            )?
            .execute(params![
                r.id.as_str(),
                r.charge_id.as_str(),
                merchant_id,
                r.environment.path_segment(),
                r.amount.currency().code(),
                r.amount.minor(),
                r.soft_descriptor.as_ref().map(SoftDescriptor::as_str),
                r.state.name(),
                r.state.reason_code(),
                r.state_updated_at.unix_seconds(),
                r.created_at.unix_seconds(),
                r.pending_decline.map(RefundDeclineReason::as_str),
            ])?;
        Ok(())
    }

    fn insert_event(&mut self, e: &Event) -> Result<(), StoreError> {
        self.connection
            .prepare_cached(
                "INSERT INTO events (merchant_id, environment, object_type, object_id, charge_permission_id, notification_type, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )?
            .execute(params![
                e.merchant_id,
                e.environment.path_segment(),
                e.object_type.as_str(),
                e.object_id,
                e.charge_permission_id,
                e.notification_type.as_str(),
                e.created_at.unix_seconds(),
            ])?;
        Ok(())
    }

    fn save_checkout_session(&mut self, merchant_id: &str, c: &CheckoutSession) -> Result<(), StoreError> {
        let mm = c.merchant_metadata.as_ref();
        let rm = c.recurring_metadata.as_ref();
        let buyer = c.buyer.as_ref();
        let p = &c.payment;
        let amount_currency = p.charge_amount.or(p.total_order_amount).map(|m| m.currency().code());
        self.connection
            .prepare_cached(
                "REPLACE INTO checkout_sessions (id, merchant_id, environment, region, store_id, review_url, result_url, cancel_url, process_order, kind, \
                 rm_present, rm_unit, rm_value, rm_amount, rm_currency, payment_intent, charge_amount, total_order_amount, amount_currency, can_handle_pending, \
                 soft_descriptor, presentment_currency, allow_overcharge, extend_expiration, mm_present, mm_reference_id, mm_store_name, mm_note_to_buyer, \
                 mm_custom_information, platform_id, buyer_id, buyer_name, buyer_email, buyer_phone, shipping_address, billing_address, payment_method, \
                 buyer_confirmed, state, state_reason, state_updated_at, created_at, expires_at, charge_permission_id, charge_id, \
                 supplementary_data, setup_only, delivery_specifications, address_details, renews_permission, checkout_button_text, \
                 estimate_order_total, estimate_currency, provider_reference_id) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23, ?24, ?25, ?26, ?27, ?28, ?29, ?30, \
                 ?31, ?32, ?33, ?34, ?35, ?36, ?37, ?38, ?39, ?40, ?41, ?42, ?43, ?44, ?45, ?46, ?47, ?48, ?49, ?50, ?51, ?52, ?53, ?54)",
            )?
            .execute(params![
                c.id,
                merchant_id,
                c.environment.path_segment(),
                c.region.code(),
                c.store_id,
                c.checkout_review_return_url,
                c.checkout_result_return_url,
                c.checkout_cancel_url,
                c.process_order,
                c.kind.as_str(),
                rm.is_some(),
                rm.and_then(|m| m.frequency).map(|(unit, _)| unit.as_str()),
                rm.and_then(|m| m.frequency).map(|(_, value)| value),
                rm.and_then(|m| m.amount).map(Money::minor),
                rm.and_then(|m| m.amount).map(|m| m.currency().code()),
                p.payment_intent.map(PaymentIntent::as_str),
                p.charge_amount.map(Money::minor),
                p.total_order_amount.map(Money::minor),
                amount_currency,
                p.can_handle_pending_authorization,
                p.soft_descriptor.as_ref().map(SoftDescriptor::as_str),
                p.presentment_currency.map(|c| c.code()),
                p.allow_overcharge,
                p.extend_expiration,
                mm.is_some(),
                mm.and_then(|m| m.merchant_reference_id.as_deref()),
                mm.and_then(|m| m.merchant_store_name.as_deref()),
                mm.and_then(|m| m.note_to_buyer.as_deref()),
                mm.and_then(|m| m.custom_information.as_deref()),
                c.platform_id,
                buyer.map(|b| b.buyer_id.as_str()),
                buyer.map(|b| b.name.as_str()),
                buyer.map(|b| b.email.as_str()),
                buyer.and_then(|b| b.phone_number.as_deref()),
                c.shipping_address.as_ref().map(address_text),
                c.billing_address.as_ref().map(address_text),
                c.payment_method.map(SandboxCard::last_four),
                c.buyer_confirmed,
                c.state.name(),
                c.state.reason_code(),
                c.state_updated_at.unix_seconds(),
                c.created_at.unix_seconds(),
                c.expires_at.unix_seconds(),
                c.charge_permission_id.as_ref().map(ChargePermissionId::as_str),
                c.charge_id.as_ref().map(ChargeId::as_str),
                c.supplementary_data,
                c.setup_only,
                c.delivery_specifications.as_ref().map(OpaqueJson::as_str),
                c.address_details.as_ref().map(address_text),
                c.renews_permission.as_ref().map(ChargePermissionId::as_str),
                c.checkout_button_text,
                p.estimate_order_total.map(Money::minor),
                p.estimate_order_total.map(|m| m.currency().code()),
                c.provider_reference_id,
            ])?;
        Ok(())
    }

    fn insert_job(&mut self, job: &Job) -> Result<(), StoreError> {
        self.connection
            .prepare_cached(
                "INSERT INTO jobs (merchant_id, environment, kind, object_id, due_at) VALUES (?1, ?2, ?3, ?4, ?5)",
            )?
            .execute(params![
                job.merchant_id,
                job.environment.path_segment(),
                job.kind.as_str(),
                job.object_id,
                job.due_at.unix_seconds()
            ])?;
        Ok(())
    }

    fn claim_job(&mut self, id: i64, at: Timestamp) -> Result<bool, StoreError> {
        let changed = self
            .connection
            .prepare_cached("UPDATE jobs SET done_at = ?2 WHERE id = ?1 AND done_at IS NULL")?
            .execute(params![id, at.unix_seconds()])?;
        Ok(changed == 1)
    }

    fn set_clock(&mut self, merchant_id: &str, clock: SandboxClock) -> Result<(), StoreError> {
        self.connection
            .prepare_cached(
                "INSERT INTO clocks (merchant_id, offset_seconds, frozen_at) VALUES (?1, ?2, ?3) \
                 ON CONFLICT (merchant_id) DO UPDATE SET offset_seconds = excluded.offset_seconds, frozen_at = excluded.frozen_at",
            )?
            .execute(params![merchant_id, clock.offset_seconds, clock.frozen_at.map(Timestamp::unix_seconds)])?;
        Ok(())
    }

    fn insert_idempotency(&mut self, r: &IdempotencyRecord) -> Result<(), StoreError> {
        self.connection
            .prepare_cached(
                "INSERT INTO idempotency_records (merchant_id, environment, key, scope, fingerprint, status, body, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            )?
            .execute(params![r.merchant_id, r.environment.path_segment(), r.key, r.scope, r.fingerprint, r.status, r.body, r.created_at.unix_seconds()])?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The migration that scoped idempotency keys keeps every record written before it.
    #[tokio::test]
    async fn idempotency_records_from_before_scopes_still_answer() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("amzpay.db");
        {
            let connection = Connection::open(&path).unwrap();
            for migration in &MIGRATIONS[..3] {
                connection.execute_batch(migration).unwrap();
            }
            connection.pragma_update(None, "user_version", 3).unwrap();
            connection
                .execute(
                    "INSERT INTO idempotency_keys (merchant_id, environment, key, fingerprint, status, body, created_at) \
                     VALUES ('M1', 'sandbox', 'k1', 'f', 201, X'7B7D', 5)",
                    [],
                )
                .unwrap();
        }
        let store: Arc<dyn Store> = Arc::new(SqliteStore::open(&path).unwrap());
        let found = store
            .read(|tx| -> Result<_, StoreError> {
                Ok((
                    tx.idempotency("M1", Environment::Sandbox, "CreateCharge ", "k1")?,
                    tx.idempotency("M1", Environment::Live, "CreateCharge ", "k1")?,
                ))
            })
            .await
            .unwrap();
        let legacy = found.0.expect("the legacy record");
        assert_eq!((legacy.scope.as_str(), legacy.fingerprint.as_str(), legacy.status), ("", "f", 201));
        assert_eq!(found.1, None);
    }
}
