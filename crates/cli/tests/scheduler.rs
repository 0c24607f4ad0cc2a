//! Scheduled transitions are durable and run once: across a SIGKILL and restart, and with
//! two server processes sharing one database.

mod support;

use std::path::Path;
use std::time::Duration;

use amzpay_domain::{Environment, Timestamp};
use amzpay_store::sqlite::SqliteStore;
use amzpay_store::{Event, Job, JobKind, Store, StoreError};
use serde_json::{Value, json};
use support::*;

fn client() -> reqwest::Client {
    reqwest::Client::builder().timeout(Duration::from_secs(30)).build().unwrap()
}

async fn post(
    client: &reqwest::Client,
    base: &str,
    merchant: &Merchant,
    path: &str,
    body: Value,
    key: Option<&str>,
) -> Value {
    let reply = call(client, base, merchant, "POST", path, &body.to_string(), key).await.unwrap();
    assert!(reply.status < 300, "{path}: {} {}", reply.status, String::from_utf8_lossy(&reply.body));
    reply.json()
}

async fn get(client: &reqwest::Client, base: &str, merchant: &Merchant, path: &str) -> Value {
    let reply = call(client, base, merchant, "GET", path, "", None).await.unwrap();
    assert_eq!(reply.status, 200, "{path}");
    reply.json()
}

/// What the database says about an object: its jobs and its events.
async fn history(data_dir: &Path, merchant_id: &str, object_id: &str) -> (Vec<(Job, Option<Timestamp>)>, Vec<Event>) {
    let sqlite = SqliteStore::open(&data_dir.join("amzpay.db")).unwrap();
    let jobs = sqlite.jobs_for_object(object_id).await.unwrap();
    let store: &dyn Store = &sqlite;
    let (merchant, object) = (merchant_id.to_owned(), object_id.to_owned());
    let events = store
        .read(move |tx| -> Result<_, StoreError> {
            let mut events: Vec<Event> = tx
                .notifications(&merchant, Environment::Sandbox, 100_000)?
                .into_iter()
                .map(|n| n.event)
                .filter(|e| e.object_id == object)
                .collect();
            events.reverse();
            Ok(events)
        })
        .await
        .unwrap();
    (jobs, events)
}

