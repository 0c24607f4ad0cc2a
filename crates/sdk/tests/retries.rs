//! Retries and timeouts against a real amzpay server that fails on demand (sandbox faults):
//! which calls are retried, how often and with what waits, that a retried call runs once,
//! and what a slow answer does against the client's timeout.
//!
//! A local mock remains only for what the server cannot show: the statuses it never
//! answers with (408, 425, 502, 504), a `Retry-After` header (Amazon documents none and
//! amzpay sends none, but a proxy in between may), an unknown reason code, the idempotency
//! key of every attempt (a faulted attempt is answered without its key being looked at, by
//! design), the clock helpers answering 503 (test helpers never meet a fault) and the
//! paths as sent.

mod support;

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use amzpay_sdk::*;
use amzpay_server::{Application, Config as ServerConfig};
use axum::body::Body;
use axum::extract::{Request, State};
use axum::response::Response as AxumResponse;
use support::RecordingSleeper;

// ---- Against the server ----

/// A server on free ports in a fresh directory, and a client of its development merchant
/// whose waits are recorded instead of slept.
struct Server {
    client: Client,
    sleeper: Arc<RecordingSleeper>,
    _data_dir: tempfile::TempDir,
    _stop: tokio::sync::oneshot::Sender<()>,
}

async fn start() -> Server {
    start_with(|config| config).await
}

async fn start_with(configure: impl FnOnce(Config) -> Config) -> Server {
    let data_dir = tempfile::tempdir().unwrap();
    let app = Application::build(ServerConfig {
        data_dir: data_dir.path().to_owned(),
        listen: Some("127.0.0.1:0".parse().unwrap()),
        tls_listen: None,
        ..ServerConfig::with_defaults()
    })
    .await
    .unwrap();
    let url = format!("http://{}", app.http_addr.unwrap());
    let dev = app.dev_merchant.clone();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(app.run_until(async move {
        let _ = stopped.await;
    }));
    let pem = std::fs::read_to_string(dev.private_key_file.as_ref().unwrap()).unwrap();
    let sleeper = Arc::new(RecordingSleeper::default());
    let config =
        Config::new(Region::Na, Environment::Sandbox, dev.public_key_id, config::private_key_from_pem(&pem).unwrap())
            .service_url(&url)
            .unwrap()
            .sleeper(sleeper.clone());
    Server { client: Client::new(configure(config)).unwrap(), sleeper, _data_dir: data_dir, _stop: stop }
}

impl Server {
    fn waits(&self) -> Vec<Duration> {
        self.sleeper.0.lock().unwrap().clone()
    }

    async fn permission(&self, limit: &str) -> ChargePermissionId {
        let request = CreateTestChargePermissionRequest::default().amount_limit(usd(limit));
        self.client.create_test_charge_permission(&request).await.unwrap().charge_permission_id
    }

    async fn balance(&self, id: &ChargePermissionId) -> Price {
        let permission = self.client.get_charge_permission(id).await.unwrap();
        permission.limits.unwrap().amount_balance.unwrap()
    }

    async fn fault(&self, reason_code: FaultReasonCode, count: u32, operation: &str) {
        let request = AddFaultRequest::error(reason_code, count).operation(operation);
        self.client.add_fault(&request).await.unwrap();
    }

    async fn remaining(&self) -> Vec<u32> {
        self.client.list_faults().await.unwrap().faults.iter().map(|f| f.remaining_count).collect()
    }
}

fn usd(amount: &str) -> Price {
    Price::parse(amount, Currency::Usd).unwrap()
}

const RETRIED_FAULTS: [(FaultReasonCode, u16); 3] = [
    (FaultReasonCode::TooManyRequests, 429),
    (FaultReasonCode::InternalServerError, 500),
    (FaultReasonCode::ServiceUnavailable, 503),
];

