//! The SQLite backend.
//!
//! Durability: WAL with `synchronous=FULL`, so a committed transaction survives a crash or
//! a power loss, as long as the disk honours `fsync` (ARCHITECTURE.md, "Durability"). Throughput: one writer thread owns the write connection and commits every
//! job waiting in its queue in one transaction (group commit, `writer`), each job inside
//! its own savepoint so that one job's failure rolls back only its own writes. Reads run on
//! a small pool of read connections (`readers`), which WAL lets proceed beside the writer.
//! A third thread copies the log back into the database file (`checkpointer`), so the
//! writer only appends and syncs.
//!
//! The files, as a second backend would have them: `schema` (migrations and connection
//! settings), `writer`, `readers`, `tx` (the `ReadTx`/`WriteTx` a job sees), `notifications`
//! (the IPN rows `tx` delegates to), `checkpointer`, `faults` (the sandbox fault rows, likewise),
//! `retention` (deleting what was kept long enough, in bounded batches) and `codec` (rows to
//! objects and back).

mod checkpointer;
mod codec;
mod faults;
mod notifications;
mod readers;
mod retention;
mod schema;
mod tx;
mod writer;

use std::path::Path;
use std::sync::mpsc::sync_channel;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use rusqlite::Connection;

use amzpay_domain::Timestamp;

use crate::model::Job;
use crate::queue::{WriteQueue, write_queue};
use crate::{BoxFuture, ReadJob, Store, StoreError, WriteJob};
use readers::ReaderPool;
pub use schema::{ConnectionSettings, SYNCHRONOUS_FULL, expected_settings};
use writer::Message;

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
/// The writer connection's page cache, in KiB (SQLite's default is 2 MiB). Every write
/// inserts into indexes keyed by random ids (charge, permission and idempotency keys), so
/// each one lands on a different leaf page; with the default cache most of them were read
/// back from the file (`pread`) on the writer thread, which every write waits for. 32 MiB
/// keeps the interior pages and the recent leaves of every index of a database of a million
/// charges (docs/performance.md, "as it fills"); it is the largest part of the server's
/// resident memory, and bounded.
pub const WRITER_PAGE_CACHE_KIB: i64 = 32 * 1024;

/// A store on one SQLite file.
pub struct SqliteStore {
    /// Write jobs and the writer's diagnostics, to the writer thread.
    queue: WriteQueue<Message>,
    writer: Mutex<Option<JoinHandle<()>>>,
    checkpointer: Mutex<Option<JoinHandle<()>>>,
    readers: Arc<ReaderPool>,
}

impl SqliteStore {
    /// Opens (creating if needed) the database file and starts the writer thread and the
    /// checkpointer.
    pub fn open(path: &Path) -> Result<SqliteStore, StoreError> {
        SqliteStore::open_with(path, true)
    }

    /// Diagnostics: as [`SqliteStore::open`], without the checkpointer thread, so that
    /// nothing moves the WAL into the database file before the writer's backstop (4 KiB
    /// pages, `checkpointer::WRITER_AUTOCHECKPOINT_PAGES`): what the durability tests
    /// look at is then the WAL as each commit left it.
    pub fn open_without_background_checkpoints(path: &Path) -> Result<SqliteStore, StoreError> {
        SqliteStore::open_with(path, false)
    }

