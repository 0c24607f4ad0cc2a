//! The names of the metrics a backend records through the `metrics` facade, so that every
//! backend records the same series and the server can configure their buckets. Recording
//! is a no-op until a program installs a recorder (`amzpay serve` does, for `GET /metrics`).

/// Histogram: the write jobs committed together in one transaction (group commit).
pub const WRITE_BATCH_JOBS: &str = "amzpay_store_write_batch_jobs";
/// Histogram: how long one batch took, from `BEGIN` to its `COMMIT` returning (durable).
pub const WRITE_BATCH_DURATION_SECONDS: &str = "amzpay_store_write_batch_duration_seconds";
/// Gauge: write jobs waiting for the writer, sampled as each batch starts (after the batch
/// took its jobs).
pub const WRITE_QUEUE_DEPTH: &str = "amzpay_store_write_queue_depth";
