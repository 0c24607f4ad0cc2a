//! Retention deletes what has been kept long enough and nothing else: delivered
//! notifications and jobs that ran go after their period; pending, failed and unsent
//! notifications and jobs not yet run stay; idempotency records stay (forever by default,
//! here until their own period), and every kept key still replays byte for byte. The
//! server runs with the retention under test; the passes are driven with a "now" the test
//! chooses, never by waiting.

mod support;

use std::time::Duration;

use amzpay_domain::Timestamp;
use amzpay_server::config::{IpnDelivery, Retention};
use amzpay_server::retention::{Pruned, prune};
use amzpay_server::system_now;
use serde_json::{Value, json};
use support::receiver::{Answer, Receiver};
use support::{TestApp, new_key};

const WAIT: Duration = Duration::from_secs(15);
const HOUR: i64 = 3_600;
const DAY: i64 = 86_400;

const RETENTION: Retention =
    Retention { idempotency_seconds: Some(DAY), delivered_notifications_seconds: HOUR, finished_jobs_seconds: HOUR };

/// A keyed request, with the exact bytes it was answered with.
struct Recorded {
    method: &'static str,
    path: String,
    key: String,
    body: Value,
    status: u16,
    raw: Vec<u8>,
}

async fn keyed(app: &TestApp, method: &'static str, path: &str, body: Value) -> Recorded {
    let key = new_key();
    let response = app.dev(method, path).key(&key).json(&body).send().await;
    assert!(response.status < 300, "{response:?}");
    Recorded { method, path: path.to_owned(), key, body, status: response.status, raw: response.raw }
}

async fn replay(app: &TestApp, recorded: &Recorded) -> (u16, Vec<u8>) {
    let response = app.dev(recorded.method, &recorded.path).key(&recorded.key).json(&recorded.body).send().await;
    (response.status, response.raw)
}

/// The delivery log: (notification id, status).
async fn log(app: &TestApp) -> Vec<(String, String)> {
    let entries = app.get("/v2/testHelpers/notifications?limit=500").await;
    entries["notifications"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| (n["notificationId"].as_str().unwrap().to_owned(), n["status"].as_str().unwrap().to_owned()))
        .collect()
}

