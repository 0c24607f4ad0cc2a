//! A receiver that never answers holds up neither the API nor other merchants' IPNs: API
//! latency under concurrent traffic stays within 20% (p50 and p99) of a run where every
//! receiver answers, and the healthy merchant's notifications keep arriving meanwhile.
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

/// Requests per measured phase, sent by this many concurrent clients.
const REQUESTS: usize = 400;
const CLIENTS: usize = 4;

fn percentile(sorted: &[Duration], p: usize) -> Duration {
    sorted[(sorted.len() * p / 100).min(sorted.len() - 1)]
}

/// `REQUESTS` Create Charge Permission calls (each stages a notification), alternating
/// between `merchants`, from `CLIENTS` concurrent clients; their latencies, sorted.
async fn traffic(app: &TestApp, merchants: &[&Merchant]) -> Vec<Duration> {
    let client = |offset: usize| async move {
        let mut latencies = Vec::new();
        for n in 0..REQUESTS / CLIENTS {
            let merchant = merchants[(n + offset) % merchants.len()];
            let body = json!({"amountLimit": {"amount": "10.00", "currencyCode": "USD"}});
            let call = app.call(merchant, "POST", "/v2/testHelpers/chargePermissions").json(&body).key(&new_key());
            let started = Instant::now();
            call.send().await.assert_status(201);
            latencies.push(started.elapsed());
        }
        latencies
    };
    let (a, b, c, d) = tokio::join!(client(0), client(1), client(2), client(3));
    let mut all: Vec<Duration> = [a, b, c, d].concat();
    all.sort();
    all
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_receiver_that_never_answers_slows_neither_the_api_nor_other_merchants() {
    // The product's timeout: a dead receiver holds each attempt for 10 s.
    let app = TestApp::spawn_with(Some(IpnDelivery::default())).await;
    let mut healthy = Receiver::start().await;
    let dead = Receiver::start().await;
    dead.otherwise(Answer::Never);
    let other = app.merchant(Region::Na, KeyStyle::Prefixed(Environment::Sandbox)).await;
    for (merchant, url) in [(&app.dev, &healthy.url), (&other, &healthy.url)] {
        let set = app.call(merchant, "PUT", "/v2/testHelpers/ipnEndpoint").json(&json!({ "url": url })).send().await;
        set.assert_status(200);
    }
    // Warm up: connections, caches, the SNS key.
    traffic(&app, &[&app.dev, &other]).await;
    healthy.take(REQUESTS, Duration::from_secs(60)).await;

    let baseline = traffic(&app, &[&app.dev, &other]).await;
    healthy.take(REQUESTS, Duration::from_secs(60)).await;

    // Now the development merchant's receiver never answers.
    app.dev("PUT", "/v2/testHelpers/ipnEndpoint").json(&json!({ "url": dead.url })).send().await.assert_status(200);
    let started = Instant::now();
    let with_dead = traffic(&app, &[&app.dev, &other]).await;
    // The other merchant's notifications all arrive, while the dead receiver holds the
    // development merchant's first deliveries for their whole timeout.
    healthy.take(REQUESTS / 2, Duration::from_secs(9)).await;
    assert!(started.elapsed() < Duration::from_secs(10), "delivered before the dead receiver's first timeout");

    let (p50, p99) = (percentile(&baseline, 50), percentile(&baseline, 99));
    let (dead_p50, dead_p99) = (percentile(&with_dead, 50), percentile(&with_dead, 99));
    eprintln!("baseline p50 {p50:?} p99 {p99:?}; with a dead receiver p50 {dead_p50:?} p99 {dead_p99:?}");
    assert!(dead_p50.as_secs_f64() <= p50.as_secs_f64() * 1.2, "p50 {dead_p50:?} vs {p50:?}");
    assert!(dead_p99.as_secs_f64() <= p99.as_secs_f64() * 1.2, "p99 {dead_p99:?} vs {p99:?}");
}