fn state(body: &Value) -> &str {
    body["statusDetails"]["state"].as_str().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transitions_scheduled_before_a_sigkill_fire_after_restart_once() {
    let data_dir = tempfile::tempdir().unwrap();
    let server = Server::start(data_dir.path());
    let merchant = server.dev_merchant();
    let merchant_id = merchant.description["merchantId"].as_str().unwrap().to_owned();
    let client = client();
    let base = server.http.clone();
    post(&client, &base, &merchant, "/v2/testHelpers/clock/freeze", json!({}), None).await;
    let permission = post(
        &client,
        &base,
        &merchant,
        "/v2/testHelpers/chargePermissions",
        json!({"amountLimit": {"amount": "100", "currencyCode": "USD"}, "paymentMethod": "0701"}),
        Some("p1"),
    )
    .await;
    let permission_id = permission["chargePermissionId"].as_str().unwrap();
    let pending = post(&client, &base, &merchant, "/v2/charges", json!({"chargePermissionId": permission_id, "chargeAmount": {"amount": "10", "currencyCode": "USD"}, "canHandlePendingAuthorization": true}), Some("c1")).await;
    assert_eq!(state(&pending), "AuthorizationInitiated");
    let charge_id = pending["chargeId"].as_str().unwrap().to_owned();
    server.kill();

    let restarted = Server::start(data_dir.path());
    let base = restarted.http.clone();
    assert_eq!(
        state(&get(&client, &base, &merchant, &format!("/v2/charges/{charge_id}")).await),
        "AuthorizationInitiated"
    );
    post(&client, &base, &merchant, "/v2/testHelpers/clock/advance", json!({"seconds": 30}), None).await;
    assert_eq!(state(&get(&client, &base, &merchant, &format!("/v2/charges/{charge_id}")).await), "Authorized");
    // Advancing again fires nothing more for it (its expiry is 30 days away).
    post(&client, &base, &merchant, "/v2/testHelpers/clock/advance", json!({"seconds": 60}), None).await;
    drop(restarted);

    let (jobs, events) = history(data_dir.path(), &merchant_id, &charge_id).await;
    let resolutions: Vec<_> = jobs.iter().filter(|(job, _)| job.kind == JobKind::ResolveAuthorization).collect();
    assert_eq!(resolutions.len(), 1);
    assert!(resolutions[0].1.is_some(), "the resolution ran");
    assert_eq!(events.len(), 2, "created and resolved, once: {events:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_servers_on_one_database_run_each_due_transition_once() {
    const CHARGES: usize = 20;
    let data_dir = tempfile::tempdir().unwrap();
    let first = Server::start(data_dir.path());
    let second = Server::start(data_dir.path());
    let merchant = first.dev_merchant();
    assert_eq!(second.dev_merchant().public_key_id, merchant.public_key_id, "both serve the same merchant");
    let merchant_id = merchant.description["merchantId"].as_str().unwrap().to_owned();
    let client = client();
    let bases = [first.http.clone(), second.http.clone()];
    post(&client, &bases[0], &merchant, "/v2/testHelpers/clock/freeze", json!({}), None).await;
    let mut charges = Vec::new();
    for n in 0..CHARGES {
        let base = &bases[n % 2];
        let permission = post(
            &client,
            base,
            &merchant,
            "/v2/testHelpers/chargePermissions",
            json!({"chargePermissionType": "Recurring", "paymentMethod": if n % 3 == 0 { "4354" } else { "0701" }}),
            Some(&format!("p{n}")),
        )
        .await;
        let id = permission["chargePermissionId"].as_str().unwrap();
        let charge = post(&client, base, &merchant, "/v2/charges", json!({"chargePermissionId": id, "chargeAmount": {"amount": "10", "currencyCode": "USD"}, "canHandlePendingAuthorization": true, "captureNow": n % 2 == 0}), Some(&format!("c{n}"))).await;
        charges.push(charge["chargeId"].as_str().unwrap().to_owned());
    }
    // Both servers race to run what falls due: advances on both at once, and both
    // background workers.
    let mut racers = Vec::new();
    for (n, seconds) in [30, 0, 0, 0].into_iter().enumerate() {
        let (client, base, merchant) = (client.clone(), bases[n % 2].clone(), merchant.clone());
        racers.push(tokio::spawn(async move {
            post(&client, &base, &merchant, "/v2/testHelpers/clock/advance", json!({"seconds": seconds}), None).await
        }));
    }
    for racer in racers {
        racer.await.unwrap();
    }
    // One more advance of nothing, to wait for any run still in flight on the other server.
    post(&client, &bases[1], &merchant, "/v2/testHelpers/clock/advance", json!({"seconds": 0}), None).await;
    for (n, charge) in charges.iter().enumerate() {
        let body = get(&client, &bases[n % 2], &merchant, &format!("/v2/charges/{charge}")).await;
        let expected = if n % 3 == 0 {
            "Declined"
        } else if n % 2 == 0 {
            "Captured"
        } else {
            "Authorized"
        };
        assert_eq!(state(&body), expected, "charge {n}");
    }
    drop((first, second));
    for charge in &charges {
        let (jobs, events) = history(data_dir.path(), &merchant_id, charge).await;
        let resolutions: Vec<_> = jobs.iter().filter(|(job, _)| job.kind == JobKind::ResolveAuthorization).collect();
        assert_eq!(resolutions.len(), 1, "{charge}");
        assert!(resolutions[0].1.is_some());
        assert_eq!(events.len(), 2, "{charge}: created and resolved exactly once: {events:?}");
    }
}
