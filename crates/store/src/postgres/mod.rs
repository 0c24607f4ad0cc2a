//! The PostgreSQL backend (PostgreSQL 13 or later), for several `amzpay serve` processes on
//! one database.
//!
//! Laid out as the SQLite backend is: `schema` (migrations, run at open under an advisory
//! lock, and the session settings, read back), `writer` (the writer thread, group commit,
//! and the cluster-wide write lock, with its invariants at the top), `readers` (the read
//! threads), `tx` (the `ReadTx`/`WriteTx` a job sees), `notifications`, `faults` and
//! `retention` (the rows `tx` delegates to), `connection` (a connection with its prepared
//! statements). Rows are decoded by the shared `crate::codec`.
//!
//! Durability: every connection has `synchronous_commit` on and the server `fsync` and
//! `full_page_writes` on (checked at connect; otherwise the store refuses to open), and a
//! write's result is delivered only after `COMMIT` returned: a 2xx is in the server's
//! flushed WAL. Correctness across processes: see `writer`.

mod connection;
mod faults;
mod notifications;
mod readers;
mod retention;
mod schema;
mod tx;
mod writer;

use std::str::FromStr;
use std::sync::mpsc::{Sender, channel};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use amzpay_domain::Timestamp;

use crate::model::Job;
use crate::queue::{WriteQueue, write_queue};
use crate::{BoxFuture, ReadJob, Store, StoreError, WriteJob};
use connection::Connection;
use readers::ReadWork;
pub use schema::{MINIMUM_MAJOR_VERSION, ServerSettings};

/// Write jobs waiting for the writer. Beyond this the server answers 503 rather than
/// queueing without bound (the same bound as SQLite's).
pub const WRITE_QUEUE_CAPACITY: usize = 16_384;
/// Jobs committed together at most: bounds the latency one commit adds to its first job.
pub const MAX_GROUP_COMMIT_JOBS: usize = 512;
/// Read connections per process: enough for two cores with headroom for network waits.
pub const READ_CONNECTIONS: usize = 4;
/// How long a thread whose connection was lost waits before it tries again: a server that
/// is down is not hammered, and a brief failover costs one pause.
pub const RECONNECT_PAUSE: Duration = Duration::from_millis(500);
/// The advisory lock every write transaction takes first (transaction level): one writer at
/// a time on the whole database ("amzpay w" in ASCII, an arbitrary constant no other user
/// of the database is expected to pick).
pub const WRITE_LOCK_KEY: i64 = 0x616d_7a70_6179_2077;
/// The advisory lock migrations run under (session level): one node migrates at a time.
pub const MIGRATION_LOCK_KEY: i64 = 0x616d_7a70_6179_206d;

/// A store on one PostgreSQL database.
pub struct PostgresStore {
    /// Write jobs, to the writer thread.
    queue: WriteQueue<WriteJob>,
    writer: Mutex<Option<JoinHandle<()>>>,
    reads: Mutex<Option<Sender<ReadWork>>>,
    readers: Mutex<Vec<JoinHandle<()>>>,
    /// As many permits as read threads: a read waits here for a free one.
    read_permits: Arc<tokio::sync::Semaphore>,
    config: postgres::Config,
}

/// Parses a `postgres://USER:PASSWORD@HOST:PORT/DB` URL (or `postgresql://`); the error
/// names what is wrong without repeating the URL (it holds a password).
pub fn parse_url(url: &str) -> Result<postgres::Config, StoreError> {
    postgres::Config::from_str(url).map_err(|error| StoreError::BadUrl(format!("not a PostgreSQL URL ({error})")))
}

/// Runs `work` on a thread of its own: the synchronous client runs its own small runtime,
/// which must not start on an async executor's thread.
fn off_executor<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> Result<T, StoreError> {
    std::thread::Builder::new()
        .name("amzpay-postgres-open".into())
        .spawn(work)?
        .join()
        .map_err(|payload| StoreError::Panicked(crate::panic_message(payload.as_ref())))
}

impl PostgresStore {
    /// Connects, runs the migrations this database lacks (under the migration lock), and
    /// starts the writer and the readers.
    pub fn open(url: &str) -> Result<PostgresStore, StoreError> {
        let config = parse_url(url)?;
        let opening = config.clone();
        let (writer_connection, reader_connections) = off_executor(move || -> Result<_, StoreError> {
            let mut writer = Connection::open(&opening)?;
            schema::migrate(&mut writer.client)?;
            let readers = (0..READ_CONNECTIONS).map(|_| Connection::open(&opening)).collect::<Result<Vec<_>, _>>()?;
            Ok((writer, readers))
        })??;
        let (queue, incoming) = write_queue(WRITE_QUEUE_CAPACITY);
        let writer_config = config.clone();
        let writer = std::thread::Builder::new()
            .name("amzpay-postgres-writer".into())
            .spawn(move || writer::write_loop(writer_connection, writer_config, incoming))?;
        let (reads, read_queue) = channel::<ReadWork>();
        let read_queue = Arc::new(Mutex::new(read_queue));
        let mut readers = Vec::with_capacity(READ_CONNECTIONS);
        for (index, connection) in reader_connections.into_iter().enumerate() {
            let queue = read_queue.clone();
            let reader_config = config.clone();
            readers.push(
                std::thread::Builder::new()
                    .name(format!("amzpay-postgres-reader-{index}"))
                    .spawn(move || readers::read_loop(connection, reader_config, queue))?,
            );
        }
        Ok(PostgresStore {
            queue,
            writer: Mutex::new(Some(writer)),
            reads: Mutex::new(Some(reads)),
            readers: Mutex::new(readers),
            read_permits: Arc::new(tokio::sync::Semaphore::new(READ_CONNECTIONS)),
            config,
        })
    }

