//! The sandbox clock helpers (product.md): read a merchant's clock; advance it, which runs
//! everything that fell due, in time order, before answering; freeze it so that only
//! advances move it; let it run again. An advance may carry an idempotency key: a retried
//! advance replays its answer instead of moving the clock twice.

use amzpay_api::body::parse_body;
use amzpay_api::format::format_timestamp;
use amzpay_api::requests::AdvanceClockBody;
use amzpay_domain::{Refusal, Timestamp};
use amzpay_store::{IdempotencyRecord, ReadTx, StoreError};

use super::{Context, Reply, fingerprint, idempotency_scope, replay, sandbox_only};
use crate::AppState;
use crate::config::{MAX_CLOCK_ADVANCE_SECONDS, MAX_JOBS_PER_TRANSACTION};
use crate::routes::{ClockChange, Idempotency, Operation};

/// `{"now": "20240101T120000Z", "frozen": false}` (product.md, plus whether it is frozen).
pub fn clock_body(now: Timestamp, frozen: bool) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({ "now": format_timestamp(now), "frozen": frozen }))
        .expect("serializing a string")
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

/// Moves the clock in one transaction (recording the key, if any, with the answer), then
/// runs what fell due in transactions of their own, then answers.
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
    let merchant = context.caller.merchant_id.clone();
    let (environment, real_now, delays) = (context.caller.environment, context.real_now, context.delays);
    let key = key.filter(|_| operation.idempotency != Idempotency::Ignored);
    let moved = state
        .store
        .write(move |tx| -> Result<Reply, StoreError> {
            let scope = idempotency_scope(operation, "");
            let fingerprint = fingerprint(operation, "", &body, "");
            if let Some(key) = &key
                && let Some(record) = tx.idempotency(&merchant, environment, &scope, key)?
            {
                return Ok(replay(record, &fingerprint, key));
            }
            let clock = tx.clock(&merchant)?;
            let clock = match change {
                ClockChange::Freeze => clock.frozen(real_now),
                ClockChange::Unfreeze => clock.running(real_now),
                ClockChange::Advance => clock.advanced(seconds),
            };
            tx.set_clock(&merchant, clock)?;
            let reply = Reply::json(200, clock_body(clock.now(real_now), clock.frozen_at.is_some()));
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
            Ok(reply)
        })
        .await;
    let reply = match moved {
        Ok(reply) => reply,
        Err(error) => return Reply::error(&crate::internal_error(error)),
    };
    if reply.status != 200 {
        return reply;
    }
    // A replayed advance runs what is due too: it heals an advance whose jobs a crash
    // interrupted, and runs nothing twice (each job is claimed once). The notifications the
    // jobs stage are leased to this advance, which attempts them once before answering
    // (product.md), so a test can assert on its receiver right after.
    let mut caused = Vec::new();
    loop {
        let merchant = context.caller.merchant_id.clone();
        let now_ms = crate::ipn::real_now_ms();
        let lease = Some((now_ms, now_ms + state.ipn.lease_ms()));
        let ran = state.store.write(move |tx| crate::jobs::run_due(tx, real_now, Some(&merchant), delays, lease)).await;
        match ran {
            Ok(ran) => {
                let done = ran.count < MAX_JOBS_PER_TRANSACTION;
                caused.extend(ran.notifications);
                if done {
                    break;
                }
            }
            Err(error) => return Reply::error(&crate::internal_error(error)),
        }
    }
    if let Err(error) = crate::ipn::attempt_leased(state, &context.caller.merchant_id, environment, caused).await {
        // The clock moved and the transitions ran; the notifications stay leased until the
        // lease expires, then the worker retries them. The answer stands.
        tracing::error!(%error, "notifications of a clock advance could not be attempted");
    }
    reply
}