#[tokio::test]
async fn two_failed_attempts_then_the_charge_is_created_once_after_growing_waits() {
    for (reason_code, status) in RETRIED_FAULTS {
        let server = start().await;
        let permission = server.permission("100.00").await;
        server.fault(reason_code, 2, "CreateCharge").await;
        let request = CreateChargeRequest::new(permission.clone(), usd("10.00"));
        let charge = server.client.create_charge(&request).await.unwrap_or_else(|e| panic!("{status}: {e}"));
        assert_eq!(charge.charge_permission_id, permission);
        assert_eq!(server.remaining().await, Vec::<u32>::new(), "{status}: both failures were met");
        assert_eq!(server.balance(&permission).await, usd("90.00"), "{status}: one charge");
        let waits = server.waits();
        assert_eq!(waits.len(), 2, "{status}: two retries");
        // Default policy: 2 s then 4 s, each jittered within its upper half.
        assert!(waits[0] >= Duration::from_secs(1) && waits[0] <= Duration::from_secs(2), "{waits:?}");
        assert!(waits[1] >= Duration::from_secs(2) && waits[1] <= Duration::from_secs(4), "{waits:?}");
    }
}

#[tokio::test]
async fn a_caller_chosen_key_survives_the_retries_and_replays_afterwards() {
    let server = start().await;
    let permission = server.permission("100.00").await;
    server.fault(FaultReasonCode::ServiceUnavailable, 1, "CreateCharge").await;
    let request = CreateChargeRequest::new(permission.clone(), usd("10.00"));
    let first = server.client.create_charge(&request).idempotency_key("order-42").await.unwrap();
    let again = server.client.create_charge(&request).idempotency_key("order-42").await.unwrap();
    assert_eq!(again.charge_id, first.charge_id, "the key was recorded by the attempt that ran");
    assert_eq!(server.balance(&permission).await, usd("90.00"));
}

#[tokio::test]
async fn the_retry_bound_holds() {
    let server = start().await;
    let permission = server.permission("100.00").await;
    server.fault(FaultReasonCode::ServiceUnavailable, 10, "GetChargePermission").await;
    let error = server.client.get_charge_permission(&permission).await.unwrap_err();
    let api = error.api().unwrap();
    assert_eq!((api.status, &api.reason_code), (503, &ReasonCode::Known(KnownReasonCode::ServiceUnavailable)));
    assert!(api.request_id.is_some());
    assert_eq!(server.remaining().await, [6], "one attempt and three retries reached the server");
    let waits = server.waits();
    assert_eq!(waits.len(), 3);
    assert!(waits[2] >= Duration::from_secs(4) && waits[2] <= Duration::from_secs(8), "{waits:?}");

    let once = Client::new(server.client.config().clone().retry_policy(RetryPolicy::none())).unwrap();
    assert!(once.get_charge_permission(&permission).await.is_err());
    assert_eq!(server.remaining().await, [5], "RetryPolicy::none sends once");
}

#[tokio::test]
async fn calls_without_an_idempotency_key_that_change_something_are_sent_once() {
    for (reason_code, status) in RETRIED_FAULTS {
        let server = start().await;
        let permission = server.permission("100.00").await;
        let charge = server.client.create_charge(&CreateChargeRequest::new(permission.clone(), usd("10.00"))).await;
        let charge_id = charge.unwrap().charge_id;
        server.fault(reason_code, 1, "UpdateChargePermission").await;
        server.fault(reason_code, 1, "CancelCharge").await;
        // Had either been retried, its retry would have found its fault spent and succeeded.
        let update = UpdateChargePermissionRequest::default();
        let updated = server.client.update_charge_permission(&permission, &update).await.unwrap_err();
        assert_eq!(updated.api().unwrap().status, status);
        let canceled = server.client.cancel_charge(&charge_id, &CancelChargeRequest::new("x")).await.unwrap_err();
        assert_eq!(canceled.api().unwrap().status, status);
        assert_eq!(server.remaining().await, Vec::<u32>::new(), "{status}: each met its fault");
        assert!(server.waits().is_empty(), "{status}: nothing was retried");
        let charge = server.client.get_charge(&charge_id).await.unwrap();
        assert_eq!(charge.status_details.state, ChargeState::Authorized, "the cancel never ran");
    }
}

#[tokio::test]
async fn a_call_that_changes_something_is_retried_once_it_carries_a_key() {
    let server = start().await;
    let permission = server.permission("100.00").await;
    server.fault(FaultReasonCode::ServiceUnavailable, 1, "UpdateChargePermission").await;
    let update = UpdateChargePermissionRequest::default();
    let call = server.client.update_charge_permission(&permission, &update).idempotency_key("update-1");
    assert!(call.is_retried());
    call.await.unwrap();
    assert_eq!(server.waits().len(), 1);
    assert_eq!(server.remaining().await, Vec::<u32>::new());
}

