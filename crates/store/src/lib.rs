//! Storage: the only crate with SQL.
//!
//! [`Store`] is the narrow, object-safe interface the server uses: run a closure inside one
//! durable write transaction, or inside a read snapshot. The closure sees a [`WriteTx`] /
//! [`ReadTx`] of typed load and save methods; it never sees SQL. SQLite
//! ([`sqlite::SqliteStore`]) is the first backend: WAL, `synchronous=FULL`, and one writer
//! thread that commits batches of transactions together (group commit). PostgreSQL
//! ([`postgres::PostgresStore`]) is the second, for several processes on one database: the
//! same shape, with every write transaction serialized across processes by an advisory
//! lock.

mod codec;
mod columns;
pub mod metric_names;
mod model;
pub mod postgres;
mod queue;
pub mod sqlite;

use std::future::Future;
use std::pin::Pin;

use amzpay_domain::checkout_session::CheckoutSession;
use amzpay_domain::{
    Charge, ChargeId, ChargePermission, ChargePermissionId, Environment, Refund, RefundId, Region, Timestamp,
};

pub use model::{
    Attempt, AttemptOutcome, Cause, DeliveryStatus, DueJob, Event, FailedJob, Fault, IdempotencyRecord, Isolated, Job,
    JobKind, KeyRecord, MerchantRecord, Notification, NotificationType, ObjectFilter, ObjectKind, ObjectType,
    SandboxClock, SnsSigningKey, StateChange, UndecodableJob,
};

