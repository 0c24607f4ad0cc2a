//! Delivering notifications: one attempt (sign, POST, classify the answer, schedule a retry)
//! and the worker that makes attempts as they fall due.
//!
//! At least once: a notification is leased before its attempt and its outcome recorded
//! after, so a crash between the two only means another attempt later. Bounded: at most
//! `IPN_MAX_IN_FLIGHT` attempts at once in a process and `IPN_MAX_IN_FLIGHT_PER_MERCHANT`
//! per merchant, each cut off at the timeout, so a slow or dead receiver costs its merchant
//! a few slots and nothing else. Nothing here runs on a request's path except the sandbox
//! clock advance, which attempts what it caused once before answering.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use amzpay_api::ipn::SNS_NOTIFICATION;
use amzpay_domain::{Environment, Region};
use amzpay_store::{Attempt, AttemptOutcome, DeliveryStatus, Notification, StoreError};
use rand::Rng;
use tokio::sync::{Notify, Semaphore};

use super::signer::{Signer, subscription_arn};
use crate::AppState;
use crate::config::{
    IPN_LEASE_MARGIN_MS, IPN_MAX_IN_FLIGHT, IPN_MAX_IN_FLIGHT_PER_MERCHANT, IPN_MIN_DISPATCH_INTERVAL_MS,
    IPN_POLL_INTERVAL_MS, IPN_RETRY_JITTER_PERCENT, IpnDelivery,
};
use crate::telemetry::IpnOutcome;

/// Real time in milliseconds: retries follow real time (product.md), not a sandbox clock.
pub fn real_now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
}

/// The delay before the retry that follows the `attempts`-th attempt of a round (1 for the
/// first), before jitter: the schedule's entry, the last one repeating.
pub fn retry_delay_ms(schedule: &[u64], attempts: u32) -> u64 {
    let index = (attempts.max(1) as usize - 1).min(schedule.len().saturating_sub(1));
    schedule.get(index).copied().unwrap_or(0)
}

/// `delay` moved within ±`IPN_RETRY_JITTER_PERCENT`: `per_mille` (0 to 1000) says where in
/// that range, from its low end to its high end. Integer arithmetic.
pub fn jittered_ms(delay: u64, per_mille: u64) -> u64 {
    let spread = delay.saturating_mul(IPN_RETRY_JITTER_PERCENT) / 100;
    delay.saturating_sub(spread).saturating_add(spread.saturating_mul(2).saturating_mul(per_mille.min(1000)) / 1000)
}

/// What an answer (or its absence) means: delivered, refused for good, or worth a retry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Delivered,
    Refused,
    Retry,
}

/// product.md: retry on a connection error, a timeout or a 5xx; never on 2xx, 3xx, 4xx.
pub fn verdict(status: Option<u16>) -> Verdict {
    match status {
        Some(200..=299) => Verdict::Delivered,
        Some(500..=599) | None => Verdict::Retry,
        Some(_) => Verdict::Refused,
    }
}

/// The outcome to record for an attempt made at `at_ms`, the `round_attempts`-th of its
/// round (counting this one), in a round whose first attempt was at `first_ms`.
pub fn outcome_of(config: &IpnDelivery, attempt: Attempt, round_attempts: u32, first_ms: i64) -> AttemptOutcome {
    let (status, next_attempt_ms) = match verdict(attempt.status_code) {
        Verdict::Delivered => (DeliveryStatus::Delivered, None),
        Verdict::Refused => (DeliveryStatus::Failed, None),
        Verdict::Retry => {
            let delay = jittered_ms(
                retry_delay_ms(&config.retry_delays_ms, round_attempts),
                rand::thread_rng().gen_range(0..=1000),
            );
            let next = attempt.at_ms.saturating_add(delay as i64);
            if next > first_ms.saturating_add(config.retry_for_ms as i64) {
                (DeliveryStatus::Failed, None)
            } else {
                (DeliveryStatus::Pending, Some(next))
            }
        }
    };
    AttemptOutcome { attempt: Some(attempt), status, next_attempt_ms }
}

