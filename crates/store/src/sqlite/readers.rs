//! The reader pool: a few read connections, each read job on one of them inside its own
//! transaction (a consistent snapshot), off the async executor. Reads never wait for the
//! writer: WAL lets them see the last committed state beside it.

use std::sync::{Arc, Mutex};

use rusqlite::Connection;

use super::tx::SqliteTx;
use crate::{BoxFuture, StoreError};

pub(super) struct ReaderPool {
    connections: Mutex<Vec<Connection>>,
    /// As many permits as connections: a read waits for a free connection here, never
    /// finds the pool empty.
    permits: tokio::sync::Semaphore,
}

impl ReaderPool {
    pub(super) fn new(connections: Vec<Connection>) -> ReaderPool {
        let permits = tokio::sync::Semaphore::new(connections.len());
        ReaderPool { connections: Mutex::new(connections), permits }
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
            tokio::task::spawn_blocking(move || {
                let connection = pool.connections.lock().expect("reader pool").pop();
                let connection = connection.ok_or(StoreError::ReadFailed("no read connection was free"))?;
                let result = (|| {
                    connection.execute_batch("BEGIN")?;
                    job(&mut SqliteTx { connection: &connection });
                    connection.execute_batch("COMMIT")?;
                    Ok::<(), StoreError>(())
                })();
                if result.is_err() {
                    let _ = connection.execute_batch("ROLLBACK");
                }
                pool.connections.lock().expect("reader pool").push(connection);
                result
            })
            .await
            .map_err(|_| StoreError::ReadFailed("the read panicked"))?
        })
    }
}