/// Why a store operation failed. Each variant is one cause, so that callers can act on it
/// without reading messages.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// PostgreSQL answered an error, or the connection to it failed.
    #[error("PostgreSQL error: {0}")]
    Postgres(#[from] ::postgres::Error),
    #[error("stored data is not valid: {0}")]
    Corrupt(String),
    /// A connection does not have the settings durability needs (WAL, `synchronous=FULL`):
    /// the store refuses to open rather than answer 2xx for writes a power loss could undo.
    #[error("the database cannot be used durably: {0}")]
    NotDurable(String),
    /// `--database` does not name a database this store can open.
    #[error("not a usable database URL: {0}")]
    BadUrl(String),
    #[error("the database writer has stopped")]
    WriterStopped,
    /// The write queue is full: the disk cannot keep up (the server answers 503).
    #[error("the write queue is full")]
    QueueFull,
    /// An insert named an id that exists (ids are random: draw another).
    #[error("{0} is taken")]
    IdTaken(String),
    /// A write named an object that is not the given merchant's in the given environment
    /// (or an update named none): nothing of the job is written.
    #[error("out of scope: {0}")]
    OutOfScope(String),
    /// The batch a write ran in did not commit: nothing of it was written.
    #[error("the write did not commit: {0}")]
    CommitFailed(String),
    /// A read could not run.
    #[error("the read did not run: {0}")]
    ReadFailed(&'static str),
    /// The job panicked (the message): its writes were rolled back, the store serves on.
    #[error("a store job panicked: {0}")]
    Panicked(String),
    #[error("io error: {0}")]
    Io(#[from] std::io::Error),
}

/// Reads, in a consistent snapshot. Every object read is scoped to a merchant and an
/// environment: another merchant's or environment's object does not exist.
pub trait ReadTx {
    fn merchant(&mut self, merchant_id: &str) -> Result<Option<MerchantRecord>, StoreError>;
    fn key(&mut self, public_key_id: &str) -> Result<Option<KeyRecord>, StoreError>;
    fn permission(
        &mut self,
        merchant_id: &str,
        environment: Environment,
        id: &ChargePermissionId,
    ) -> Result<Option<ChargePermission>, StoreError>;
    fn charge(
        &mut self,
        merchant_id: &str,
        environment: Environment,
        id: &ChargeId,
    ) -> Result<Option<Charge>, StoreError>;
    fn refund(
        &mut self,
        merchant_id: &str,
        environment: Environment,
        id: &RefundId,
    ) -> Result<Option<Refund>, StoreError>;
    /// The permission's charges that are still open (not Captured, Canceled or Declined).
    fn open_charges(
        &mut self,
        merchant_id: &str,
        environment: Environment,
        permission_id: &ChargePermissionId,
    ) -> Result<Vec<Charge>, StoreError>;
    /// The outcome recorded for an idempotency key in a scope (an operation and its target,
    /// spec §8).
    fn idempotency(
        &mut self,
        merchant_id: &str,
        environment: Environment,
        scope: &str,
        key: &str,
    ) -> Result<Option<IdempotencyRecord>, StoreError>;
    /// A merchant's IPN endpoint in an environment.
    fn ipn_endpoint(&mut self, merchant_id: &str, environment: Environment) -> Result<Option<String>, StoreError>;
    /// The delivery log: a merchant's notifications in an environment, newest first, each
    /// with its attempts; at most `limit`.
    fn notifications(
        &mut self,
        merchant_id: &str,
        environment: Environment,
        limit: u32,
    ) -> Result<Vec<Notification>, StoreError>;
    /// The notifications of one object among a merchant's latest `scanned` in an
    /// environment, newest first, each with its attempts (the dashboard's object page: a
    /// bounded read however many notifications the merchant has).
    fn object_notifications(
        &mut self,
        merchant_id: &str,
        environment: Environment,
        object_id: &str,
        scanned: u32,
    ) -> Result<Vec<Notification>, StoreError>;
    /// One notification of a merchant, with its attempts.
    fn notification(
        &mut self,
        merchant_id: &str,
        environment: Environment,
        notification_id: &str,
    ) -> Result<Option<Notification>, StoreError>;
    /// Notifications due for an attempt at `real_now_ms` and not leased to a deliverer,
    /// earliest due first, at most `per_merchant` of each merchant and environment (so one
    /// merchant's backlog never hides another's) and `limit` in all. Without attempts.
    fn due_notifications(
        &mut self,
        real_now_ms: i64,
        per_merchant: u32,
        limit: u32,
    ) -> Result<Vec<Notification>, StoreError>;
    /// The SNS signing key, once made.
    fn sns_signing_key(&mut self) -> Result<Option<SnsSigningKey>, StoreError>;
    /// A sandbox permission by id alone, with its merchant (the buyer's page has no
    /// merchant context).
    fn sandbox_permission_by_id(
        &mut self,
        id: &ChargePermissionId,
    ) -> Result<Option<(String, ChargePermission)>, StoreError>;
    fn checkout_session(
        &mut self,
        merchant_id: &str,
        environment: Environment,
        id: &str,
    ) -> Result<Option<CheckoutSession>, StoreError>;
    /// A sandbox checkout session by id alone, with its merchant (the hosted pages have no
    /// merchant context).
    fn sandbox_checkout_session_by_id(&mut self, id: &str) -> Result<Option<(String, CheckoutSession)>, StoreError>;
    /// The development merchant `serve` made in this database, and its key: `(merchant id,
    /// public key id)`.
    fn development_merchant(&mut self) -> Result<Option<(String, String)>, StoreError>;
    /// A merchant's sandbox clock (running with real time, no offset, when never set).
    fn clock(&mut self, merchant_id: &str) -> Result<SandboxClock, StoreError>;
    /// Jobs not yet run that are due at `real_now` on their merchant's clock (sandbox jobs
    /// add the merchant's offset), earliest first; at most `limit`. With `merchant`, only
    /// that merchant's sandbox jobs. A row that cannot be read is returned as such, in its
    /// place, so that it can be recorded failed instead of hiding the others.
    fn due_jobs(&mut self, real_now: Timestamp, merchant: Option<&str>, limit: u32) -> Result<Vec<DueJob>, StoreError>;
    /// A merchant's sandbox jobs not yet run that are due at or before `until` (an instant
    /// on its clock, which may be ahead of the clock: a clock advance runs them before it
    /// moves the clock), earliest first; at most `limit`.
    fn due_sandbox_jobs_until(
        &mut self,
        merchant_id: &str,
        until: Timestamp,
        limit: u32,
    ) -> Result<Vec<DueJob>, StoreError>;
    /// Failed jobs, most recently due first, at most `limit`; with `merchant_id`, only
    /// that merchant's.
    fn failed_jobs(&mut self, merchant_id: Option<&str>, limit: u32) -> Result<Vec<FailedJob>, StoreError>;
    /// A merchant's active faults in an environment, oldest first.
    fn faults(&mut self, merchant_id: &str, environment: Environment) -> Result<Vec<Fault>, StoreError>;
    /// Every merchant with an active fault in an environment (a process learns them when
    /// it starts).
    fn merchants_with_faults(&mut self, environment: Environment) -> Result<Vec<String>, StoreError>;
    /// Every merchant, oldest first, at most `limit`: for the operator's dashboard, which
    /// is the one reader that sees across merchants (behind the admin gate).
    fn merchants(&mut self, limit: u32) -> Result<Vec<MerchantRecord>, StoreError>;
    /// A merchant's checkout sessions in an environment, newest first, as `filter` says.
    fn list_checkout_sessions(
        &mut self,
        merchant_id: &str,
        environment: Environment,
        filter: &ObjectFilter,
    ) -> Result<Vec<CheckoutSession>, StoreError>;
    /// A merchant's charge permissions in an environment, newest first, as `filter` says.
    fn list_permissions(
        &mut self,
        merchant_id: &str,
        environment: Environment,
        filter: &ObjectFilter,
    ) -> Result<Vec<ChargePermission>, StoreError>;
    /// A merchant's charges in an environment, newest first, as `filter` says.
    fn list_charges(
        &mut self,
        merchant_id: &str,
        environment: Environment,
        filter: &ObjectFilter,
    ) -> Result<Vec<Charge>, StoreError>;
    /// A merchant's refunds in an environment, newest first, as `filter` says.
    fn list_refunds(
        &mut self,
        merchant_id: &str,
        environment: Environment,
        filter: &ObjectFilter,
    ) -> Result<Vec<Refund>, StoreError>;
    /// An object's timeline: its state changes, oldest first (in the order they were
    /// recorded), at most `limit`.
    fn state_changes(
        &mut self,
        merchant_id: &str,
        environment: Environment,
        object_id: &str,
        limit: u32,
    ) -> Result<Vec<StateChange>, StoreError>;
}

/// Writes, inside one transaction that commits durably or not at all.
pub trait WriteTx: ReadTx {
    fn insert_merchant(&mut self, merchant: &MerchantRecord) -> Result<(), StoreError>;
    fn insert_key(&mut self, key: &KeyRecord) -> Result<(), StoreError>;
    /// Records which merchant and key are the development merchant's; `IdTaken` if one is
    /// recorded already.
    fn set_development_merchant(&mut self, merchant_id: &str, public_key_id: &str) -> Result<(), StoreError>;
    /// Inserts a new permission; `Conflict` if the id exists (ids are random).
    fn insert_permission(&mut self, merchant_id: &str, permission: &ChargePermission) -> Result<(), StoreError>;
    fn update_permission(&mut self, merchant_id: &str, permission: &ChargePermission) -> Result<(), StoreError>;
    fn save_charge(&mut self, merchant_id: &str, charge: &Charge) -> Result<(), StoreError>;
    fn save_refund(&mut self, merchant_id: &str, refund: &Refund) -> Result<(), StoreError>;
    fn insert_event(&mut self, event: &Event) -> Result<(), StoreError>;
    /// Appends a change of state to its object's timeline.
    fn insert_state_change(&mut self, change: &StateChange) -> Result<(), StoreError>;
    fn insert_idempotency(&mut self, record: &IdempotencyRecord) -> Result<(), StoreError>;
    fn save_checkout_session(&mut self, merchant_id: &str, session: &CheckoutSession) -> Result<(), StoreError>;
    fn insert_job(&mut self, job: &Job) -> Result<(), StoreError>;
    /// Marks a job run; `false` if it had already run (another worker got it first).
    fn claim_job(&mut self, id: i64, at: Timestamp) -> Result<bool, StoreError>;
    /// Marks a job failed with its error: it runs no more and is kept to be shown; `false`
    /// if it had already run or failed.
    fn fail_job(&mut self, id: i64, at: Timestamp, error: &str) -> Result<bool, StoreError>;
    /// Runs `work` inside a savepoint of this transaction: if it answers `false` or
    /// panics, its writes alone are rolled back and the transaction goes on. `Err` means
    /// the transaction itself failed (nothing of it will commit).
    fn isolated(&mut self, work: &mut dyn FnMut(&mut dyn WriteTx) -> bool) -> Result<Isolated, StoreError>;
    fn set_clock(&mut self, merchant_id: &str, clock: SandboxClock) -> Result<(), StoreError>;
    /// Sets (or, with `None`, clears) a merchant's IPN endpoint in an environment.
    fn set_ipn_endpoint(
        &mut self,
        merchant_id: &str,
        environment: Environment,
        url: Option<&str>,
    ) -> Result<(), StoreError>;
    /// Leases a due, pending notification to the caller until `lease_until_ms`: `false` if
    /// it is not pending, not due at `real_now_ms`, or leased to another deliverer. The
    /// first lease stamps it published at `real_now_ms`.
    fn lease_notification(
        &mut self,
        notification_id: &str,
        real_now_ms: i64,
        lease_until_ms: i64,
    ) -> Result<bool, StoreError>;
    /// Ends a lease early, with no attempt made: the notification is due again as before.
    fn release_notification(&mut self, notification_id: &str) -> Result<(), StoreError>;
    /// Records how an attempt ended and releases the lease.
    fn finish_attempt(&mut self, notification_id: &str, outcome: &AttemptOutcome) -> Result<(), StoreError>;
    /// Makes a notification pending again, due at `real_now_ms`, in a new round of retries.
    /// `false` if the merchant has no such notification.
    fn redeliver(
        &mut self,
        merchant_id: &str,
        environment: Environment,
        notification_id: &str,
        real_now_ms: i64,
    ) -> Result<bool, StoreError>;
    /// Retention: deletes at most `limit` idempotency records written before `before`
    /// (real time), oldest first; how many it deleted.
    fn prune_idempotency_records(&mut self, before: Timestamp, limit: u32) -> Result<u32, StoreError>;
    /// Retention: deletes at most `limit` notifications delivered before `before` (real
    /// time), with their attempts, oldest first; pending, failed and unsent ones stay.
    fn prune_delivered_notifications(&mut self, before: Timestamp, limit: u32) -> Result<u32, StoreError>;
    /// Retention: deletes at most `limit` jobs that ran successfully before `before` (real
    /// time), oldest first; jobs not yet run and failed jobs stay.
    fn prune_finished_jobs(&mut self, before: Timestamp, limit: u32) -> Result<u32, StoreError>;
    /// Stores the SNS signing key unless one exists (another process may have made one
    /// first: read it back).
    fn insert_sns_signing_key(&mut self, key: &SnsSigningKey) -> Result<(), StoreError>;
    /// Stores a new fault; `IdTaken` if its id exists (ids are random).
    fn insert_fault(&mut self, fault: &Fault) -> Result<(), StoreError>;
    /// Uses one of a fault's remaining requests, deleting the fault with its last one:
    /// `false` if the merchant has no such fault.
    fn consume_fault(
        &mut self,
        merchant_id: &str,
        environment: Environment,
        fault_id: &str,
    ) -> Result<bool, StoreError>;
    /// Deletes a merchant's faults in an environment; how many there were.
    fn clear_faults(&mut self, merchant_id: &str, environment: Environment) -> Result<usize, StoreError>;
}

pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Called once the batch a write job ran in has committed (or failed to).
pub type Deliver = Box<dyn FnOnce(Result<(), StoreError>) + Send>;
/// A write job: runs inside the transaction and says whether to keep its writes
/// (`true`) or roll them back, and how to deliver its result after the commit.
pub type WriteJob = Box<dyn FnOnce(&mut dyn WriteTx) -> (bool, Deliver) + Send>;
pub type ReadJob = Box<dyn FnOnce(&mut dyn ReadTx) + Send>;

/// The storage interface the server depends on.
pub trait Store: Send + Sync + 'static {
    /// Queues a write job. Its `Deliver` is called after its batch committed.
    fn submit_write(&self, job: WriteJob) -> Result<(), StoreError>;
    /// Runs a read job on a snapshot, off the async executor.
    fn run_read(&self, job: ReadJob) -> BoxFuture<'_, Result<(), StoreError>>;
}

impl dyn Store {
    /// Runs `work` in a write transaction and returns its result once it is durable. If
    /// `work` fails, its writes are rolled back and the error returned.
    pub async fn write<T, E>(
        &self,
        work: impl FnOnce(&mut dyn WriteTx) -> Result<T, E> + Send + 'static,
    ) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
    {
        let (sender, receiver) = tokio::sync::oneshot::channel::<Result<T, E>>();
        let job: WriteJob = Box::new(move |tx| {
            // A panic is this job's failure alone: its writes are rolled back (it does not keep
            // them) and its caller learns it once the batch is settled.
            let result =
                std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| work(tx))).unwrap_or_else(|payload| {
                    let message = panic_message(payload.as_ref());
                    tracing::error!(panic = %message, "a write job panicked; its writes are rolled back");
                    Err(E::from(StoreError::Panicked(message)))
                });
            let keep = result.is_ok();
            let deliver: Deliver = Box::new(move |committed| {
                let outcome = match committed {
                    Ok(()) => result,
                    Err(error) => Err(E::from(error)),
                };
                // The requester may have gone away (client disconnected); the write stands.
                let _ = sender.send(outcome);
            });
            (keep, deliver)
        });
        self.submit_write(job).map_err(E::from)?;
        receiver.await.unwrap_or_else(|_| Err(E::from(StoreError::WriterStopped)))
    }

    /// Runs `work` on a read snapshot.
    pub async fn read<T, E>(&self, work: impl FnOnce(&mut dyn ReadTx) -> Result<T, E> + Send + 'static) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
    {
        let (sender, receiver) = tokio::sync::oneshot::channel::<Result<T, E>>();
        let job: ReadJob = Box::new(move |tx| {
            let _ = sender.send(work(tx));
        });
        self.run_read(job).await.map_err(E::from)?;
        receiver.await.unwrap_or_else(|_| Err(E::from(StoreError::WriterStopped)))
    }
}