/// The process's delivery machinery: the HTTP client, the signer (made on first use), the
/// worker's wake-up call and its slots.
pub struct Ipn {
    pub(crate) config: IpnDelivery,
    http: reqwest::Client,
    signer: tokio::sync::OnceCell<Arc<Signer>>,
    wake: Notify,
    slots: Arc<Semaphore>,
    per_merchant: Mutex<HashMap<(String, Environment), u32>>,
}

impl Ipn {
    pub fn new(config: IpnDelivery) -> Result<Ipn, String> {
        let mut builder = reqwest::Client::builder()
            .timeout(Duration::from_millis(config.timeout_ms))
            .redirect(reqwest::redirect::Policy::none())
            .user_agent("Amazon Simple Notification Service Agent");
        for pem in &config.extra_root_certificates {
            let certificate =
                reqwest::Certificate::from_pem(pem).map_err(|e| format!("IPN trusted certificate: {e}"))?;
            builder = builder.add_root_certificate(certificate);
        }
        let http = builder.build().map_err(|e| format!("IPN HTTP client: {e}"))?;
        Ok(Ipn {
            config,
            http,
            signer: tokio::sync::OnceCell::new(),
            wake: Notify::new(),
            slots: Arc::new(Semaphore::new(IPN_MAX_IN_FLIGHT)),
            per_merchant: Mutex::default(),
        })
    }

    /// Tells the worker something may be due now (a write staged notifications).
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// The signer, loading or making the key on first use.
    pub async fn signer(&self, state: &AppState) -> Result<Arc<Signer>, StoreError> {
        self.signer
            .get_or_try_init(|| async {
                Signer::load_or_create(state.store.as_ref(), crate::system_now()).await.map(Arc::new)
            })
            .await
            .cloned()
    }

    /// How long a lease lasts: the attempt's timeout and a margin.
    pub fn lease_ms(&self) -> i64 {
        (self.config.timeout_ms + IPN_LEASE_MARGIN_MS) as i64
    }
}

/// Posts a leased notification once and records the outcome (releasing the lease).
/// `leased_at_ms` is when the caller leased it, if `notification` was read before that.
/// Returns the outcome recorded.
pub async fn attempt(
    state: &AppState,
    notification: &Notification,
    leased_at_ms: Option<i64>,
) -> Result<AttemptOutcome, StoreError> {
    let event = &notification.event;
    let (merchant, environment) = (event.merchant_id.clone(), event.environment);
    let (endpoint, region) = state
        .store
        .read(move |tx| -> Result<(Option<String>, Option<Region>), StoreError> {
            Ok((tx.ipn_endpoint(&merchant, environment)?, tx.merchant(&merchant)?.map(|m| m.region)))
        })
        .await?;
    let mut waited = None;
    let outcome = match (endpoint, region) {
        (Some(url), Some(region)) => {
            let signer = state.ipn.signer(state).await?;
            // Leased, so stamped: the lease's own time when it was read before the lease.
            let published_ms = notification.published_ms.or(leased_at_ms).unwrap_or_else(real_now_ms);
            let envelope = signer.envelope(event, published_ms, region, &state.sns_base_url);
            let body = serde_json::to_string(&envelope).expect("serializing strings");
            let at_ms = real_now_ms();
            let started = Instant::now();
            let sent = state
                .ipn
                .http
                .post(&url)
                .header("content-type", "text/plain; charset=UTF-8")
                .header("x-amz-sns-message-type", SNS_NOTIFICATION)
                .header("x-amz-sns-message-id", &envelope.message_id)
                .header("x-amz-sns-topic-arn", &envelope.topic_arn)
                .header("x-amz-sns-subscription-arn", subscription_arn(&envelope.topic_arn))
                .body(body)
                .send()
                .await;
            waited = Some(started.elapsed());
            let latency_ms = started.elapsed().as_millis() as i64;
            let (status_code, error) = match sent {
                Ok(response) => (Some(response.status().as_u16()), None),
                Err(e) if e.is_timeout() => {
                    (None, Some(format!("no answer within {} ms", state.ipn.config.timeout_ms)))
                }
                Err(e) if e.is_connect() => (None, Some(format!("could not connect: {}", root_cause(&e)))),
                Err(e) => (None, Some(root_cause(&e))),
            };
            let attempt = Attempt { at_ms, url, status_code, error, latency_ms };
            let round = notification.round_attempts + 1;
            outcome_of(&state.ipn.config, attempt, round, notification.first_attempt_ms.unwrap_or(at_ms))
        }
        _ => AttemptOutcome { attempt: None, status: DeliveryStatus::NoEndpoint, next_attempt_ms: None },
    };
    match (&outcome.attempt, outcome.status) {
        (Some(a), DeliveryStatus::Delivered) => {
            tracing::debug!(notification = %event.notification_id, latency_ms = a.latency_ms, "IPN delivered")
        }
        (Some(a), status) => {
            tracing::info!(notification = %event.notification_id, status = status.as_str(), code = ?a.status_code, error = ?a.error, "IPN attempt failed")
        }
        (None, _) => tracing::debug!(notification = %event.notification_id, "no IPN endpoint; not sent"),
    }
    let id = event.notification_id.clone();
    let recorded = outcome.clone();
    state.store.write(move |tx| tx.finish_attempt(&id, &recorded)).await?;
    let counted = match outcome.status {
        DeliveryStatus::Delivered => IpnOutcome::Delivered,
        DeliveryStatus::Pending => IpnOutcome::Retrying,
        DeliveryStatus::Failed => IpnOutcome::Failed,
        DeliveryStatus::NoEndpoint => IpnOutcome::NoEndpoint,
    };
    crate::telemetry::metrics().ipn_attempted(counted, waited);
    Ok(outcome)
}

