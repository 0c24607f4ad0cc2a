//! A `Client` is cheap to clone and its calls own what they send, so a call's future is
//! `'static + Send`: it can be spawned, and outlive the borrow of the client that made it.
//! This test would not compile otherwise; it also runs the spawned calls against a mock.

use std::future::IntoFuture;

use amzpay_sdk::*;
use axum::response::IntoResponse;

const CHARGE: &str = r#"{"chargeId":"S01-1111111-1111111-C000001","chargePermissionId":"S01-1111111-1111111","chargeAmount":{"amount":"1.00","currencyCode":"USD"},"statusDetails":{"state":"Authorized"}}"#;

async fn start_mock() -> Client {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let app =
        axum::Router::new().fallback(|| async { ([("content-type", "application/json")], CHARGE).into_response() });
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let pem =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/spec/vectors/test-key.pem"))
            .unwrap();
    let key = config::private_key_from_pem(&pem).unwrap();
    let config = Config::new(Region::Na, Environment::Sandbox, "SANDBOX-MOCK", key)
        .service_url(&format!("http://{address}"))
        .unwrap();
    Client::new(config).unwrap()
}

fn assert_static_send<F: std::future::Future + Send + 'static>(future: F) -> F {
    future
}

#[tokio::test]
async fn a_client_clone_moves_into_a_spawned_task_and_its_call_completes_there() {
    let client = start_mock().await;
    let id = ChargeId::parse("S01-1111111-1111111-C000001").unwrap();
    let task = {
        let client = client.clone();
        let id = id.clone();
        tokio::spawn(async move { client.get_charge(&id).await })
    };
    assert_eq!(task.await.unwrap().unwrap().charge_id, id);
}

#[tokio::test]
async fn a_call_made_from_a_borrowed_client_is_spawned_on_its_own() {
    let client = start_mock().await;
    let id = ChargeId::parse("S01-1111111-1111111-C000001").unwrap();
    // The futures outlive `client` and `id`: they own a clone of the client and the request.
    let awaited = assert_static_send(client.get_charge(&id).into_future());
    let sent = assert_static_send(client.get_charge(&id).send());
    let json = assert_static_send(client.get_charge(&id).into_json().into_future());
    drop(client);
    let (awaited, sent, json) = (tokio::spawn(awaited), tokio::spawn(sent), tokio::spawn(json));
    assert_eq!(awaited.await.unwrap().unwrap().charge_id, id);
    let sent = sent.await.unwrap().unwrap();
    assert_eq!(sent.status, 200);
    assert_eq!(sent.body.charge_id, id);
    assert_eq!(json.await.unwrap().unwrap()["chargeId"], id.as_str());
}
