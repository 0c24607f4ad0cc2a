//! SIGKILL in the middle of a stream of Create Charge requests: after a restart, every
//! request that got a 2xx is there, and retrying any request with its idempotency key
//! replays instead of charging again. On PostgreSQL the same with two nodes on one
//! database: one is killed, and the other (no restart) holds everything it acknowledged.

mod support;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::json;
use support::*;

/// Concurrent request loops; each stops at its first transport error (the kill).
const STREAMS: usize = 4;
/// The kill comes once this many charges were acknowledged, so it lands mid-stream.
const ACKNOWLEDGED_BEFORE_KILL: usize = 60;
/// Upper bound on requests per stream, so the test ends even if the kill never lands.
const MAX_REQUESTS_PER_STREAM: usize = 2_000;

#[derive(Clone)]
struct Sent {
    key: String,
    body: String,
    /// The answer, when one came back before the kill.
    reply: Option<(u16, Vec<u8>)>,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn acknowledged_charges_survive_sigkill_and_retries_replay() {
    let data_dir = tempfile::tempdir().unwrap();
    let server = Server::start(data_dir.path());
    let restart = || Server::start(data_dir.path());
    stream_kill_and_check(server, restart).await;
}

/// Two nodes on one PostgreSQL database: the one taking the stream is killed, the other
/// answers the retries.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_node_killed_with_sigkill_loses_nothing_it_acknowledged_and_the_other_node_replays() {
    let url = amzpay_store::postgres::create_test_database("amzpay_crash").unwrap();
    let (first_dir, second_dir) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let first = Server::start_with(first_dir.path(), &["--database", &url]);
    // The second node signs as the same development merchant: a copy of its files.
    for file in ["dev-merchant.json", "dev-merchant-private-key.pem"] {
        std::fs::copy(first_dir.path().join(file), second_dir.path().join(file)).unwrap();
    }
    let second = Server::start_with(second_dir.path(), &["--database", &url]);
    stream_kill_and_check(first, move || second).await;
}

/// Streams charges to `server`, kills it with SIGKILL mid-stream, then checks through
/// the server `after` gives (a restart, or another node).
async fn stream_kill_and_check(server: Server, after: impl FnOnce() -> Server) {
    let merchant = server.dev_merchant();
    let client = reqwest::Client::builder().timeout(Duration::from_secs(10)).build().unwrap();
    let base = server.http.clone();

    // A frozen clock keeps every charge in one calendar month, whatever the real date.
    let frozen = call(&client, &base, &merchant, "POST", "/v2/testHelpers/clock/freeze", "", None).await.unwrap();
    assert_eq!(frozen.status, 200);
    // A Saved Wallet permission: 15,000 USD a month and no count limit.
    let created = call(
        &client,
        &base,
        &merchant,
        "POST",
        "/v2/testHelpers/chargePermissions",
        r#"{"chargePermissionType":"PaymentMethodOnFile"}"#,
        Some("crash-permission"),
    )
    .await
    .unwrap();
    assert_eq!(created.status, 201);
    let permission_id = created.json()["chargePermissionId"].as_str().unwrap().to_owned();

    let sent: Arc<Mutex<Vec<Sent>>> = Arc::default();
    let mut streams = Vec::new();
    for stream in 0..STREAMS {
        let (client, base, merchant, permission_id, sent) =
            (client.clone(), base.clone(), merchant.clone(), permission_id.clone(), sent.clone());
        streams.push(tokio::spawn(async move {
            for n in 0..MAX_REQUESTS_PER_STREAM {
                let key = format!("crash-{stream}-{n}");
                let body = json!({"chargePermissionId": permission_id, "chargeAmount": {"amount": "1.00", "currencyCode": "USD"}, "captureNow": n % 2 == 0}).to_string();
                let index = {
                    let mut sent = sent.lock().unwrap();
                    sent.push(Sent { key: key.clone(), body: body.clone(), reply: None });
                    sent.len() - 1
                };
                match call(&client, &base, &merchant, "POST", "/v2/charges", &body, Some(&key)).await {
                    Ok(reply) => sent.lock().unwrap()[index].reply = Some((reply.status, reply.body)),
                    Err(_) => return,
                }
            }
        }));
    }
    loop {
        let acknowledged = sent.lock().unwrap().iter().filter(|s| s.reply.is_some()).count();
        if acknowledged >= ACKNOWLEDGED_BEFORE_KILL {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    server.kill();
    for stream in streams {
        stream.await.unwrap();
    }
    let sent = sent.lock().unwrap().clone();
    let in_flight = sent.iter().filter(|s| s.reply.is_none()).count();
    assert!(in_flight >= 1, "the kill must land while requests are in flight");

    let restarted = after();
    let base = restarted.http.clone();
    let mut charged = 0;
    for request in &sent {
        let retry =
            call(&client, &base, &merchant, "POST", "/v2/charges", &request.body, Some(&request.key)).await.unwrap();
        match &request.reply {
            Some((status, body)) => {
                assert_eq!(*status, 201, "{}", String::from_utf8_lossy(body));
                assert_eq!(
                    (retry.status, &retry.body),
                    (*status, body),
                    "the retry of {} replays byte for byte",
                    request.key
                );
                let charge_id = retry.json()["chargeId"].as_str().unwrap().to_owned();
                let got = call(&client, &base, &merchant, "GET", &format!("/v2/charges/{charge_id}"), "", None)
                    .await
                    .unwrap();
                assert_eq!(got.status, 200, "acknowledged charge {charge_id} survived");
            }
            // Unknown outcome: the retry either replays what committed or charges now.
            None => assert_eq!(retry.status, 201),
        }
        charged += 1;
    }
    // Every key charged exactly once: the month's use is one dollar per key.
    let permission =
        call(&client, &base, &merchant, "GET", &format!("/v2/chargePermissions/{permission_id}"), "", None)
            .await
            .unwrap();
    let balance = permission.json()["limits"]["amountBalance"]["amount"].as_str().unwrap().to_owned();
    assert_eq!(balance, format!("{}.00", 15_000 - charged));
}