    fn open_with(path: &Path, background_checkpoints: bool) -> Result<SqliteStore, StoreError> {
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        let mut writer = Connection::open(path)?;
        schema::configure(&writer)?;
        // A negative cache_size is in KiB.
        writer.pragma_update(None, "cache_size", -WRITER_PAGE_CACHE_KIB)?;
        schema::migrate(&mut writer)?;
        let mut readers = Vec::with_capacity(READ_CONNECTIONS);
        for _ in 0..READ_CONNECTIONS {
            let reader = Connection::open(path)?;
            schema::configure(&reader)?;
            readers.push(reader);
        }
        // The checkpointer thread copies the log into the database; the writer only past
        // its backstop (checkpointer.rs).
        writer.pragma_update(None, "wal_autocheckpoint", checkpointer::WRITER_AUTOCHECKPOINT_PAGES)?;
        // One pending signal is enough: a checkpoint covers every commit before it. Without
        // the thread the receiver is dropped here and the writer's signals go nowhere.
        let (commits, committed) = sync_channel(1);
        let checkpointer = if background_checkpoints {
            let checkpoints = Connection::open(path)?;
            schema::configure(&checkpoints)?;
            Some(
                std::thread::Builder::new()
                    .name("amzpay-sqlite-checkpointer".into())
                    .spawn(move || checkpointer::checkpoint_loop(checkpoints, committed))?,
            )
        } else {
            None
        };
        let (queue, incoming) = write_queue(WRITE_QUEUE_CAPACITY);
        let handle = std::thread::Builder::new()
            .name("amzpay-sqlite-writer".into())
            .spawn(move || writer::write_loop(writer, incoming, commits))?;
        Ok(SqliteStore {
            queue,
            writer: Mutex::new(Some(handle)),
            checkpointer: Mutex::new(checkpointer),
            readers: Arc::new(ReaderPool::new(readers, path.to_owned())),
        })
    }

    /// Stops accepting writes, lets the writer commit what is queued, and waits for it.
    pub fn close(&self) {
        self.queue.close();
        if let Some(handle) = self.writer.lock().expect("writer lock").take() {
            let _ = handle.join();
        }
        // The writer held the checkpointer's only sender: it stops after a last checkpoint.
        if let Some(handle) = self.checkpointer.lock().expect("checkpointer lock").take() {
            let _ = handle.join();
        }
    }

    /// Diagnostics: the jobs scheduled for an object, each with when it ran (if it did),
    /// oldest first. Not part of [`Store`]: the server never needs it.
    pub async fn jobs_for_object(&self, object_id: &str) -> Result<Vec<(Job, Option<Timestamp>)>, StoreError> {
        let (sender, receiver) = tokio::sync::oneshot::channel();
        let object_id = object_id.to_owned();
        self.readers
            .clone()
            .run(Box::new(move |tx| {
                let _ = sender.send(tx.jobs_for_object(&object_id));
            }))
            .await?;
        receiver.await.map_err(|_| StoreError::ReadFailed("the read gave no answer"))?
    }
}

/// Which connection of a store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnectionRole {
    Writer,
    Reader(usize),
}

impl SqliteStore {
    /// Diagnostics: the settings in force on every connection this store opened, the
    /// writer's first, as SQLite reports them now. Not part of [`Store`]: it shows what
    /// durability rests on (`tests/sqlite.rs`).
    pub async fn connection_settings(&self) -> Result<Vec<(ConnectionRole, ConnectionSettings)>, StoreError> {
        let (sender, receiver) = tokio::sync::oneshot::channel();
        let look: Box<dyn FnOnce(&Connection) + Send> = Box::new(move |connection| {
            let _ = sender.send(schema::settings(connection));
        });
        self.queue.send_uncounted(Message::Inspect(look))?;
        let writer = receiver.await.map_err(|_| StoreError::WriterStopped)??;
        let readers = self.readers.clone().inspect_each(schema::settings).await?;
        let mut all = vec![(ConnectionRole::Writer, writer)];
        for (index, settings) in readers.into_iter().enumerate() {
            all.push((ConnectionRole::Reader(index), settings?));
        }
        Ok(all)
    }
}

impl Drop for SqliteStore {
    fn drop(&mut self) {
        self.close();
    }
}

impl Store for SqliteStore {
    fn submit_write(&self, job: WriteJob) -> Result<(), StoreError> {
        self.queue.submit(Message::Job(job))
    }

    fn run_read(&self, job: ReadJob) -> BoxFuture<'_, Result<(), StoreError>> {
        self.readers.clone().run(Box::new(move |tx| job(tx)))
    }
}