/// The text a panic carried (`panic!("...")` gives a `&str` or a `String`).
pub(crate) fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    match (payload.downcast_ref::<&str>(), payload.downcast_ref::<String>()) {
        (Some(text), _) => (*text).to_owned(),
        (None, Some(text)) => text.clone(),
        (None, None) => "a panic without a message".to_owned(),
    }
}

/// What a new merchant needs (used by the CLI and the development merchant).
pub fn new_merchant(merchant_id: &str, region: Region, store_id: &str, now: Timestamp) -> MerchantRecord {
    MerchantRecord { merchant_id: merchant_id.to_owned(), region, store_id: store_id.to_owned(), created_at: now }
}

/// Where a database is: what `--database` names.
#[derive(Clone, PartialEq, Eq)]
pub enum Database {
    /// A SQLite file.
    Sqlite(std::path::PathBuf),
    /// A PostgreSQL URL (`postgres://USER:PASSWORD@HOST:PORT/DB`), which holds a password:
    /// `Debug` and [`Database::describe`] name it without.
    Postgres(String),
}

impl std::fmt::Debug for Database {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.describe())
    }
}

impl Database {
    /// Names the database without its password (for logs and messages).
    pub fn describe(&self) -> String {
        match self {
            Database::Sqlite(path) => path.display().to_string(),
            Database::Postgres(url) => match postgres::parse_url(url) {
                Ok(config) => {
                    let hosts: Vec<String> = config
                        .get_hosts()
                        .iter()
                        .map(|host| match host {
                            ::postgres::config::Host::Tcp(name) => name.clone(),
                            ::postgres::config::Host::Unix(path) => path.display().to_string(),
                        })
                        .collect();
                    format!(
                        "PostgreSQL database {} on {}",
                        config.get_dbname().unwrap_or("(default)"),
                        if hosts.is_empty() { "localhost".to_owned() } else { hosts.join(",") }
                    )
                }
                Err(_) => "a PostgreSQL database".to_owned(),
            },
        }
    }