/// The innermost message of an HTTP error (reqwest's outer ones say only "error sending
/// request").
fn root_cause(error: &(dyn std::error::Error + 'static)) -> String {
    let mut cause = error;
    while let Some(next) = cause.source() {
        cause = next;
    }
    cause.to_string()
}

/// Makes attempts as they fall due, until `stop` fires: woken by writes, and every
/// `IPN_POLL_INTERVAL_MS` for retries and for other processes' notifications.
pub async fn worker(state: Arc<AppState>, mut stop: tokio::sync::broadcast::Receiver<()>) {
    let interval = Duration::from_millis(IPN_POLL_INTERVAL_MS);
    loop {
        tokio::select! {
            _ = stop.recv() => return,
            _ = state.ipn.wake.notified() => {}
            _ = tokio::time::sleep(interval) => {}
        }
        if let Err(error) = dispatch(&state).await {
            tracing::error!(%error, "IPN delivery could not look for due notifications; will retry");
        }
        tokio::select! {
            _ = stop.recv() => return,
            _ = tokio::time::sleep(Duration::from_millis(IPN_MIN_DISPATCH_INTERVAL_MS)) => {}
        }
    }
}

/// Leases what is due, as far as free slots allow, and starts an attempt for each.
async fn dispatch(state: &Arc<AppState>) -> Result<(), StoreError> {
    let ipn = &state.ipn;
    let free = ipn.slots.available_permits();
    if free == 0 {
        return Ok(());
    }
    let busy: HashMap<(String, Environment), u32> = ipn.per_merchant.lock().expect("per-merchant counts").clone();
    let saturated = busy.values().filter(|&&n| n >= IPN_MAX_IN_FLIGHT_PER_MERCHANT).count();
    // Saturated merchants' rows come back too: ask for enough to see past them.
    let limit = (free + saturated * IPN_MAX_IN_FLIGHT_PER_MERCHANT as usize) as u32;
    let now_ms = real_now_ms();
    let due = state.store.read(move |tx| tx.due_notifications(now_ms, IPN_MAX_IN_FLIGHT_PER_MERCHANT, limit)).await?;
    let mut taken: HashMap<(String, Environment), u32> = HashMap::new();
    let picked: Vec<Notification> = due
        .into_iter()
        .filter(|n| {
            let merchant = (n.event.merchant_id.clone(), n.event.environment);
            let count = taken.entry(merchant.clone()).or_insert(0);
            let room = busy.get(&merchant).copied().unwrap_or(0) + *count < IPN_MAX_IN_FLIGHT_PER_MERCHANT;
            if room {
                *count += 1;
            }
            room
        })
        .take(free)
        .collect();
    if picked.is_empty() {
        return Ok(());
    }
    let lease_until = now_ms + ipn.lease_ms();
    let leased = state
        .store
        .write(move |tx| -> Result<Vec<Notification>, StoreError> {
            let mut leased = Vec::new();
            for notification in picked {
                if tx.lease_notification(&notification.event.notification_id, now_ms, lease_until)? {
                    leased.push(notification);
                }
            }
            Ok(leased)
        })
        .await?;
    for notification in leased {
        let Ok(permit) = ipn.slots.clone().try_acquire_owned() else { break };
        let merchant = (notification.event.merchant_id.clone(), notification.event.environment);
        *ipn.per_merchant.lock().expect("per-merchant counts").entry(merchant.clone()).or_insert(0) += 1;
        let state = state.clone();
        tokio::spawn(async move {
            if let Err(error) = attempt(&state, &notification, Some(now_ms)).await {
                tracing::error!(%error, notification = %notification.event.notification_id, "IPN attempt not recorded; the lease will expire and it will be retried");
            }
            let mut counts = state.ipn.per_merchant.lock().expect("per-merchant counts");
            if let Some(count) = counts.get_mut(&merchant) {
                *count -= 1;
                if *count == 0 {
                    counts.remove(&merchant);
                }
            }
            drop(counts);
            drop(permit);
            // A slot is free: what waited for it may go.
            state.ipn.wake();
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_follow_the_schedule_and_the_last_delay_repeats() {
        let schedule = crate::config::IPN_RETRY_DELAYS_MS;
        let delays: Vec<u64> = (1..=8).map(|n| retry_delay_ms(&schedule, n)).collect();
        assert_eq!(delays, [10_000, 30_000, 60_000, 300_000, 900_000, 3_600_000, 3_600_000, 3_600_000]);
        assert_eq!(jittered_ms(10_000, 0), 9_000);
        assert_eq!(jittered_ms(10_000, 500), 10_000);
        assert_eq!(jittered_ms(10_000, 1000), 11_000);
    }

    #[test]
    fn only_timeouts_connection_errors_and_5xx_are_retried() {
        for (status, expected) in [
            (Some(200), Verdict::Delivered),
            (Some(204), Verdict::Delivered),
            (Some(301), Verdict::Refused),
            (Some(400), Verdict::Refused),
            (Some(404), Verdict::Refused),
            (Some(429), Verdict::Refused),
            (Some(500), Verdict::Retry),
            (Some(503), Verdict::Retry),
            (None, Verdict::Retry),
        ] {
            assert_eq!(verdict(status), expected, "{status:?}");
        }
    }

    #[test]
    fn retries_stop_when_the_next_would_fall_after_the_window() {
        let config = IpnDelivery { retry_delays_ms: vec![1_000], retry_for_ms: 10_000, ..IpnDelivery::default() };
        let failed =
            |at_ms: i64| Attempt { at_ms, url: "u".into(), status_code: Some(503), error: None, latency_ms: 1 };
        let early = outcome_of(&config, failed(0), 1, 0);
        assert_eq!(early.status, DeliveryStatus::Pending);
        let next = early.next_attempt_ms.unwrap();
        assert!((900..=1_100).contains(&next), "{next}");
        let late = outcome_of(&config, failed(9_500), 9, 0);
        assert_eq!((late.status, late.next_attempt_ms), (DeliveryStatus::Failed, None));
        let refused = outcome_of(&config, Attempt { status_code: Some(400), ..failed(0) }, 1, 0);
        assert_eq!((refused.status, refused.next_attempt_ms), (DeliveryStatus::Failed, None));
    }
}