    /// Runs the migrations this database lacks and nothing else (`amzpay migrate`); how
    /// many ran.
    pub fn migrate(url: &str) -> Result<usize, StoreError> {
        let config = parse_url(url)?;
        off_executor(move || -> Result<usize, StoreError> {
            let mut connection = Connection::open(&config)?;
            schema::migrate(&mut connection.client)
        })?
    }

    /// Stops accepting writes, lets the writer commit what is queued, and waits for it and
    /// the readers.
    pub fn close(&self) {
        self.queue.close();
        if let Some(handle) = self.writer.lock().expect("writer lock").take() {
            let _ = handle.join();
        }
        drop(self.reads.lock().expect("reads lock").take());
        for handle in self.readers.lock().expect("readers lock").drain(..) {
            let _ = handle.join();
        }
    }

    /// Diagnostics: what a new connection to this database has in force (what durability
    /// rests on). Not part of [`Store`].
    pub fn server_settings(&self) -> Result<ServerSettings, StoreError> {
        let config = self.config.clone();
        off_executor(move || -> Result<ServerSettings, StoreError> {
            let mut connection = Connection::open(&config)?;
            schema::settings(&mut connection.client)
        })?
    }

    fn read_raw(&self, job: Box<dyn FnOnce(&mut tx::PgTx<'_>) + Send>) -> BoxFuture<'static, Result<(), StoreError>> {
        let reads = self.reads.lock().expect("reads lock").clone();
        let permits = self.read_permits.clone();
        Box::pin(async move {
            let _permit = permits.acquire_owned().await.map_err(|_| StoreError::WriterStopped)?;
            let reads = reads.ok_or(StoreError::WriterStopped)?;
            let (answer, outcome) = tokio::sync::oneshot::channel();
            reads.send((job, answer)).map_err(|_| StoreError::WriterStopped)?;
            outcome.await.map_err(|_| StoreError::ReadFailed("the read's thread stopped"))?
        })
    }

    /// Diagnostics: the jobs scheduled for an object, each with when it ran (if it did),
    /// oldest first. Not part of [`Store`]: the server never needs it.
    pub async fn jobs_for_object(&self, object_id: &str) -> Result<Vec<(Job, Option<Timestamp>)>, StoreError> {
        let (sender, receiver) = tokio::sync::oneshot::channel();
        let object_id = object_id.to_owned();
        self.read_raw(Box::new(move |tx| {
            let _ = sender.send(tx.jobs_for_object(&object_id));
        }))
        .await?;
        receiver.await.map_err(|_| StoreError::ReadFailed("the read gave no answer"))?
    }
}

impl Drop for PostgresStore {
    fn drop(&mut self) {
        self.close();
    }
}

impl Store for PostgresStore {
    fn submit_write(&self, job: WriteJob) -> Result<(), StoreError> {
        self.queue.submit(job)
    }

    fn run_read(&self, job: ReadJob) -> BoxFuture<'_, Result<(), StoreError>> {
        self.read_raw(Box::new(move |tx| job(tx)))
    }
}

/// The variable naming the PostgreSQL server the tests make their databases on
/// (`scripts/postgres` sets it).
pub const TEST_DATABASE_URL_VARIABLE: &str = "AMZPAY_TEST_DATABASE_URL";

/// For tests: a new, empty database on the server [`TEST_DATABASE_URL_VARIABLE`] names,
/// called `{prefix}_{process}_{count}_{nanoseconds}` so that tests running at once, in one
/// process or several, never share one; its URL. `BadUrl` when the variable is not set: a
/// test meant for PostgreSQL fails rather than pass unrun.
pub fn create_test_database(prefix: &str) -> Result<String, StoreError> {
    static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let admin = std::env::var(TEST_DATABASE_URL_VARIABLE).map_err(|_| {
        StoreError::BadUrl(format!(
            "{TEST_DATABASE_URL_VARIABLE} is not set: run scripts/test, which starts PostgreSQL (scripts/postgres)"
        ))
    })?;
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().subsec_nanos();
    let count = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    create_database(&admin, &format!("{prefix}_{}_{count}_{nanos}", std::process::id()))
}

/// Creates an empty database `name` (letters, digits and `_` only) on the server
/// `admin_url` names, and gives the URL of it: tests give each test a database of its own.
pub fn create_database(admin_url: &str, name: &str) -> Result<String, StoreError> {
    if name.is_empty() || !name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_') {
        return Err(StoreError::BadUrl(format!("not a database name: {name}")));
    }
    let (base, query) = match admin_url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (admin_url, None),
    };
    let authority_end = base.find("://").map_or(0, |at| at + 3);
    let without_db = match base[authority_end..].find('/') {
        Some(slash) => &base[..authority_end + slash],
        None => base,
    };
    let url = match query {
        Some(query) => format!("{without_db}/{name}?{query}"),
        None => format!("{without_db}/{name}"),
    };
    let config = parse_url(admin_url)?;
    let statement = format!("CREATE DATABASE {name}");
    off_executor(move || -> Result<(), StoreError> {
        let mut client = config.connect(postgres::NoTls)?;
        client.batch_execute(&statement)?;
        Ok(())
    })??;
    Ok(url)
}

/// Runs SQL statements on the database `url` names, outside any store: tests use it to
/// damage rows as a newer version (or a broken disk) might have left them.
pub fn execute_raw(url: &str, sql: &str) -> Result<(), StoreError> {
    let config = parse_url(url)?;
    let sql = sql.to_owned();
    off_executor(move || -> Result<(), StoreError> {
        let mut client = config.connect(postgres::NoTls)?;
        client.batch_execute(&sql)?;
        Ok(())
    })?
}
