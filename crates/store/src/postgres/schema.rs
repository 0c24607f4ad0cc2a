//! The PostgreSQL schema: the migrations, in order, and the session settings every
//! connection gets. A migration is appended, never edited: the database records each one it
//! ran (`amzpay_migrations`), and a start runs the rest in one transaction while holding a
//! session advisory lock, so several nodes starting at once migrate once; a database
//! migrated by a newer amzpay (a version this one does not know) refuses to open.
//!
//! The tables are SQLite's final shape (the SQLite migrations, all applied), in PostgreSQL's
//! types: `BIGINT` for every integer and instant, `BOOLEAN` for flags, `BYTEA` for the
//! deflated replies, identity columns for the sequences.

use postgres::Client;

use super::{MIGRATION_LOCK_KEY, WRITE_LOCK_KEY};
use crate::StoreError;

pub(super) const MIGRATIONS: &[&str] = &[
    r#"
CREATE TABLE merchants (
    merchant_id TEXT PRIMARY KEY,
    region TEXT NOT NULL,
    store_id TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE TABLE keys (
    public_key_id TEXT PRIMARY KEY,
    merchant_id TEXT NOT NULL REFERENCES merchants(merchant_id),
    environment TEXT,
    public_key_pem TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE TABLE development_merchant (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    merchant_id TEXT NOT NULL REFERENCES merchants(merchant_id),
    public_key_id TEXT NOT NULL REFERENCES keys(public_key_id)
);
CREATE TABLE charge_permissions (
    id TEXT PRIMARY KEY,
    merchant_id TEXT NOT NULL,
    environment TEXT NOT NULL,
    region TEXT NOT NULL,
    kind TEXT NOT NULL,
    currency TEXT NOT NULL,
    amount_limit BIGINT NOT NULL,
    captured BIGINT NOT NULL,
    open_authorized BIGINT NOT NULL,
    period_start BIGINT NOT NULL,
    period_used BIGINT NOT NULL,
    charges_created BIGINT NOT NULL,
    charge_sequence BIGINT NOT NULL,
    refund_sequence BIGINT NOT NULL,
    state TEXT NOT NULL,
    state_reason TEXT,
    state_description TEXT,
    state_updated_at BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT,
    mm_present BOOLEAN NOT NULL,
    mm_reference_id TEXT,
    mm_store_name TEXT,
    mm_note_to_buyer TEXT,
    mm_custom_information TEXT,
    mm_locked BOOLEAN NOT NULL,
    rm_present BOOLEAN NOT NULL,
    rm_unit TEXT,
    rm_value BIGINT,
    rm_amount BIGINT,
    buyer_id TEXT,
    buyer_name TEXT,
    buyer_email TEXT,
    buyer_phone TEXT,
    payment_method TEXT NOT NULL,
    platform_id TEXT,
    shipping_address TEXT,
    billing_address TEXT,
    setup_only BOOLEAN
);
CREATE TABLE charges (
    id TEXT PRIMARY KEY,
    permission_id TEXT NOT NULL,
    merchant_id TEXT NOT NULL,
    environment TEXT NOT NULL,
    currency TEXT NOT NULL,
    amount BIGINT NOT NULL,
    capture_amount BIGINT,
    refunded BIGINT NOT NULL,
    refund_pending BIGINT NOT NULL,
    refund_count BIGINT NOT NULL,
    soft_descriptor TEXT,
    mm_present BOOLEAN NOT NULL,
    mm_reference_id TEXT,
    mm_store_name TEXT,
    mm_note_to_buyer TEXT,
    mm_custom_information TEXT,
    provider_reference_id TEXT,
    platform_id TEXT,
    charge_initiator TEXT,
    channel TEXT,
    capture_now BOOLEAN NOT NULL,
    can_handle_pending BOOLEAN NOT NULL,
    state TEXT NOT NULL,
    state_reason TEXT,
    reason_description TEXT,
    pending_resolution TEXT,
    state_updated_at BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    authorized_at BIGINT,
    expires_at BIGINT NOT NULL,
    period_start BIGINT NOT NULL,
    wcd_present BOOLEAN NOT NULL DEFAULT FALSE,
    wcd_review_url TEXT,
    wcd_result_url TEXT,
    wcd_cancel_url TEXT,
    atypical_activity BOOLEAN NOT NULL DEFAULT FALSE
);
CREATE INDEX charges_by_permission ON charges (permission_id, state);
CREATE TABLE refunds (
    id TEXT PRIMARY KEY,
    charge_id TEXT NOT NULL,
    merchant_id TEXT NOT NULL,
    environment TEXT NOT NULL,
    currency TEXT NOT NULL,
    amount BIGINT NOT NULL,
    soft_descriptor TEXT,
    state TEXT NOT NULL,
    state_reason TEXT,
    state_updated_at BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    pending_decline TEXT
);
CREATE TABLE checkout_sessions (
    id TEXT PRIMARY KEY,
    merchant_id TEXT NOT NULL,
    environment TEXT NOT NULL,
    region TEXT NOT NULL,
    store_id TEXT NOT NULL,
    review_url TEXT,
    result_url TEXT,
    cancel_url TEXT,
    process_order BOOLEAN NOT NULL,
    kind TEXT NOT NULL,
    rm_present BOOLEAN NOT NULL,
    rm_unit TEXT,
    rm_value BIGINT,
    rm_amount BIGINT,
    rm_currency TEXT,
    payment_intent TEXT,
    charge_amount BIGINT,
    total_order_amount BIGINT,
    amount_currency TEXT,
    can_handle_pending BOOLEAN,
    soft_descriptor TEXT,
    presentment_currency TEXT,
    allow_overcharge BOOLEAN,
    extend_expiration BOOLEAN,
    mm_present BOOLEAN NOT NULL,
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
    buyer_confirmed BOOLEAN NOT NULL,
    state TEXT NOT NULL,
    state_reason TEXT,
    state_updated_at BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    charge_permission_id TEXT,
    charge_id TEXT,
    supplementary_data TEXT,
    setup_only BOOLEAN,
    delivery_specifications TEXT,
    address_details TEXT,
    renews_permission TEXT,
    checkout_button_text TEXT,
    estimate_order_total BIGINT,
    estimate_currency TEXT,
    provider_reference_id TEXT
);
CREATE TABLE idempotency_records (
    merchant_id TEXT NOT NULL,
    environment TEXT NOT NULL,
    key TEXT NOT NULL,
    scope TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    status BIGINT NOT NULL,
    body BYTEA NOT NULL,
    body_encoding TEXT NOT NULL DEFAULT 'identity',
    created_at BIGINT NOT NULL,
    recorded_at BIGINT NOT NULL,
    PRIMARY KEY (merchant_id, environment, key, scope)
);
CREATE INDEX idempotency_by_recorded ON idempotency_records (recorded_at);
CREATE TABLE events (
    seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    notification_id TEXT NOT NULL UNIQUE,
    message_id TEXT NOT NULL,
    merchant_id TEXT NOT NULL,
    environment TEXT NOT NULL,
    object_type TEXT NOT NULL,
    object_id TEXT NOT NULL,
    charge_permission_id TEXT NOT NULL,
    notification_type TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    delivered_at BIGINT,
    status TEXT NOT NULL DEFAULT 'Pending',
    next_attempt_ms BIGINT,
    lease_until_ms BIGINT NOT NULL DEFAULT 0,
    first_attempt_ms BIGINT,
    round_attempts BIGINT NOT NULL DEFAULT 0,
    published_ms BIGINT
);
CREATE INDEX events_due ON events (next_attempt_ms) WHERE next_attempt_ms IS NOT NULL;
CREATE INDEX events_by_merchant ON events (merchant_id, environment, seq);
CREATE INDEX events_delivered ON events (delivered_at) WHERE status = 'Delivered';
CREATE TABLE notification_attempts (
    seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    notification_id TEXT NOT NULL,
    at_ms BIGINT NOT NULL,
    url TEXT NOT NULL,
    status_code BIGINT,
    error TEXT,
    latency_ms BIGINT NOT NULL
);
CREATE INDEX notification_attempts_by_notification ON notification_attempts (notification_id, at_ms);
CREATE TABLE ipn_endpoints (
    merchant_id TEXT NOT NULL,
    environment TEXT NOT NULL,
    url TEXT NOT NULL,
    PRIMARY KEY (merchant_id, environment)
);
CREATE TABLE sns_signing_key (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    private_key_pem TEXT NOT NULL,
    certificate_pem TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE TABLE jobs (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    merchant_id TEXT NOT NULL,
    environment TEXT NOT NULL,
    kind TEXT NOT NULL,
    object_id TEXT NOT NULL,
    due_at BIGINT NOT NULL,
    done_at BIGINT,
    status TEXT NOT NULL DEFAULT 'pending',
    attempts BIGINT NOT NULL DEFAULT 0,
    last_error TEXT,
    finished_at BIGINT
);
CREATE INDEX jobs_pending ON jobs (due_at) WHERE done_at IS NULL;
CREATE INDEX jobs_by_object ON jobs (object_id);
CREATE INDEX jobs_failed ON jobs (merchant_id, due_at) WHERE status = 'failed';
CREATE INDEX jobs_finished ON jobs (finished_at) WHERE finished_at IS NOT NULL;
CREATE TABLE clocks (
    merchant_id TEXT PRIMARY KEY,
    offset_seconds BIGINT NOT NULL,
    frozen_at BIGINT
);
CREATE TABLE faults (
    seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    fault_id TEXT NOT NULL UNIQUE,
    merchant_id TEXT NOT NULL,
    environment TEXT NOT NULL,
    reason_code TEXT,
    count BIGINT NOT NULL,
    remaining BIGINT NOT NULL CHECK (remaining > 0),
    operations TEXT,
    delay_ms BIGINT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX faults_by_merchant ON faults (merchant_id, environment, seq);
"#,
    // The dashboard (issue 15), as SQLite's migration of the same purpose: each object's
    // timeline, one row per change of state with its cause, and each object list of a
    // merchant, newest first.
    r#"
CREATE TABLE state_changes (
    seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    merchant_id TEXT NOT NULL,
    environment TEXT NOT NULL,
    object_kind TEXT NOT NULL,
    object_id TEXT NOT NULL,
    state TEXT NOT NULL,
    reason_code TEXT,
    at BIGINT NOT NULL,
    cause TEXT NOT NULL,
    detail TEXT NOT NULL
);
CREATE INDEX state_changes_by_object ON state_changes (object_id, seq);
CREATE INDEX checkout_sessions_by_merchant ON checkout_sessions (merchant_id, environment, created_at);
CREATE INDEX charge_permissions_by_merchant ON charge_permissions (merchant_id, environment, created_at);
CREATE INDEX charges_by_merchant ON charges (merchant_id, environment, created_at);
CREATE INDEX refunds_by_merchant ON refunds (merchant_id, environment, created_at);
"#,
];

/// The server settings a commit's durability rests on, as the server reports them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerSettings {
    /// `fsync`: `on` (the server flushes its WAL to disk at all).
    pub fsync: String,
    /// `synchronous_commit`: `on` (a commit returns once its WAL is flushed).
    pub synchronous_commit: String,
    /// `full_page_writes`: `on` (a page torn by a crash is restored from the WAL).
    pub full_page_writes: String,
    /// The server's major version (`server_version_num` / 10000).
    pub major_version: u32,
}

/// The oldest PostgreSQL the store runs on (product.md: 13 or later).
pub const MINIMUM_MAJOR_VERSION: u32 = 13;

/// Reads what a connection has in force.
pub(super) fn settings(client: &mut Client) -> Result<ServerSettings, StoreError> {
    let mut show = |name: &str| -> Result<String, StoreError> {
        Ok(client.query_one(&format!("SHOW {name}"), &[])?.try_get::<_, String>(0)?)
    };
    let fsync = show("fsync")?;
    let synchronous_commit = show("synchronous_commit")?;
    let full_page_writes = show("full_page_writes")?;
    let version = show("server_version_num")?;
    let major_version = version.parse::<u32>().map(|n| n / 10_000).unwrap_or(0);
    Ok(ServerSettings { fsync, synchronous_commit, full_page_writes, major_version })
}

/// Sets what every connection needs, then reads it back: a server that would
/// acknowledge a commit before it is on disk (`fsync` off, `synchronous_commit` below
/// `on` for this session) refuses to open rather than answer 2xx for writes a crash could
/// undo, and so does one older than the oldest supported.
pub(super) fn configure(client: &mut Client) -> Result<ServerSettings, StoreError> {
    client.batch_execute(
        "SET synchronous_commit TO on; SET default_transaction_isolation TO 'read committed'; \
         SET application_name TO 'amzpay'; SET TIME ZONE 'UTC'; \
         SET client_min_messages TO warning",
    )?;
    let in_force = settings(client)?;
    if in_force.fsync != "on" || in_force.synchronous_commit != "on" || in_force.full_page_writes != "on" {
        return Err(StoreError::NotDurable(format!(
            "PostgreSQL would acknowledge commits that a crash could lose: {in_force:?}"
        )));
    }
    if in_force.major_version < MINIMUM_MAJOR_VERSION {
        return Err(StoreError::NotDurable(format!(
            "PostgreSQL {} is older than {MINIMUM_MAJOR_VERSION}",
            in_force.major_version
        )));
    }
    Ok(in_force)
}

/// Runs the migrations this database has not run, under a session advisory lock (another
/// node migrating at the same moment waits, then finds nothing left to do); how many ran.
pub(super) fn migrate(client: &mut Client) -> Result<usize, StoreError> {
    client.execute("SELECT pg_advisory_lock($1)", &[&MIGRATION_LOCK_KEY])?;
    let result = migrate_locked(client);
    // Ending the session would release it too; a failed unlock leaves it to that.
    let _ = client.execute("SELECT pg_advisory_unlock($1)", &[&MIGRATION_LOCK_KEY]);
    result
}

fn migrate_locked(client: &mut Client) -> Result<usize, StoreError> {
    let mut tx = client.transaction()?;
    // Writers take the write lock first: no write runs half on the old schema.
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&WRITE_LOCK_KEY])?;
    tx.batch_execute(
        "CREATE TABLE IF NOT EXISTS amzpay_migrations (
            version BIGINT PRIMARY KEY,
            applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
        )",
    )?;
    let done: i64 = tx.query_one("SELECT COALESCE(MAX(version), 0) FROM amzpay_migrations", &[])?.try_get(0)?;
    let known = MIGRATIONS.len() as i64;
    if done > known {
        return Err(StoreError::Corrupt(format!(
            "the database is at schema version {done}, newer than this amzpay knows ({known}): upgrade amzpay"
        )));
    }
    let mut ran = 0;
    for (index, migration) in MIGRATIONS.iter().enumerate().skip(done as usize) {
        tx.batch_execute(migration)?;
        tx.execute("INSERT INTO amzpay_migrations (version) VALUES ($1)", &[&(index as i64 + 1)])?;
        ran += 1;
    }
    tx.commit()?;
    Ok(ran)
}
