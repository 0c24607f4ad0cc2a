//! Several servers on one PostgreSQL database are one service (docs/deploy.md): requests
//! spread over three nodes keep a permission's limits, one idempotency key sent to every
//! node at once runs once with one answer, and a pending authorization resolved by clock
//! advances through several nodes at once is applied once and seen by all, and a fault
//! added through one node applies on every node, used up once. Runs on the
//! server `AMZPAY_TEST_DATABASE_URL` names (`scripts/test` starts one); fails without it.

mod support;

use std::collections::BTreeMap;
use std::sync::Arc;

use serde_json::json;
use support::*;

const NODES: usize = 3;

async fn nodes() -> Vec<Arc<TestApp>> {
    TestApp::spawn_nodes(NODES).await.into_iter().map(Arc::new).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn charges_spread_over_the_nodes_never_exceed_the_limit() {
    let nodes = nodes().await;
    let permission_id = nodes[0].one_time("100").await;
    let mut tasks = Vec::new();
    for n in 0..50 {
        let node = nodes[n % NODES].clone();
        let body =
            json!({"chargePermissionId": permission_id, "chargeAmount": {"amount": "10", "currencyCode": "USD"}});
        tasks.push(tokio::spawn(
            async move { node.dev("POST", "/v2/charges").key(&new_key()).json(&body).send().await },
        ));
    }
    let mut outcomes = BTreeMap::new();
    for task in tasks {
        let response = task.await.unwrap();
        let label = match response.status {
            201 => "created".to_owned(),
            _ => response.body["reasonCode"].as_str().unwrap_or("?").to_owned(),
        };
        *outcomes.entry(label).or_insert(0) += 1;
    }
    assert_eq!(
        outcomes,
        BTreeMap::from([("created".to_owned(), 10), ("InvalidChargePermissionStatus".to_owned(), 40)])
    );
    for node in &nodes {
        let state = node.get(&format!("/v2/chargePermissions/{permission_id}")).await;
        assert_eq!(state["limits"]["amountBalance"]["amount"], "0.00", "every node sees the whole limit held");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_key_sent_to_every_node_at_once_runs_once_with_one_answer() {
    let nodes = nodes().await;
    let permission_id = nodes[1].one_time("1000").await;
    let key = new_key();
    let body = json!({"chargePermissionId": permission_id, "chargeAmount": {"amount": "7", "currencyCode": "USD"}});
    let mut tasks = Vec::new();
    for n in 0..21 {
        let (node, key, body) = (nodes[n % NODES].clone(), key.clone(), body.clone());
        tasks.push(tokio::spawn(async move { node.dev("POST", "/v2/charges").key(&key).json(&body).send().await }));
    }
    let mut answers = Vec::new();
    for task in tasks {
        let response = task.await.unwrap();
        answers.push((response.status, response.raw));
    }
    assert_eq!(answers[0].0, 201, "{:?}", String::from_utf8_lossy(&answers[0].1));
    assert!(answers.iter().all(|answer| *answer == answers[0]), "every node gave the same status and body");
    for node in &nodes {
        let state = node.get(&format!("/v2/chargePermissions/{permission_id}")).await;
        assert_eq!(state["limits"]["amountBalance"]["amount"], "993.00", "exactly one charge");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_pending_authorization_resolved_through_several_nodes_at_once_is_applied_once() {
    let nodes = nodes().await;
    nodes[0].freeze().await;
    assert_eq!(nodes[2].get("/v2/testHelpers/clock").await["frozen"], true, "one clock for every node");
    let permission_id = nodes[0]
        .permission(
            &nodes[0].dev,
            json!({"amountLimit": {"amount": "100", "currencyCode": "USD"}, "paymentMethod": "0701"}),
        )
        .await;
    let body = json!({
        "chargePermissionId": permission_id,
        "chargeAmount": {"amount": "10.00", "currencyCode": "USD"},
        "canHandlePendingAuthorization": true
    });
    let charge = nodes[1].dev("POST", "/v2/charges").key(&new_key()).json(&body).send().await;
    let charge_id = charge.assert_status(201)["chargeId"].as_str().unwrap().to_owned();
    let before = nodes[0].events_for(&charge_id).await.len();
    let start = nodes[0].get("/v2/testHelpers/clock").await["now"].as_str().unwrap().to_owned();
    // Every node advances by 30 seconds at once: the authorization falls due in each
    // advance's range, and is resolved by exactly one of them.
    let mut advances = Vec::new();
    for node in &nodes {
        let node = node.clone();
        advances.push(tokio::spawn(async move { node.advance(30).await }));
    }
    for advance in advances {
        advance.await.unwrap();
    }
    let end = nodes[2].get("/v2/testHelpers/clock").await["now"].as_str().unwrap().to_owned();
    assert_eq!((parse_time(&end) - parse_time(&start)).whole_seconds(), 90, "each advance moved the clock once");
    for node in &nodes {
        let seen = node.get(&format!("/v2/charges/{charge_id}")).await;
        assert_eq!(seen["statusDetails"]["state"], "Authorized", "every node sees it resolved");
        let permission = node.get(&format!("/v2/chargePermissions/{permission_id}")).await;
        assert_eq!(permission["limits"]["amountBalance"]["amount"], "90.00");
    }
    let after = nodes[0].events_for(&charge_id).await;
    assert_eq!(after.len(), before + 1, "one notification of the resolution: {after:?}");
}

fn parse_time(text: &str) -> time::PrimitiveDateTime {
    time::PrimitiveDateTime::parse(
        text,
        time::macros::format_description!("[year][month][day]T[hour][minute][second]Z"),
    )
    .unwrap()
}

/// A fault added through one node applies to the next request whichever node it reaches,
/// and is used up once across them.
#[tokio::test]
async fn a_fault_added_through_one_node_applies_on_the_others_and_is_used_up_once() {
    let nodes = nodes().await;
    let permission_id = nodes[0].one_time("100").await;
    let path = format!("/v2/chargePermissions/{permission_id}");
    // Every node has served the merchant (and found it without faults) before the fault.
    for node in &nodes {
        node.dev("GET", path.as_str()).send().await.assert_status(200);
    }
    let fault = json!({"reasonCode": "ServiceUnavailable", "count": 2});
    nodes[0].dev("POST", "/v2/testHelpers/faults").json(&fault).send().await.assert_status(201);
    nodes[1].dev("GET", path.as_str()).send().await.assert_error(503, "ServiceUnavailable");
    nodes[2].dev("GET", path.as_str()).send().await.assert_error(503, "ServiceUnavailable");
    for node in &nodes {
        node.dev("GET", path.as_str()).send().await.assert_status(200);
    }
}

/// Nodes started at once on an empty database agree on one development merchant: the one
/// that recorded it first keeps its key; the others start with its description and leave no
/// key file of their own.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn nodes_started_at_once_on_an_empty_database_make_one_development_merchant() {
    let database = fresh_postgres_database();
    let dirs: Vec<tempfile::TempDir> = (0..NODES).map(|_| tempfile::tempdir().unwrap()).collect();
    let mut starts = Vec::new();
    for dir in &dirs {
        let mut config = amzpay_server::Config::with_defaults();
        config.data_dir = dir.path().to_owned();
        config.listen = None;
        config.tls_listen = None;
        config.database = Some(database.clone());
        starts.push(tokio::spawn(async move {
            amzpay_server::Application::build(config).await.map(|app| app.dev_merchant.clone())
        }));
    }
    let mut merchants = Vec::new();
    for start in starts {
        merchants.push(start.await.unwrap().expect("every node starts"));
    }
    assert!(merchants.iter().all(|m| m.merchant_id == merchants[0].merchant_id), "one development merchant");
    let with_key: Vec<_> =
        dirs.iter().filter(|dir| dir.path().join(amzpay_server::merchants::DEV_MERCHANT_KEY_FILE).exists()).collect();
    assert_eq!(with_key.len(), 1, "one key file, on the node that made the merchant");
    assert_eq!(merchants.iter().filter(|m| m.private_key_file.is_some()).count(), 1);
}
