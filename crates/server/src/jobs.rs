//! Scheduled transitions: running what fell due, once, whether a clock advance or the
//! background worker gets there first.
//!
//! Each job runs inside a write transaction that first claims it (`done_at` set only if
//! still empty), so two workers, in one process or in two sharing a database, never run the
//! same job twice; the transition, its events and any jobs it schedules commit with the
//! claim.
//!
//! One bad job never blocks the others: each job runs in a savepoint of its own
//! (`WriteTx::isolated`). A job that fails (its object is missing or unreadable, its rule
//! refuses, its row cannot be read, it panics) has its writes rolled back and is recorded
//! `failed` with its error, in the same transaction, and the next job runs. It is not
//! retried: such a failure is about the job's own data or rule, and would repeat. A failure
//! of the store itself (the transaction rolled back, the commit failed) is not any one
//! job's: nothing of the batch is kept, and the whole batch runs again later (the worker
//! backs off while it lasts).

use std::sync::Arc;
use std::time::Duration;

use amzpay_domain::charge::{self};
use amzpay_domain::refund;
use amzpay_domain::{ChargeId, ChargePermissionId, ChargeState, RefundId, RefundState, Refusal, Timestamp};
use amzpay_store::{Cause, DueJob, Isolated, Job, JobKind, StoreError, WriteTx};

use crate::AppState;
use crate::config::{MAX_JOBS_PER_TRANSACTION, SandboxDelays, WORKER_MAX_BACKOFF_MS, WORKER_POLL_INTERVAL_MS};
use crate::effects::{Effects, Origin};

