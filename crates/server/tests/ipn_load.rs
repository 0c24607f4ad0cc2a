//! A receiver that never answers holds up neither the API nor other merchants' IPNs.
//!
//! Two servers run side by side, alike but for one thing: on one of them a merchant's
//! receiver never answers. The same clients send the same requests to both, alternating,
//! so both see the same machine (the same disk syncs, the same CPU contention); the API's
//! p50 and p99 on the second stay within 20% (plus 5 ms of noise) of the first's, and the
//! other merchant's notifications keep arriving meanwhile.
//!
//! Its own test binary, so that no other test shares the machine while it measures.

mod support;

use std::time::{Duration, Instant};

use amzpay_domain::{Environment, Region};
use amzpay_server::config::IpnDelivery;
use amzpay_server::merchants::KeyStyle;
use serde_json::json;
use support::receiver::{Answer, Receiver};
use support::*;

/// Requests per server, sent by this many concurrent clients: enough that the p99 is the
/// 8th slowest, and that each server meets its share of SQLite's checkpoints.
const REQUESTS: usize = 800;
const CLIENTS: usize = 4;

/// What a shared machine adds to a latency now and then (a disk sync behind another, a
/// descheduled thread), beyond the 20%: a few milliseconds. An API that waited on the dead
/// receiver would be late by its whole `TIMEOUT`, far beyond.
const NOISE: Duration = Duration::from_millis(5);

fn percentile(sorted: &[Duration], p: usize) -> Duration {
    sorted[(sorted.len() * p / 100).min(sorted.len() - 1)]
}

/// A server with two sandbox merchants, each with an IPN endpoint.
struct Side {
    app: TestApp,
    other: Merchant,
}

/// Longer than the test: a dead receiver holds each attempt it gets for the whole test.
const TIMEOUT: Duration = Duration::from_secs(120);

async fn side(dev_endpoint: &str, other_endpoint: &str) -> Side {
    let delivery = IpnDelivery { timeout_ms: TIMEOUT.as_millis() as u64, ..IpnDelivery::default() };
    let app = TestApp::spawn_with(Some(delivery)).await;
    let other = app.merchant(Region::Na, KeyStyle::Prefixed(Environment::Sandbox)).await;
    for (merchant, url) in [(&app.dev, dev_endpoint), (&other, other_endpoint)] {
        let set = app.call(merchant, "PUT", "/v2/testHelpers/ipnEndpoint").json(&json!({ "url": url })).send().await;
        set.assert_status(200);
    }
    Side { app, other }
}

async fn create_permission(side: &Side, n: usize) -> Duration {
    let merchant = if n.is_multiple_of(2) { &side.app.dev } else { &side.other };
    let body = json!({"amountLimit": {"amount": "10.00", "currencyCode": "USD"}});
    let call = side.app.call(merchant, "POST", "/v2/testHelpers/chargePermissions").json(&body).key(&new_key());
    let started = Instant::now();
    call.send().await.assert_status(201);
    started.elapsed()
}

/// `requests` Create Charge Permission calls to each side (each stages a notification),
/// alternating sides and merchants, from `CLIENTS` concurrent clients; the latencies of
/// each side, sorted.
async fn traffic(a: &Side, b: &Side, requests: usize) -> (Vec<Duration>, Vec<Duration>) {
    let client = |offset: usize| async move {
        let (mut on_a, mut on_b) = (Vec::new(), Vec::new());
        for n in 0..requests / CLIENTS {
            // Alternate which side goes first, so neither always follows the other.
            if (n + offset).is_multiple_of(2) {
                on_a.push(create_permission(a, n + offset).await);
                on_b.push(create_permission(b, n + offset).await);
            } else {
                on_b.push(create_permission(b, n + offset).await);
                on_a.push(create_permission(a, n + offset).await);
            }
        }
        (on_a, on_b)
    };
    let results = tokio::join!(client(0), client(1), client(2), client(3));
    let (mut on_a, mut on_b) = (Vec::new(), Vec::new());
    for (a, b) in [results.0, results.1, results.2, results.3] {
        on_a.extend(a);
        on_b.extend(b);
    }
    on_a.sort();
    on_b.sort();
    (on_a, on_b)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_receiver_that_never_answers_slows_neither_the_api_nor_other_merchants() {
    let mut healthy = Receiver::start().await;
    let dead = Receiver::start().await;
    dead.otherwise(Answer::Never);
    let all_answer = side(&healthy.url, &healthy.url).await;
    let one_dead = side(&dead.url, &healthy.url).await;
    // Warm up (connections, caches, the SNS keys), then let what it sent arrive.
    traffic(&all_answer, &one_dead, 80).await;
    healthy.take(80 + 40, Duration::from_secs(60)).await;

    let started = Instant::now();
    let (baseline, with_dead) = traffic(&all_answer, &one_dead, REQUESTS).await;
    // Every notification the healthy receiver is owed arrives (all of the first server's,
    // the other merchant's on the second) while the dead receiver holds the development
    // merchant's deliveries on the second.
    healthy.take(REQUESTS + REQUESTS / 2, Duration::from_secs(60)).await;
    let elapsed = started.elapsed();

    let (p50, p99) = (percentile(&baseline, 50), percentile(&baseline, 99));
    let (dead_p50, dead_p99) = (percentile(&with_dead, 50), percentile(&with_dead, 99));
    eprintln!(
        "all receivers answer: p50 {p50:?} p99 {p99:?}; one never answers: p50 {dead_p50:?} p99 {dead_p99:?} ({elapsed:?})"
    );
    let within = |dead: Duration, base: Duration| dead <= base.mul_f64(1.2) + NOISE;
    assert!(within(dead_p50, p50), "p50 {dead_p50:?} vs {p50:?}");
    assert!(within(dead_p99, p99), "p99 {dead_p99:?} vs {p99:?}");
    assert!(elapsed < TIMEOUT, "delivered while the dead receiver held its first attempts: {elapsed:?}");
}
