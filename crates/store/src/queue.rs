//! The bounded queue in front of a backend's writer thread, shared by both backends: the
//! store's side submits, the writer's side takes batches for group commit. A standard
//! channel cannot tell its length, so the queue counts its jobs beside it (the sender adds
//! one before it sends, so the writer never takes a job not yet counted; the writer takes
//! away what it took), and the writer's side records the batch metrics (`metric_names`)
//! through handles taken once, when the writer starts.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use crate::StoreError;
use crate::metric_names::{WRITE_BATCH_DURATION_SECONDS, WRITE_BATCH_JOBS, WRITE_QUEUE_DEPTH};

/// The store's side: where write jobs (and, on SQLite, the writer's diagnostics) are sent.
pub(crate) struct WriteQueue<M> {
    sender: Mutex<Option<SyncSender<M>>>,
    queued: Arc<AtomicUsize>,
}

/// The writer's side.
pub(crate) struct Incoming<M> {
    receiver: Receiver<M>,
    queued: Arc<AtomicUsize>,
}

/// A queue of at most `capacity` messages, and its writer's side.
pub(crate) fn write_queue<M>(capacity: usize) -> (WriteQueue<M>, Incoming<M>) {
    let (sender, receiver) = sync_channel(capacity);
    let queued = Arc::new(AtomicUsize::new(0));
    (WriteQueue { sender: Mutex::new(Some(sender)), queued: queued.clone() }, Incoming { receiver, queued })
}

impl<M> WriteQueue<M> {
    /// Sends a write job: `QueueFull` when the queue is (the server answers 503),
    /// `WriterStopped` once closed.
    pub(crate) fn submit(&self, job: M) -> Result<(), StoreError> {
        self.send(job, true)
    }

    /// Sends a message that is not a write job (it is not counted in the queue depth).
    pub(crate) fn send_uncounted(&self, message: M) -> Result<(), StoreError> {
        self.send(message, false)
    }

    fn send(&self, message: M, counted: bool) -> Result<(), StoreError> {
        let guard = self.sender.lock().expect("sender lock");
        let sender = guard.as_ref().ok_or(StoreError::WriterStopped)?;
        if counted {
            self.queued.fetch_add(1, Ordering::Relaxed);
        }
        let sent = sender.try_send(message);
        if sent.is_err() && counted {
            self.queued.fetch_sub(1, Ordering::Relaxed);
        }
        match sent {
            Ok(()) => Ok(()),
            Err(TrySendError::Full(_)) => Err(StoreError::QueueFull),
            Err(TrySendError::Disconnected(_)) => Err(StoreError::WriterStopped),
        }
    }

    /// Stops accepting: the writer takes what is queued, then finds the queue closed.
    pub(crate) fn close(&self) {
        drop(self.sender.lock().expect("sender lock").take());
    }
}

impl<M> Incoming<M> {
    /// The writer's metric handles (of the process's recorder, if one was installed before
    /// the store opened).
    pub(crate) fn metrics(&self) -> BatchMetrics {
        BatchMetrics {
            queued: self.queued.clone(),
            batch_jobs: metrics::histogram!(WRITE_BATCH_JOBS),
            batch_duration: metrics::histogram!(WRITE_BATCH_DURATION_SECONDS),
            queue_depth: metrics::gauge!(WRITE_QUEUE_DEPTH),
        }
    }

    /// Waits for the next message and takes every one already queued after it, at most
    /// `max` in all; `None` once the queue is closed and empty.
    pub(crate) fn batch(&self, max: usize) -> Option<Vec<M>> {
        let first = self.receiver.recv().ok()?;
        let mut batch = Vec::with_capacity(max.min(64));
        batch.push(first);
        while batch.len() < max {
            match self.receiver.try_recv() {
                Ok(message) => batch.push(message),
                Err(_) => break,
            }
        }
        Some(batch)
    }
}

/// What the writer records of each batch.
pub(crate) struct BatchMetrics {
    queued: Arc<AtomicUsize>,
    batch_jobs: metrics::Histogram,
    batch_duration: metrics::Histogram,
    queue_depth: metrics::Gauge,
}

impl BatchMetrics {
    /// The writer took `jobs` write jobs for a batch: no longer queued; the batch's size and
    /// what is still queued behind it.
    pub(crate) fn took(&self, jobs: usize) {
        let left = self.queued.fetch_sub(jobs, Ordering::Relaxed).saturating_sub(jobs);
        self.queue_depth.set(left as f64);
        self.batch_jobs.record(jobs as f64);
    }

    /// The batch begun at `started` is settled (committed, or failed).
    pub(crate) fn settled(&self, started: Instant) {
        self.batch_duration.record(started.elapsed().as_secs_f64());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_queue_counts_its_jobs_and_refuses_past_its_capacity_and_once_closed() {
        let (queue, incoming) = write_queue::<u32>(2);
        let metrics = incoming.metrics();
        queue.submit(1).unwrap();
        queue.send_uncounted(2).unwrap();
        assert!(matches!(queue.submit(3), Err(StoreError::QueueFull)));
        assert_eq!(queue.queued.load(Ordering::Relaxed), 1, "the refused job is not counted");
        assert_eq!(incoming.batch(10), Some(vec![1, 2]));
        metrics.took(1);
        assert_eq!(queue.queued.load(Ordering::Relaxed), 0);
        queue.submit(4).unwrap();
        queue.submit(5).unwrap();
        queue.close();
        assert!(matches!(queue.submit(6), Err(StoreError::WriterStopped)));
        assert_eq!(incoming.batch(1), Some(vec![4]), "at most max");
        assert_eq!(incoming.batch(10), Some(vec![5]), "what was queued before closing is still taken");
        assert_eq!(incoming.batch(10), None);
    }
}
