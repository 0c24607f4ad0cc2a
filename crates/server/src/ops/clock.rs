//! The sandbox clock helpers (product.md): read a merchant's clock; advance it, which runs
//! everything that fell due, in time order, before answering; freeze it so that only
//! advances move it; let it run again. An advance may carry an idempotency key: a retried
//! advance replays its answer instead of moving the clock twice.
//!
//! An advance is safe to retry, key or not: it runs the jobs due up to its target instant
//! in bounded transactions while the clock stays put, and moves the clock (and records its
//! key) in the transaction that runs the last of them. If it fails midway (answering 500),
//! the clock has not moved: a retry aims at the same instant, finds the jobs already run
//! claimed, and moves the clock once. A job that fails is recorded failed (`jobs.rs`) and
//! does not fail the advance.

use amzpay_api::body::parse_body;
use amzpay_api::format::format_timestamp;
use amzpay_api::requests::AdvanceClockBody;
use amzpay_domain::{ReasonCode, Refusal, Timestamp};
use amzpay_store::{IdempotencyRecord, ReadTx, StoreError};

use super::{Context, Reply, fingerprint, idempotency_scope, replay, sandbox_only};
use crate::AppState;
use crate::config::{LATEST_SANDBOX_CLOCK, MAX_CLOCK_ADVANCE_SECONDS, MAX_JOBS_PER_TRANSACTION};
use crate::jobs::{Due, Ran, run_due};
use crate::routes::{ClockChange, Idempotency, Operation};

/// `{"now": "20240101T120000Z", "frozen": false}` (product.md, plus whether it is frozen).
pub fn clock_body(now: Timestamp, frozen: bool) -> Vec<u8> {
    amzpay_api::responses::to_json(&amzpay_api::responses::ClockOut { now: format_timestamp(now), frozen })
}

pub fn get(tx: &mut dyn ReadTx, context: &Context) -> Result<Reply, StoreError> {
    if let Err(error) = sandbox_only(context, "testHelpers/clock") {
        return Ok(Reply::error(&error));
    }
    let clock = tx.clock(&context.caller.merchant_id)?;
    Ok(Reply::json(200, clock_body(clock.now(context.real_now), clock.frozen_at.is_some())))
}

fn seconds(context: &Context, change: ClockChange, body: &[u8]) -> Result<i64, Refusal> {
    match change {
        ClockChange::Advance => {
            sandbox_only(context, "testHelpers/clock/advance")?;
            parse_body::<AdvanceClockBody>(body)?.into_seconds(MAX_CLOCK_ADVANCE_SECONDS)
        }
        ClockChange::Freeze | ClockChange::Unfreeze => sandbox_only(context, "testHelpers/clock").map(|()| 0),
    }
}

/// The refusal of an advance that would take the clock past `LATEST_SANDBOX_CLOCK`.
fn past_the_bound(now: Timestamp, seconds: i64) -> Refusal {
    Refusal::new(
        ReasonCode::InvalidParameterValue,
        format!(
            "the sandbox clock may not go past {} (so that every expiration it leads to stays within \
             Amazon's four-digit years); it is at {}, and {seconds} seconds would take it past",
            format_timestamp(LATEST_SANDBOX_CLOCK),
            format_timestamp(now),
        ),
    )
}

/// One transaction of a clock change.
enum Step {
    /// More jobs were due before the target than one transaction runs: the clock has not
    /// moved yet.
    More(Ran),
    /// The answer (the clock moved, or a replay, or a refusal), with the last jobs run.
    Answered(Reply, Ran),
}

/// Runs the jobs due up to the clock's new instant, in transactions of at most
/// `MAX_JOBS_PER_TRANSACTION`, moving the clock and recording the key with the last of
/// them; then attempts the notifications they caused, and answers.
pub async fn set(
    state: &std::sync::Arc<AppState>,
    context: Context,
    operation: &'static Operation,
    change: ClockChange,
    key: Option<String>,
    body: Vec<u8>,
) -> Reply {
    let seconds = match seconds(&context, change, &body) {
        Ok(seconds) => seconds,
        Err(error) => return Reply::error(&error),
    };
    let (environment, real_now, delays) = (context.caller.environment, context.real_now, context.delays);
    let key = key.filter(|_| operation.idempotency != Idempotency::Ignored);
    let scope = idempotency_scope(operation, "");
    let fingerprint = fingerprint(operation, "", &body, "");
    // The notifications the jobs stage are leased to this advance, which attempts them once
    // before answering (product.md), so a test can assert on its receiver right after.
    let mut caused = Vec::new();
    let reply = loop {
        let (merchant, key, scope, fingerprint) =
            (context.caller.merchant_id.clone(), key.clone(), scope.clone(), fingerprint.clone());
        let now_ms = crate::ipn::real_now_ms();
        let lease = Some((now_ms, now_ms + state.ipn.lease_ms()));
        let step = state
            .store
            .write(move |tx| -> Result<Step, StoreError> {
                // Looked up in every transaction: a concurrent request with the same key may
                // have finished in between.
                if let Some(key) = &key
                    && let Some(record) = tx.idempotency(&merchant, environment, &scope, key)?
                {
                    return Ok(Step::Answered(replay(record, &fingerprint, key), Ran::default()));
                }
                let clock = tx.clock(&merchant)?;
                let moved = match change {
                    ClockChange::Freeze => clock.frozen(real_now),
                    ClockChange::Unfreeze => clock.running(real_now),
                    ClockChange::Advance => clock.advanced(seconds),
                };
                let target = moved.now(real_now);
                if change == ClockChange::Advance && target > LATEST_SANDBOX_CLOCK {
                    let refusal = past_the_bound(clock.now(real_now), seconds);
                    return Ok(Step::Answered(Reply::error(&refusal), Ran::default()));
                }
                let ran = run_due(tx, Due::Until { merchant_id: &merchant, until: target }, delays, lease)?;
                if ran.count >= MAX_JOBS_PER_TRANSACTION {
                    return Ok(Step::More(ran));
                }
                tx.set_clock(&merchant, moved)?;
                let reply = Reply::json(200, clock_body(target, moved.frozen_at.is_some()));
                if let Some(key) = key {
                    let record = IdempotencyRecord {
                        merchant_id: merchant.clone(),
                        environment,
                        key,
                        scope,
                        fingerprint,
                        status: reply.status,
                        body: reply.body.clone(),
                        created_at: real_now,
                    };
                    tx.insert_idempotency(&record)?;
                }
                Ok(Step::Answered(reply, ran))
            })
            .await;
        match step {
            Ok(Step::More(ran)) => {
                ran.report_committed();
                caused.extend(ran.notifications);
            }
            Ok(Step::Answered(reply, ran)) => {
                ran.report_committed();
                caused.extend(ran.notifications);
                break reply;
            }
            // The clock has not moved: a retry moves it once. Jobs already run stay run,
            // each at its own due instant; their notifications wait for the delivery worker.
            Err(error) => return Reply::error(&crate::internal_error(error)),
        }
    };
    if let Err(error) = crate::ipn::attempt_leased(state, &context.caller.merchant_id, environment, caused).await {
        // The clock moved and the transitions ran; the notifications stay leased until the
        // lease expires, then the worker retries them. The answer stands.
        tracing::error!(%error, "notifications of a clock advance could not be attempted");
    }
    reply
}
