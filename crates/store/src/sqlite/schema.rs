//! The SQLite schema: the migrations, in order, and the connection settings every
//! connection gets. A migration is appended, never edited: a database records how many it
//! has run (`PRAGMA user_version`) and runs the rest at open, in one transaction.

use rusqlite::Connection;

use super::BUSY_TIMEOUT_MS;
use crate::StoreError;

pub(super) const MIGRATIONS: &[&str] = &[
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
    // IPN delivery (issue: Instant Payment Notifications). Each event is a notification
    // with its delivery state; attempts are logged; endpoints are per merchant and
    // environment (the merchants' single `ipn_url` is copied to both); one SNS signing key
    // per database. Events staged before delivery existed are marked never sent.
    r#"
ALTER TABLE events ADD COLUMN notification_id TEXT;
ALTER TABLE events ADD COLUMN message_id TEXT;
ALTER TABLE events ADD COLUMN status TEXT NOT NULL DEFAULT 'Pending';
ALTER TABLE events ADD COLUMN next_attempt_ms INTEGER;
ALTER TABLE events ADD COLUMN lease_until_ms INTEGER NOT NULL DEFAULT 0;
ALTER TABLE events ADD COLUMN first_attempt_ms INTEGER;
ALTER TABLE events ADD COLUMN round_attempts INTEGER NOT NULL DEFAULT 0;
ALTER TABLE events ADD COLUMN published_ms INTEGER;
UPDATE events SET notification_id = lower(hex(randomblob(16))), message_id = lower(hex(randomblob(16))),
    status = 'NoEndpoint';
DROP INDEX events_undelivered;
CREATE UNIQUE INDEX events_by_notification ON events (notification_id);
CREATE INDEX events_due ON events (next_attempt_ms) WHERE next_attempt_ms IS NOT NULL;
CREATE INDEX events_by_merchant ON events (merchant_id, environment, seq);
CREATE TABLE notification_attempts (
    notification_id TEXT NOT NULL,
    at_ms INTEGER NOT NULL,
    url TEXT NOT NULL,
    status_code INTEGER,
    error TEXT,
    latency_ms INTEGER NOT NULL
);
CREATE INDEX notification_attempts_by_notification ON notification_attempts (notification_id, at_ms);
CREATE TABLE ipn_endpoints (
    merchant_id TEXT NOT NULL,
    environment TEXT NOT NULL,
    url TEXT NOT NULL,
    PRIMARY KEY (merchant_id, environment)
) WITHOUT ROWID;
INSERT INTO ipn_endpoints (merchant_id, environment, url)
    SELECT merchant_id, 'sandbox', ipn_url FROM merchants WHERE ipn_url IS NOT NULL
    UNION ALL SELECT merchant_id, 'live', ipn_url FROM merchants WHERE ipn_url IS NOT NULL;
ALTER TABLE merchants DROP COLUMN ipn_url;
CREATE TABLE sns_signing_key (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    private_key_pem TEXT NOT NULL,
    certificate_pem TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
"#,
    // A job that fails is kept with its error and runs no more (status `failed`), so that
    // one bad job never stands in front of the others.
    r#"
ALTER TABLE jobs ADD COLUMN status TEXT NOT NULL DEFAULT 'pending';
ALTER TABLE jobs ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;
ALTER TABLE jobs ADD COLUMN last_error TEXT;
UPDATE jobs SET status = 'done', attempts = 1 WHERE done_at IS NOT NULL;
CREATE INDEX jobs_failed ON jobs (merchant_id, due_at) WHERE status = 'failed';
"#,
    // Sandbox faults on demand (issue 12, product.md "Fault injection"): each merchant's
    // active faults, oldest first by `seq`; `operations` holds names separated by spaces, or
    // NULL for every operation. A spent fault is deleted, so `remaining` is never 0.
    r#"
CREATE TABLE faults (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    fault_id TEXT NOT NULL UNIQUE,
    merchant_id TEXT NOT NULL,
    environment TEXT NOT NULL,
    reason_code TEXT,
    count INTEGER NOT NULL,
    remaining INTEGER NOT NULL CHECK (remaining > 0),
    operations TEXT,
    delay_ms INTEGER NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX faults_by_merchant ON faults (merchant_id, environment, seq);
"#,
    // Storage hardening (issue 12). Which merchant is the development merchant `serve`
    // creates, recorded in the same transaction as the merchant, so that a lost or truncated
    // `dev-merchant.json` is rebuilt from the database (or the start refused) instead of a
    // new merchant made. Idempotency records keep their reply deflated (`body_encoding`) and
    // when the store wrote them in real time (`recorded_at`: `created_at` is the merchant's
    // sandbox time); records from before count from their `created_at`. A job records when
    // it finished in real time (`finished_at`, `done_at` being its due instant on its
    // merchant's clock), stamped by a trigger so every way a job finishes sets it. These
    // two are the only clock the store reads (SQLite's `unixepoch()`), and only retention
    // uses them. Indexes for the retention task's deletions, so that each batch finds its
    // rows without a scan.
    r#"
CREATE TABLE development_merchant (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    merchant_id TEXT NOT NULL REFERENCES merchants(merchant_id),
    public_key_id TEXT NOT NULL REFERENCES keys(public_key_id)
);
ALTER TABLE idempotency_records ADD COLUMN body_encoding TEXT NOT NULL DEFAULT 'identity';
ALTER TABLE idempotency_records ADD COLUMN recorded_at INTEGER;
UPDATE idempotency_records SET recorded_at = created_at;
CREATE INDEX idempotency_by_recorded ON idempotency_records (recorded_at);
CREATE INDEX events_delivered ON events (delivered_at) WHERE status = 'Delivered';
ALTER TABLE jobs ADD COLUMN finished_at INTEGER;
UPDATE jobs SET finished_at = done_at WHERE done_at IS NOT NULL;
CREATE TRIGGER jobs_finished_at AFTER UPDATE OF done_at ON jobs
    WHEN OLD.done_at IS NULL AND NEW.done_at IS NOT NULL
    BEGIN UPDATE jobs SET finished_at = unixepoch() WHERE id = NEW.id; END;
CREATE INDEX jobs_finished ON jobs (finished_at) WHERE finished_at IS NOT NULL;
"#,
    // The dashboard (issue 15). Each object's timeline: one row per change of state, with
    // its cause, written in the transaction of the change (objects changed before this
    // migration have none). Each object list of a merchant, newest first.
    r#"
CREATE TABLE state_changes (
    seq INTEGER PRIMARY KEY,
    merchant_id TEXT NOT NULL,
    environment TEXT NOT NULL,
    object_kind TEXT NOT NULL,
    object_id TEXT NOT NULL,
    state TEXT NOT NULL,
    reason_code TEXT,
    at INTEGER NOT NULL,
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

/// The settings a connection has in force, as SQLite reports them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectionSettings {
    /// `PRAGMA journal_mode`: `wal`.
    pub journal_mode: String,
    /// `PRAGMA synchronous`: 2 is FULL (the WAL is synced at every commit).
    pub synchronous: i64,
    /// `PRAGMA foreign_keys`.
    pub foreign_keys: bool,
    /// `PRAGMA busy_timeout`, in milliseconds.
    pub busy_timeout_ms: i64,
}

/// `PRAGMA synchronous` as SQLite reports FULL.
pub const SYNCHRONOUS_FULL: i64 = 2;

/// What every connection is set to at open, and must have in force.
pub fn expected_settings() -> ConnectionSettings {
    ConnectionSettings {
        journal_mode: "wal".to_owned(),
        synchronous: SYNCHRONOUS_FULL,
        foreign_keys: true,
        busy_timeout_ms: BUSY_TIMEOUT_MS as i64,
    }
}

/// Reads a connection's settings back from SQLite.
pub(super) fn settings(connection: &Connection) -> Result<ConnectionSettings, StoreError> {
    let pragma = |name: &str| connection.pragma_query_value(None, name, |row| row.get::<_, rusqlite::types::Value>(0));
    let integer = |name: &str| -> Result<i64, StoreError> {
        match pragma(name)? {
            rusqlite::types::Value::Integer(value) => Ok(value),
            other => Err(StoreError::NotDurable(format!("PRAGMA {name} answered {other:?}"))),
        }
    };
    let journal_mode = match pragma("journal_mode")? {
        rusqlite::types::Value::Text(mode) => mode.to_lowercase(),
        other => return Err(StoreError::NotDurable(format!("PRAGMA journal_mode answered {other:?}"))),
    };
    Ok(ConnectionSettings {
        journal_mode,
        synchronous: integer("synchronous")?,
        foreign_keys: integer("foreign_keys")? == 1,
        busy_timeout_ms: integer("busy_timeout")?,
    })
}

/// Sets what every connection needs, then reads it back: a setting SQLite did not take (a
/// file system without the shared memory WAL needs keeps the old journal mode, silently)
/// refuses to open rather than run without the durability a 2xx promises.
pub(super) fn configure(connection: &Connection) -> Result<(), StoreError> {
    connection.busy_timeout(std::time::Duration::from_millis(BUSY_TIMEOUT_MS))?;
    connection.pragma_update(None, "journal_mode", "WAL")?;
    // FULL: the WAL is synced at every commit, so a 2xx survives a power loss.
    connection.pragma_update(None, "synchronous", "FULL")?;
    connection.pragma_update(None, "foreign_keys", "ON")?;
    // Every write job runs in a savepoint inside its batch's transaction, so SQLite keeps a
    // statement journal of the pages each job changes. In memory, not in a temporary file:
    // it is only ever needed to roll one job back inside a transaction that is not yet
    // committed, so it has nothing to do with durability, and the file writes were the
    // writer thread's (docs/performance.md).
    connection.pragma_update(None, "temp_store", "MEMORY")?;
    connection.set_prepared_statement_cache_capacity(64);
    let in_force = settings(connection)?;
    if in_force != expected_settings() {
        return Err(StoreError::NotDurable(format!(
            "the connection settings did not take: {in_force:?}, expected {:?}",
            expected_settings()
        )));
    }
    Ok(())
}

pub(super) fn migrate(connection: &mut Connection) -> Result<(), StoreError> {
    let tx = connection.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let version: usize = tx.query_row("PRAGMA user_version", [], |row| row.get::<_, i64>(0))? as usize;
    for (index, migration) in MIGRATIONS.iter().enumerate().skip(version) {
        tx.execute_batch(migration)?;
        tx.pragma_update(None, "user_version", (index + 1) as i64)?;
    }
    tx.commit()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use amzpay_domain::Environment;

    use super::*;
    use crate::Store;
    use crate::sqlite::SqliteStore;

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
