//! The reader threads: a few connections, each on its own thread (the synchronous client
//! must not run on the async executor), each read job inside a `REPEATABLE READ READ ONLY`
//! transaction: one consistent snapshot of what was committed, by any node, when it began.
//!
//! Invariant: a read job that fails or panics (`catch_unwind`) ends its snapshot and its
//! thread goes on; a connection that was lost is replaced before the next read. As many
//! reads as there are threads can always run, however many failed before.

use std::sync::mpsc::Receiver;
use std::sync::{Arc, Mutex, PoisonError};

use super::RECONNECT_PAUSE;
use super::connection::Connection;
use super::tx::PgTx;
use crate::StoreError;

/// A read job and where its outcome goes.
pub(super) type ReadWork =
    (Box<dyn FnOnce(&mut PgTx<'_>) + Send>, tokio::sync::oneshot::Sender<Result<(), StoreError>>);

pub(super) fn read_loop(mut connection: Connection, config: postgres::Config, queue: Arc<Mutex<Receiver<ReadWork>>>) {
    loop {
        let next = queue.lock().unwrap_or_else(PoisonError::into_inner).recv();
        let Ok((job, answer)) = next else { return };
        if connection.is_closed() {
            match Connection::open(&config) {
                Ok(fresh) => connection = fresh,
                Err(error) => {
                    tracing::error!(%error, "could not reconnect a reader to PostgreSQL");
                    let _ = answer.send(Err(error));
                    std::thread::sleep(RECONNECT_PAUSE);
                    continue;
                }
            }
        }
        let _ = answer.send(run_on(&mut connection, job));
    }
}

fn run_on(connection: &mut Connection, job: Box<dyn FnOnce(&mut PgTx<'_>) + Send>) -> Result<(), StoreError> {
    connection.batch("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")?;
    let ran = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| job(&mut PgTx::new(connection))));
    let result = match ran {
        // A read that failed left the snapshot aborted: it ends with a rollback either way.
        Ok(()) => connection.batch("COMMIT"),
        Err(payload) => {
            let message = crate::panic_message(payload.as_ref());
            tracing::error!(panic = %message, "a read job panicked; its connection serves on");
            Err(StoreError::ReadFailed("the read panicked"))
        }
    };
    if result.is_err() && !connection.is_closed() {
        let _ = connection.batch("ROLLBACK");
    }
    result
}