/// The log once `done` holds (deliveries happen beside the test, in real time).
async fn log_until(app: &TestApp, done: impl Fn(&[(String, String)]) -> bool) -> Vec<(String, String)> {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let entries = log(app).await;
        if done(&entries) {
            return entries;
        }
        assert!(tokio::time::Instant::now() < deadline, "the log never got there: {entries:?}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

fn with_status(entries: &[(String, String)], status: &str) -> Vec<String> {
    entries.iter().filter(|(_, s)| s == status).map(|(id, _)| id.clone()).collect()
}

async fn set_endpoint(app: &TestApp, url: Option<&str>) {
    app.dev("PUT", "/v2/testHelpers/ipnEndpoint").json(&json!({ "url": url })).send().await.assert_status(200);
}

/// Notifications about one object, in the delivery log.
async fn notifications_about(app: &TestApp, object_id: &str) -> usize {
    let entries = app.get("/v2/testHelpers/notifications?limit=500").await;
    entries["notifications"].as_array().unwrap().iter().filter(|n| n["objectId"] == object_id).count()
}

fn at(seconds_from_now: i64) -> Timestamp {
    Timestamp::from_unix_seconds(system_now().unix_seconds() + seconds_from_now)
}

#[tokio::test]
async fn retention_deletes_delivered_notifications_and_finished_jobs_only_and_kept_keys_replay_byte_for_byte() {
    let delivery =
        IpnDelivery { timeout_ms: 1_000, retry_delays_ms: vec![50], retry_for_ms: 600_000, ..IpnDelivery::default() };
    let app = TestApp::spawn_retaining(Some(delivery), RETENTION).await;
    let receiver = Receiver::start().await;
    set_endpoint(&app, Some(&receiver.url)).await;
    app.freeze().await;

    // Keyed writes, delivered: a permission, an authorized charge whose expiry job runs
    // when the clock passes it, and a second one whose expiry job is still to come.
    let limit = json!({"amountLimit": {"amount": "100.00", "currencyCode": "USD"}});
    let mut recorded = vec![keyed(&app, "POST", "/v2/testHelpers/chargePermissions", limit.clone()).await];
    let permission = serde_json::from_slice::<Value>(&recorded[0].raw).unwrap()["chargePermissionId"].clone();
    let charge = json!({"chargePermissionId": permission, "chargeAmount": {"amount": "10.00", "currencyCode": "USD"}, "captureNow": false});
    recorded.push(keyed(&app, "POST", "/v2/charges", charge.clone()).await);
    app.advance(31 * DAY).await;
    recorded.push(keyed(&app, "POST", "/v2/charges", charge).await);
    let delivered =
        log_until(&app, |entries| !entries.is_empty() && entries.iter().all(|(_, s)| s == "Delivered")).await;
    assert!(delivered.len() >= 4, "{delivered:?}");

    // One Failed (the receiver refuses it), one never sent (no endpoint), one Pending
    // (the receiver never answers, so it is retried).
    receiver.otherwise(Answer::Status(400));
    recorded.push(keyed(&app, "POST", "/v2/testHelpers/chargePermissions", limit.clone()).await);
    log_until(&app, |entries| with_status(entries, "Failed").len() == 1).await;
    set_endpoint(&app, None).await;
    recorded.push(keyed(&app, "POST", "/v2/testHelpers/chargePermissions", limit.clone()).await);
    log_until(&app, |entries| with_status(entries, "NoEndpoint").len() == 1).await;
    let silent = Receiver::start().await;
    silent.otherwise(Answer::Never);
    set_endpoint(&app, Some(&silent.url)).await;
    recorded.push(keyed(&app, "POST", "/v2/testHelpers/chargePermissions", limit).await);
    let before = log_until(&app, |entries| with_status(entries, "Pending").len() == 1).await;
    let second_charge =
        serde_json::from_slice::<Value>(&recorded[2].raw).unwrap()["chargeId"].as_str().unwrap().to_owned();

    // Within every period: nothing goes.
    assert_eq!(prune(app.store.as_ref(), &RETENTION, at(HOUR - 60)).await.unwrap(), Pruned::default());
    assert_eq!(log(&app).await, before);

    // Past the hour: delivered notifications and the job that ran go; nothing else.
    let pruned = prune(app.store.as_ref(), &RETENTION, at(HOUR + 60)).await.unwrap();
    assert_eq!(pruned.idempotency_records, 0, "keys are kept for a day here");
    assert_eq!(pruned.delivered_notifications as usize, with_status(&before, "Delivered").len());
    assert!(pruned.finished_jobs >= 1, "the first charge's expiry ran: {pruned:?}");
    let after = log(&app).await;
    let kept: Vec<(String, String)> = before.iter().filter(|(_, s)| s != "Delivered").cloned().collect();
    assert_eq!(after, kept, "failed, unsent and pending notifications are kept");
    assert_eq!(prune(app.store.as_ref(), &RETENTION, at(HOUR + 60)).await.unwrap(), Pruned::default());

    // Every key kept replays its original answer, byte for byte, though the first charge
    // has expired since (its current state is not what was answered).
    for request in &recorded {
        assert_eq!(
            replay(&app, request).await,
            (request.status, request.raw.clone()),
            "{} {}",
            request.method,
            request.path
        );
    }

    // The second charge's expiry job was kept: an advance past its instant runs it before
    // answering, and the change it makes is notified (a read would show the expiry too, but
    // writes nothing).
    let about_second_charge = notifications_about(&app, &second_charge).await;
    app.advance(31 * DAY).await;
    assert_eq!(notifications_about(&app, &second_charge).await, about_second_charge + 1, "the kept job ran");

    // With the default retention, keys are kept forever.
    assert_eq!(
        prune(app.store.as_ref(), &Retention::DEFAULT, at(100 * 365 * DAY)).await.unwrap().idempotency_records,
        0
    );
    // Past their own period they go too, and a retry then runs as a new request.
    let pruned = prune(app.store.as_ref(), &RETENTION, at(DAY + 60)).await.unwrap();
    assert_eq!(pruned.idempotency_records as usize, recorded.len());
    let first = &recorded[0];
    let (status, raw) = replay(&app, first).await;
    assert_eq!(status, 201);
    assert_ne!(raw, first.raw, "a new permission, not a replay");
}
