//! The reader pool: a few read connections, each read job on one of them inside its own
//! transaction (a consistent snapshot), off the async executor. Reads never wait for the
//! writer: WAL lets them see the last committed state beside it.
//!
//! Invariant: a read job that fails or panics (`catch_unwind`) ends its snapshot and gives
//! its connection back to the pool; a connection that cannot end its snapshot is replaced by
//! a new one. The pool never loses a connection, so as many reads as it has connections can
//! always run, however many reads panicked before.

use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};

use rusqlite::Connection;

use super::schema;
use super::tx::SqliteTx;
use crate::{BoxFuture, StoreError};

pub(super) struct ReaderPool {
    connections: Mutex<Vec<Connection>>,
    /// As many permits as connections: a read waits for a free connection here, never
    /// finds the pool empty.
    permits: tokio::sync::Semaphore,
    /// The database file, to open a replacement for a connection a read left unusable.
    path: PathBuf,
}

impl ReaderPool {
    pub(super) fn new(connections: Vec<Connection>, path: PathBuf) -> ReaderPool {
        let permits = tokio::sync::Semaphore::new(connections.len());
        ReaderPool { connections: Mutex::new(connections), permits, path }
    }

    /// Diagnostics: `look` at every read connection in turn, once all are free.
    pub(super) async fn inspect_each<T: Send + 'static>(
        self: Arc<Self>,
        look: fn(&Connection) -> T,
    ) -> Result<Vec<T>, StoreError> {
        let count = self.connections.lock().expect("reader pool").len() as u32;
        let _all = self.permits.acquire_many(count).await.map_err(|_| StoreError::WriterStopped)?;
        let pool = self.clone();
        tokio::task::spawn_blocking(move || pool.connections.lock().expect("reader pool").iter().map(look).collect())
            .await
            .map_err(|_| StoreError::ReadFailed("the inspection panicked"))
    }

    /// Runs `job` on a snapshot, on a blocking thread.
    pub(super) fn run(
        self: Arc<Self>,
        job: Box<dyn FnOnce(&mut SqliteTx<'_>) + Send>,
    ) -> BoxFuture<'static, Result<(), StoreError>> {
        Box::pin(async move {
            let _permit = self.permits.acquire().await.map_err(|_| StoreError::WriterStopped)?;
            let pool = self.clone();
            // What the read logs belongs to the request that asked for it (its span).
            let span = tracing::Span::current();
            tokio::task::spawn_blocking(move || {
                let _entered = span.enter();
                let connection = pool.connections.lock().unwrap_or_else(PoisonError::into_inner).pop();
                let connection = connection.ok_or(StoreError::ReadFailed("no read connection was free"))?;
                let (connection, result) = pool.run_on(connection, job);
                pool.connections.lock().unwrap_or_else(PoisonError::into_inner).push(connection);
                result
            })
            .await
            .map_err(|_| StoreError::ReadFailed("the read's thread failed"))?
        })
    }

    /// Runs `job` in a snapshot on `connection`; gives back a connection fit for the next
    /// read (this one, or a new one if this one could not end its snapshot).
    fn run_on(
        &self,
        connection: Connection,
        job: Box<dyn FnOnce(&mut SqliteTx<'_>) + Send>,
    ) -> (Connection, Result<(), StoreError>) {
        if let Err(error) = connection.execute_batch("BEGIN") {
            return (connection, Err(error.into()));
        }
        let ran =
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| job(&mut SqliteTx { connection: &connection })));
        let result = match ran {
            Ok(()) => connection.execute_batch("COMMIT").map_err(StoreError::from),
            Err(payload) => {
                let message = crate::panic_message(payload.as_ref());
                tracing::error!(panic = %message, "a read job panicked; its connection goes back to the pool");
                Err(StoreError::ReadFailed("the read panicked"))
            }
        };
        if result.is_err() {
            let _ = connection.execute_batch("ROLLBACK");
        }
        if connection.is_autocommit() {
            return (connection, result);
        }
        // Still inside a snapshot it cannot end: replace it rather than hand it on.
        tracing::error!("a read connection could not end its snapshot; replacing it");
        match self.open() {
            Ok(fresh) => (fresh, result),
            Err(error) => {
                tracing::error!(%error, "could not open a replacement read connection; keeping the old one");
                (connection, result)
            }
        }
    }

    fn open(&self) -> Result<Connection, StoreError> {
        let connection = Connection::open(&self.path)?;
        schema::configure(&connection)?;
        Ok(connection)
    }
}
