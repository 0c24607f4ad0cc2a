//! Scheduled transitions: running what fell due, once, whether a clock advance or the
//! background worker gets there first.
//!
//! Each job runs inside a write transaction that first claims it (`done_at` set only if
//! still empty), so two workers, in one process or in two sharing a database, never run the
//! same job twice; the transition, its events and any jobs it schedules commit with the
//! claim.

use std::sync::Arc;
use std::time::Duration;

use amzpay_domain::charge::{self};
use amzpay_domain::refund;
use amzpay_domain::{ChargeId, ChargePermissionId, ChargeState, RefundId, RefundState, Timestamp};
use amzpay_store::{Job, JobKind, StoreError, WriteTx};

use crate::AppState;
use crate::config::{MAX_JOBS_PER_TRANSACTION, SandboxDelays, WORKER_POLL_INTERVAL_MS};
use crate::effects::Effects;

/// Runs one job at its due time. Returns whether it ran (false: another worker had it);
/// the notifications it staged are added to `notifications`.
pub fn run_job(
    tx: &mut dyn WriteTx,
    job: &Job,
    delays: SandboxDelays,
    notifications: &mut Vec<String>,
) -> Result<bool, StoreError> {
    if !tx.claim_job(job.id, job.due_at)? {
        return Ok(false);
    }
    let now = job.due_at;
    let mut effects = Effects::new(&job.merchant_id, job.environment, now, delays);
    let (merchant, environment) = (job.merchant_id.as_str(), job.environment);
    match job.kind {
        JobKind::ResolveAuthorization | JobKind::CompleteCapture | JobKind::ExpireAuthorization => {
            let Some(id) = ChargeId::parse(&job.object_id) else {
                return Err(StoreError::Corrupt(job.object_id.clone()));
            };
            let Some(mut charge) = tx.charge(merchant, environment, &id)? else { return Ok(true) };
            let Some(mut permission) = tx.permission(merchant, environment, &charge.permission_id)? else {
                return Err(StoreError::Corrupt(format!("charge {id} has no permission")));
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
            if let Err(error) = outcome {
                tracing::error!(job = job.id, %error, "a scheduled transition was refused; skipped");
                return Ok(true);
            }
            effects.charge(Some(&charge_before), &charge);
            effects.permission(Some(&permission_before), &permission);
            tx.save_charge(merchant, &charge)?;
            tx.update_permission(merchant, &permission)?;
        }
        JobKind::SettleRefund => {
            let Some(id) = RefundId::parse(&job.object_id) else {
                return Err(StoreError::Corrupt(job.object_id.clone()));
            };
            let Some(mut refund) = tx.refund(merchant, environment, &id)? else { return Ok(true) };
            if refund.state != RefundState::RefundInitiated {
                return Ok(true);
            }
            let Some(mut charge) = tx.charge(merchant, environment, &refund.charge_id)? else {
                return Err(StoreError::Corrupt(format!("refund {id} has no charge")));
            };
            let before = refund.clone();
            if let Err(error) = refund::settle_refund_as_simulated(&mut charge, &mut refund, now) {
                tracing::error!(job = job.id, %error, "a refund could not settle; skipped");
                return Ok(true);
            }
            effects.refund(Some(&before), &refund, &charge.permission_id);
            tx.save_charge(merchant, &charge)?;
            tx.save_refund(merchant, &refund)?;
        }
        JobKind::ExpireCheckoutSession => {
            crate::ops::checkout::expire(tx, merchant, environment, &job.object_id, now)?;
        }
        JobKind::ExpirePermission => {
            let Some(id) = ChargePermissionId::parse(&job.object_id) else {
                return Err(StoreError::Corrupt(job.object_id.clone()));
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

/// What a batch of jobs did.
#[derive(Debug, Default)]
pub(crate) struct Ran {
    pub count: u32,
    /// The notifications the jobs staged, by id.
    pub notifications: Vec<String>,
}

/// Runs every job due at `real_now` (on each merchant's clock), in time order, in one
/// transaction; with `merchant`, only that merchant's sandbox jobs. With `lease` (now and
/// until, in real milliseconds), the notifications staged are leased to the caller in the
/// same transaction, for it to attempt itself.
pub(crate) fn run_due(
    tx: &mut dyn WriteTx,
    real_now: Timestamp,
    merchant: Option<&str>,
    delays: SandboxDelays,
    lease: Option<(i64, i64)>,
) -> Result<Ran, StoreError> {
    let mut ran = Ran::default();
    // One job at a time, re-reading what is due: a job may schedule another that falls due
    // before the next one already waiting, and time order must hold.
    while ran.count < MAX_JOBS_PER_TRANSACTION {
        let Some(job) = tx.due_jobs(real_now, merchant, 1)?.into_iter().next() else { break };
        run_job(tx, &job, delays, &mut ran.notifications)?;
        ran.count += 1;
    }
    if let Some((now_ms, until_ms)) = lease {
        for id in &ran.notifications {
            tx.lease_notification(id, now_ms, until_ms)?;
        }
    }
    Ok(ran)
}

/// Runs what falls due in real time, for every merchant, until `stop` fires.
pub async fn worker(state: Arc<AppState>, mut stop: tokio::sync::broadcast::Receiver<()>) {
    let interval = Duration::from_millis(WORKER_POLL_INTERVAL_MS);
    loop {
        tokio::select! {
            _ = stop.recv() => return,
            _ = tokio::time::sleep(interval) => {}
        }
        let delays = state.delays;
        let real_now = crate::system_now();
        // Look before taking the writer: most ticks find nothing due.
        match state.store.read(move |tx| tx.due_jobs(real_now, None, 1)).await {
            Ok(due) if due.is_empty() => continue,
            Ok(_) => {}
            Err(error) => {
                tracing::error!(%error, "could not look for due transitions; will retry");
                continue;
            }
        }
        match state.store.write(move |tx| run_due(tx, real_now, None, delays, None)).await {
            Ok(ran) if ran.count == 0 => {}
            Ok(ran) => {
                tracing::debug!(count = ran.count, "ran scheduled transitions");
                if !ran.notifications.is_empty() {
                    state.ipn.wake();
                }
            }
            Err(error) => tracing::error!(%error, "scheduled transitions failed; will retry"),
        }
    }
}