/// Why a job could not run.
#[derive(Debug, thiserror::Error)]
pub enum JobError {
    #[error("{0}")]
    Store(#[from] StoreError),
    /// The rule refused the transition.
    #[error("the transition was refused: {}: {}", .0.code, .0.message)]
    Refused(Refusal),
}

/// Runs one job at its due time. Returns whether it ran (false: another worker had it);
/// the notifications it staged are added to `notifications`. On `Err` the caller rolls
/// back what it wrote (see `run_due`).
pub fn run_job(
    tx: &mut dyn WriteTx,
    job: &Job,
    delays: SandboxDelays,
    notifications: &mut Vec<String>,
) -> Result<bool, JobError> {
    if !tx.claim_job(job.id, job.due_at)? {
        return Ok(false);
    }
    let now = job.due_at;
    let origin = Origin::new(Cause::Clock, job.kind.as_str());
    let mut effects = Effects::new(&job.merchant_id, job.environment, now, delays, origin);
    let (merchant, environment) = (job.merchant_id.as_str(), job.environment);
    match job.kind {
        JobKind::ResolveAuthorization | JobKind::CompleteCapture | JobKind::ExpireAuthorization => {
            let Some(id) = ChargeId::parse(&job.object_id) else {
                return Err(not_an_id(job));
            };
            let Some(mut charge) = tx.charge(merchant, environment, &id)? else { return Ok(true) };
            let Some(mut permission) = tx.permission(merchant, environment, &charge.permission_id)? else {
                return Err(StoreError::Corrupt(format!("charge {id} has no permission")).into());
            };
            let (charge_before, permission_before) = (charge.clone(), permission.clone());
            let outcome = match (job.kind, charge.state) {
                (JobKind::ResolveAuthorization, ChargeState::AuthorizationInitiated) => {
                    charge::resolve_authorization(&mut permission, &mut charge, now)
                }
                (JobKind::CompleteCapture, ChargeState::CaptureInitiated) => {
                    charge::complete_capture(&mut permission, &mut charge, now)
                }
                (JobKind::ExpireAuthorization, ChargeState::Authorized) => {
                    charge::expire_charge_if_due(&mut permission, &mut charge, now).map(|_| ())
                }
                // The charge moved on (canceled, captured...): nothing left to do.
                _ => return Ok(true),
            };
            outcome.map_err(JobError::Refused)?;
            effects.charge(Some(&charge_before), &charge);
            effects.permission(Some(&permission_before), &permission);
            tx.save_charge(merchant, &charge)?;
            tx.update_permission(merchant, &permission)?;
        }
        JobKind::SettleRefund => {
            let Some(id) = RefundId::parse(&job.object_id) else {
                return Err(not_an_id(job));
            };
            let Some(mut refund) = tx.refund(merchant, environment, &id)? else { return Ok(true) };
            if refund.state != RefundState::RefundInitiated {
                return Ok(true);
            }
            let Some(mut charge) = tx.charge(merchant, environment, &refund.charge_id)? else {
                return Err(StoreError::Corrupt(format!("refund {id} has no charge")).into());
            };
            let before = refund.clone();
            refund::settle_refund_as_simulated(&mut charge, &mut refund, now).map_err(JobError::Refused)?;
            effects.refund(Some(&before), &refund, &charge.permission_id);
            tx.save_charge(merchant, &charge)?;
            tx.save_refund(merchant, &refund)?;
        }
        JobKind::ExpireCheckoutSession => {
            crate::ops::checkout::expire(tx, merchant, environment, &job.object_id, now, origin)?;
        }
        JobKind::ExpirePermission => {
            let Some(id) = ChargePermissionId::parse(&job.object_id) else {
                return Err(not_an_id(job));
            };
            let Some(mut permission) = tx.permission(merchant, environment, &id)? else { return Ok(true) };
            match permission.expires_at {
                // A recurring permission charged since: its expiry moved and has its own job.
                Some(expiry) if expiry > now => return Ok(true),
                None => return Ok(true),
                Some(_) => {}
            }
            let before = permission.clone();
            if permission.advance_to(now) {
                effects.permission(Some(&before), &permission);
                tx.update_permission(merchant, &permission)?;
            }
        }
    }
    notifications.extend(effects.write(tx)?);
    Ok(true)
}

fn not_an_id(job: &Job) -> JobError {
    StoreError::Corrupt(format!("{} is not an id for {}", job.object_id, job.kind.as_str())).into()
}

/// What a batch of jobs did.
#[derive(Debug, Default)]
pub(crate) struct Ran {
    /// Jobs taken, whether they ran or failed.
    pub count: u32,
    /// Jobs taken that another worker had already run (not counted as run).
    pub claimed_elsewhere: u32,
    /// The notifications the jobs staged, by id.
    pub notifications: Vec<String>,
    /// The jobs that failed, recorded so in the batch's transaction.
    pub failed: Vec<FailedRun>,
}

/// A job that failed in a batch, for the log once the batch is durable.
#[derive(Debug)]
pub(crate) struct FailedRun {
    pub id: i64,
    pub merchant_id: String,
    pub kind: String,
    pub object_id: String,
    pub error: String,
}

impl Ran {
    /// Logs each failed job, at error level, and counts the jobs run and failed in the
    /// metrics: call once the batch committed.
    pub(crate) fn report_committed(&self) {
        let run = self.count.saturating_sub(self.claimed_elsewhere);
        crate::telemetry::metrics().jobs_ran(u64::from(run), self.failed.len() as u64);
        for failed in &self.failed {
            tracing::error!(
                job = failed.id,
                merchant = %failed.merchant_id,
                kind = %failed.kind,
                object = %failed.object_id,
                error = %failed.error,
                "a scheduled transition failed; it is recorded failed and will not run again, the others go on"
            );
        }
    }
}

/// Which jobs a batch runs.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Due<'a> {
    /// Every merchant's jobs due at this real time, on each merchant's clock.
    At(Timestamp),
    /// One merchant's sandbox jobs due at or before an instant on its clock.
    Until { merchant_id: &'a str, until: Timestamp },
}

/// Runs the jobs `due` in time order, in one transaction, at most
/// `MAX_JOBS_PER_TRANSACTION` of them (`Ran::count` says whether more may wait). With
/// `lease` (now and until, in real milliseconds), the notifications staged are leased to
/// the caller in the same transaction, for it to attempt itself.
pub(crate) fn run_due(
    tx: &mut dyn WriteTx,
    due: Due<'_>,
    delays: SandboxDelays,
    lease: Option<(i64, i64)>,
) -> Result<Ran, StoreError> {
    let mut ran = Ran::default();
    // One job at a time, re-reading what is due: a job may schedule another that falls due
    // before the next one already waiting, and time order must hold.
    while ran.count < MAX_JOBS_PER_TRANSACTION {
        let next = match due {
            Due::At(real_now) => tx.due_jobs(real_now, None, 1)?,
            Due::Until { merchant_id, until } => tx.due_sandbox_jobs_until(merchant_id, until, 1)?,
        };
        let Some(job) = next.into_iter().next() else { break };
        run_one(tx, job, delays, &mut ran)?;
        ran.count += 1;
    }
    if let Some((now_ms, until_ms)) = lease {
        for id in &ran.notifications {
            tx.lease_notification(id, now_ms, until_ms)?;
        }
    }
    Ok(ran)
}

/// Runs one due job in a savepoint of its own; if it fails, records it failed. `Err` only
/// when the transaction itself failed.
fn run_one(tx: &mut dyn WriteTx, due: DueJob, delays: SandboxDelays, ran: &mut Ran) -> Result<(), StoreError> {
    let job = match due {
        Ok(job) => job,
        Err(unreadable) => {
            tx.fail_job(unreadable.id, unreadable.due_at, &unreadable.error)?;
            ran.failed.push(FailedRun {
                id: unreadable.id,
                merchant_id: unreadable.merchant_id,
                kind: "(unreadable)".to_owned(),
                object_id: String::new(),
                error: unreadable.error,
            });
            return Ok(());
        }
    };
    let mut notifications = Vec::new();
    let mut failure = None;
    let mut claimed = true;
    let outcome = tx.isolated(&mut |tx| match run_job(tx, &job, delays, &mut notifications) {
        Ok(ran) => {
            claimed = ran;
            true
        }
        Err(error) => {
            failure = Some(error.to_string());
            false
        }
    })?;
    let error = match outcome {
        Isolated::Kept => {
            ran.notifications.extend(notifications);
            if !claimed {
                ran.claimed_elsewhere += 1;
            }
            return Ok(());
        }
        Isolated::RolledBack => failure.unwrap_or_else(|| "failed".to_owned()),
        Isolated::Panicked(message) => format!("panicked: {message}"),
    };
    tx.fail_job(job.id, job.due_at, &error)?;
    ran.failed.push(FailedRun {
        id: job.id,
        merchant_id: job.merchant_id,
        kind: job.kind.as_str().to_owned(),
        object_id: job.object_id,
        error,
    });
    Ok(())
}

/// Runs what falls due in real time, for every merchant, until `stop` fires. While the
/// store fails, it waits longer between tries (doubling, up to `WORKER_MAX_BACKOFF_MS`).
pub async fn worker(state: Arc<AppState>, mut stop: tokio::sync::broadcast::Receiver<()>) {
    let mut failures: u32 = 0;
    loop {
        let wait = WORKER_POLL_INTERVAL_MS.saturating_mul(1 << failures.min(16)).min(WORKER_MAX_BACKOFF_MS);
        tokio::select! {
            _ = stop.recv() => return,
            _ = tokio::time::sleep(Duration::from_millis(wait)) => {}
        }
        let delays = state.delays;
        let real_now = crate::system_now();
        // Look before taking the writer: most ticks find nothing due.
        match state.store.read(move |tx| tx.due_jobs(real_now, None, 1)).await {
            Ok(due) if due.is_empty() => {
                failures = 0;
                continue;
            }
            Ok(_) => {}
            Err(error) => {
                failures = failures.saturating_add(1);
                tracing::error!(%error, "could not look for due transitions; will retry");
                continue;
            }
        }
        match state.store.write(move |tx| run_due(tx, Due::At(real_now), delays, None)).await {
            Ok(ran) => {
                failures = 0;
                ran.report_committed();
                if ran.count > 0 {
                    tracing::debug!(count = ran.count, failed = ran.failed.len(), "ran scheduled transitions");
                }
                if !ran.notifications.is_empty() {
                    state.ipn.wake();
                }
            }
            Err(error) => {
                failures = failures.saturating_add(1);
                tracing::error!(%error, "scheduled transitions failed; nothing of the batch was kept, will retry");
            }
        }
    }
}