#[tokio::test]
async fn other_errors_are_not_retried_and_come_back_typed() {
    let server = start().await;
    let permission = server.permission("10.00").await;
    let too_much = server.client.create_charge(&CreateChargeRequest::new(permission, usd("5000.00"))).await;
    let api = too_much.unwrap_err().api().cloned().unwrap();
    assert_eq!((api.status, api.reason_code), (400, ReasonCode::Known(KnownReasonCode::TransactionAmountExceeded)));
    let missing = ChargeId::parse("S01-1111111-1111111-C000001").unwrap();
    let api = server.client.get_charge(&missing).await.unwrap_err().api().cloned().unwrap();
    assert_eq!((api.status, api.reason_code), (404, ReasonCode::Known(KnownReasonCode::ResourceNotFound)));
    assert!(api.request_id.is_some());
    assert!(server.waits().is_empty(), "neither was retried");
}

#[tokio::test]
async fn an_answer_slower_than_the_timeout_is_a_timeout_retried_only_when_safe() {
    let timeout = Duration::from_millis(300);
    let server = start_with(|config| config.timeout(timeout)).await;
    let permission = server.permission("100.00").await;
    let slow = |operation: &str| AddFaultRequest::delay(3_000, 1).operation(operation);
    server.client.add_fault(&slow("GetChargePermission")).await.unwrap();
    let read = server.client.get_charge_permission(&permission).await.unwrap();
    assert_eq!(read.charge_permission_id, permission, "the read timed out once, then its retry answered");
    assert_eq!(server.waits().len(), 1);

    server.client.add_fault(&slow("UpdateChargePermission")).await.unwrap();
    let error = server.client.update_charge_permission(&permission, &UpdateChargePermissionRequest::default()).await;
    let error = error.unwrap_err();
    let Error::Transport(transport) = &error else { panic!("{error}") };
    assert!(transport.is_timeout(), "{transport:?}");
    assert_eq!(server.waits().len(), 1, "an update without a key is not retried after a timeout");
}

// ---- Against a local mock, for what the server cannot show ----