    /// Opens the store: the SQLite file (made if missing), or the PostgreSQL database
    /// (migrated if behind).
    pub fn open(&self) -> Result<AnyStore, StoreError> {
        match self {
            Database::Sqlite(path) => Ok(AnyStore::Sqlite(sqlite::SqliteStore::open(path)?)),
            Database::Postgres(url) => Ok(AnyStore::Postgres(Box::new(postgres::PostgresStore::open(url)?))),
        }
    }
}

/// A store of either backend, for the places that open one and close it (the server, the
/// CLI's commands): everything else sees `dyn Store`.
pub enum AnyStore {
    Sqlite(sqlite::SqliteStore),
    Postgres(Box<postgres::PostgresStore>),
}

impl AnyStore {
    /// Stops accepting writes and waits for the queued ones to commit.
    pub fn close(&self) {
        match self {
            AnyStore::Sqlite(store) => store.close(),
            AnyStore::Postgres(store) => store.close(),
        }
    }
}

impl Store for AnyStore {
    fn submit_write(&self, job: WriteJob) -> Result<(), StoreError> {
        match self {
            AnyStore::Sqlite(store) => store.submit_write(job),
            AnyStore::Postgres(store) => store.submit_write(job),
        }
    }

    fn run_read(&self, job: ReadJob) -> BoxFuture<'_, Result<(), StoreError>> {
        match self {
            AnyStore::Sqlite(store) => store.run_read(job),
            AnyStore::Postgres(store) => store.run_read(job),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Database;

    #[test]
    fn a_postgres_url_is_named_without_its_password() {
        let database = Database::Postgres("postgres://amzpay:s3cret@db.internal:5432/payments".into());
        for shown in [database.describe(), format!("{database:?}")] {
            assert_eq!(shown, "PostgreSQL database payments on db.internal");
        }
    }
}