/// A status and an optional `Retry-After`.
type Answer = (u16, Option<&'static str>);

/// What the mock answers, in order; the last answer repeats.
#[derive(Clone)]
struct Script {
    answers: Arc<Mutex<VecDeque<Answer>>>,
    /// The idempotency key of each request received.
    seen: Arc<Mutex<Vec<Option<String>>>>,
    /// The method and the path, as received, of each request.
    requests: Arc<Mutex<Vec<(String, String)>>>,
}

async fn answer(State(script): State<Script>, request: Request) -> AxumResponse {
    let key = request.headers().get(IDEMPOTENCY_KEY_HEADER).map(|v| v.to_str().unwrap().to_owned());
    script.seen.lock().unwrap().push(key);
    script.requests.lock().unwrap().push((request.method().to_string(), request.uri().path().to_owned()));
    let (status, retry_after) = {
        let mut answers = script.answers.lock().unwrap();
        if answers.len() > 1 { answers.pop_front().unwrap() } else { *answers.front().unwrap() }
    };
    let body = if status < 300 {
        r#"{"chargeId":"S01-1111111-1111111-C000001","chargePermissionId":"S01-1111111-1111111","chargeAmount":{"amount":"1.00","currencyCode":"USD"},"statusDetails":{"state":"Authorized"}}"#.to_owned()
    } else {
        format!(r#"{{"reasonCode":"Status{status}","message":"scripted"}}"#)
    };
    let mut response = AxumResponse::builder().status(status).header("x-amz-pay-request-id", "req-1");
    if let Some(after) = retry_after {
        response = response.header("retry-after", after);
    }
    response.body(Body::from(body)).unwrap()
}

struct Mock {
    script: Script,
    sleeper: Arc<RecordingSleeper>,
    client: Client,
}

fn key() -> amzpay_sdk::signing::PrivateKey {
    let pem =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/spec/vectors/test-key.pem"))
            .unwrap();
    config::private_key_from_pem(&pem).unwrap()
}

async fn start_mock(answers: &[(u16, Option<&'static str>)]) -> Mock {
    let script = Script {
        answers: Arc::new(Mutex::new(answers.iter().copied().collect())),
        seen: Arc::default(),
        requests: Arc::default(),
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let app = axum::Router::new().fallback(answer).with_state(script.clone());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let sleeper = Arc::new(RecordingSleeper::default());
    let config = Config::new(Region::Na, Environment::Sandbox, "SANDBOX-MOCK", key())
        .service_url(&format!("http://{address}"))
        .unwrap()
        .sleeper(sleeper.clone());
    Mock { script, sleeper, client: Client::new(config).unwrap() }
}

fn charge_request() -> CreateChargeRequest {
    CreateChargeRequest::new(permission_id(), Price::parse("1.00", Currency::Usd).unwrap())
}

fn permission_id() -> ChargePermissionId {
    ChargePermissionId::parse("S01-1111111-1111111").unwrap()
}

fn charge_id() -> ChargeId {
    ChargeId::parse("S01-1111111-1111111-C000001").unwrap()
}

/// Every retryable status, the ones amzpay never answers with included, and the key of
/// every attempt, which the server cannot show.
#[tokio::test]
async fn every_retryable_status_is_retried_with_one_idempotency_key_on_every_attempt() {
    for status in [408u16, 425, 429, 500, 502, 503, 504] {
        let mock = start_mock(&[(status, None), (status, None), (201, None)]).await;
        let charge = mock.client.create_charge(&charge_request()).await.unwrap_or_else(|e| panic!("{status}: {e}"));
        assert_eq!(charge.charge_id, charge_id());
        let seen = mock.script.seen.lock().unwrap().clone();
        assert_eq!(seen.len(), 3, "{status}: two retries");
        assert!(seen[0].as_ref().is_some_and(|k| k.len() == 32), "a generated key: {seen:?}");
        assert!(seen.iter().all(|k| *k == seen[0]), "{status}: the same key on every attempt: {seen:?}");
        assert_eq!(mock.sleeper.0.lock().unwrap().len(), 2);
    }
    let mock = start_mock(&[(503, None), (201, None)]).await;
    mock.client.create_charge(&charge_request()).idempotency_key("order-42").await.unwrap();
    assert_eq!(mock.script.seen.lock().unwrap().clone(), vec![Some("order-42".to_owned()); 2]);
    let mock = start_mock(&[(503, None), (201, None)]).await;
    mock.client.get_charge(&charge_id()).await.unwrap();
    assert_eq!(mock.script.seen.lock().unwrap().clone(), vec![None, None], "GET carries no idempotency key");
}

#[tokio::test]
async fn unknown_reason_codes_and_statuses_are_not_retried_and_come_back_as_other() {
    for status in [401u16, 403, 409, 422] {
        let mock = start_mock(&[(status, None), (201, None)]).await;
        let error = mock.client.create_charge(&charge_request()).await.unwrap_err();
        let api = error.api().unwrap_or_else(|| panic!("{status}: {error}"));
        assert_eq!(api.status, status);
        assert_eq!(api.reason_code, ReasonCode::Other(format!("Status{status}")));
        assert_eq!(api.request_id.as_deref(), Some("req-1"));
        assert_eq!(mock.script.seen.lock().unwrap().len(), 1, "{status} is not retried");
        assert!(mock.sleeper.0.lock().unwrap().is_empty());
    }
}

#[tokio::test]
async fn retry_after_is_honored_up_to_the_cap() {
    let mock = start_mock(&[(429, Some("7")), (503, Some("600")), (201, None)]).await;
    mock.client.create_charge(&charge_request()).await.unwrap();
    let waits = mock.sleeper.0.lock().unwrap().clone();
    assert_eq!(waits, vec![Duration::from_secs(7), RetryPolicy::default().max_delay]);
}

#[tokio::test]
async fn only_reads_and_keyed_calls_are_ever_retried() {
    let update = UpdateChargePermissionRequest::default();
    let close = CloseChargePermissionRequest::new("done");
    let client = client_for_cases();
    let cases: Vec<(&str, Call<serde_json::Value>)> = vec![
        ("update (PATCH)", client.update_charge_permission(&permission_id(), &update).into_json()),
        ("close (DELETE)", client.close_charge_permission(&permission_id(), &close).into_json()),
        ("cancel (DELETE)", client.cancel_charge(&charge_id(), &CancelChargeRequest::new("x")).into_json()),
        ("buyer action (POST)", client.buyer_action(&permission_id(), &BuyerAction::Close).into_json()),
        ("amazon action (POST)", client.amazon_action(&charge_id(), AmazonAction::Cancel).into_json()),
        (
            "add fault (POST)",
            client.add_fault(&AddFaultRequest::error(FaultReasonCode::ServiceUnavailable, 1)).into_json(),
        ),
        ("clear faults (DELETE)", client.clear_faults().into_json()),
        ("raw POST", client.raw(Method::Post, &["testHelpers", "checkoutSessions", "x", "confirm"], None)),
    ];
    for (label, call) in cases {
        assert!(!call.is_retried(), "{label}");
    }
    assert!(client.list_faults().is_retried(), "listing faults is a GET");
}

#[tokio::test]
async fn the_clock_helpers_are_never_retried_not_even_with_a_key() {
    let mock = start_mock(&[(503, None), (200, None)]).await;
    let advance = mock.client.advance_clock(&AdvanceClockRequest::new(60)).idempotency_key("advance-1");
    assert!(!advance.is_retried());
    assert_eq!(advance.await.unwrap_err().api().unwrap().status, 503);
    assert!(!mock.client.freeze_clock().is_retried());
    assert!(!mock.client.unfreeze_clock().is_retried());
    assert!(mock.client.get_clock().is_retried(), "reading the clock is a GET");
    let requests = mock.script.requests.lock().unwrap().clone();
    assert_eq!(requests, [("POST".to_owned(), "/v2/testHelpers/clock/advance".to_owned())], "sent once");
    assert!(mock.sleeper.0.lock().unwrap().is_empty());
}

#[tokio::test]
async fn transport_failures_are_retried_then_reported_apart() {
    // A port that was just free: nothing listens, connections are refused.
    let address = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let sleeper = Arc::new(RecordingSleeper::default());
    let config = Config::new(Region::Na, Environment::Sandbox, "SANDBOX-MOCK", key())
        .service_url(&format!("http://{address}"))
        .unwrap()
        .sleeper(sleeper.clone());
    let error = Client::new(config).unwrap().create_charge(&charge_request()).await.unwrap_err();
    let Error::Transport(transport) = &error else { panic!("{error}") };
    assert!(transport.is_connect(), "{transport:?}");
    assert!(!transport.is_timeout());
    assert!(std::error::Error::source(transport).is_some(), "the HTTP library's error is kept as the source");
    assert_eq!(sleeper.0.lock().unwrap().len(), 3);
}

#[tokio::test]
async fn a_transport_failure_of_a_call_without_a_key_is_not_retried() {
    let address = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let sleeper = Arc::new(RecordingSleeper::default());
    let config = Config::new(Region::Na, Environment::Sandbox, "SANDBOX-MOCK", key())
        .service_url(&format!("http://{address}"))
        .unwrap()
        .sleeper(sleeper.clone());
    let client = Client::new(config).unwrap();
    let error = client.cancel_charge(&charge_id(), &CancelChargeRequest::new("x")).await.unwrap_err();
    assert!(matches!(error, Error::Transport(_)), "{error}");
    assert!(sleeper.0.lock().unwrap().is_empty());
}

#[tokio::test]
async fn ids_are_sent_percent_encoded_as_one_path_segment() {
    let mock = start_mock(&[(404, None)]).await;
    let id = CheckoutSessionId::new("a/b c?d#e%f");
    mock.client.get_checkout_session(&id).await.unwrap_err();
    mock.client.raw(Method::Post, &["checkoutSessions", id.as_str(), "complete"], None).await.unwrap_err();
    let requests = mock.script.requests.lock().unwrap().clone();
    assert_eq!(
        requests,
        [
            ("GET".to_owned(), "/v2/checkoutSessions/a%2Fb%20c%3Fd%23e%25f".to_owned()),
            ("POST".to_owned(), "/v2/checkoutSessions/a%2Fb%20c%3Fd%23e%25f/complete".to_owned()),
        ]
    );
    let call = mock.client.get_charge(&charge_id());
    assert_eq!(call.path(), "/v2/charges/S01-1111111-1111111-C000001");
}

/// A client for checking calls that are never sent.
fn client_for_cases() -> Client {
    Client::new(Config::new(Region::Na, Environment::Sandbox, "SANDBOX-MOCK", key())).unwrap()
}
