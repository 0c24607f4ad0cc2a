//! The SDK against a real amzpay server: every operation the server implements, over HTTP
//! and HTTPS, with both algorithms and both key styles, and each error as a typed value.

use amzpay_sdk::*;
use amzpay_server::merchants::{KeyStyle, NewMerchant, create_merchant};
use amzpay_server::{Application, Config as ServerConfig, system_now};

struct Server {
    http: String,
    https: String,
    certificate: Vec<u8>,
    dev: (String, String),
    legacy: (String, String),
    _data_dir: tempfile::TempDir,
    _stop: tokio::sync::oneshot::Sender<()>,
}

async fn start() -> Server {
    let data_dir = tempfile::tempdir().unwrap();
    let app = Application::build(ServerConfig {
        data_dir: data_dir.path().to_owned(),
        listen: Some("127.0.0.1:0".parse().unwrap()),
        tls_listen: Some("127.0.0.1:0".parse().unwrap()),
        database: None,
        delays: amzpay_server::config::SandboxDelays::DEFAULT,
        public_url: None,
        admin_token: None,
        ipn: Default::default(),
        limits: amzpay_server::config::ConnectionLimits::DEFAULT,
        retention: amzpay_server::config::Retention::DEFAULT,
    })
    .await
    .unwrap();
    let new = NewMerchant { region: Region::Na, public_key_pem: None, ipn_url: None, key_style: KeyStyle::Legacy };
    let legacy = create_merchant(app.store().as_ref(), data_dir.path(), new, system_now(), None).await.unwrap();
    let dev = app.dev_merchant.clone();
    let http = format!("http://{}", app.http_addr.unwrap());
    let https = format!("localhost:{}", app.https_addr.unwrap().port());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(app.run_until(async move {
        let _ = stopped.await;
    }));
    let certificate = std::fs::read(data_dir.path().join("tls-cert.pem")).unwrap();
    let pair = |d: &amzpay_server::merchants::MerchantDescription| {
        (d.public_key_id.clone(), std::fs::read_to_string(d.private_key_file.as_ref().unwrap()).unwrap())
    };
    Server { http, https, certificate, dev: pair(&dev), legacy: pair(&legacy), _data_dir: data_dir, _stop: stop }
}

fn client(key: &(String, String), url: &str, algorithm: Algorithm, certificate: Option<&[u8]>) -> Client {
    let private = config::private_key_from_pem(&key.1).unwrap();
    let mut config = Config::new(Region::Na, Environment::Sandbox, key.0.clone(), private)
        .algorithm(algorithm)
        .service_url(url)
        .unwrap();
    if let Some(pem) = certificate {
        config = config.root_certificate_pem(pem.to_vec());
    }
    Client::new(config).unwrap()
}

fn usd(amount: &str) -> Price {
    Price::parse(amount, Currency::Usd).unwrap()
}

async fn new_permission(client: &Client, limit: &str) -> ChargePermission {
    let request = CreateTestChargePermissionRequest::default().amount_limit(usd(limit));
    client.create_test_charge_permission(&request).await.unwrap()
}

#[tokio::test]
async fn every_operation_works_for_both_algorithms_key_styles_and_transports() {
    let server = start().await;
    let clients = [
        ("dev over http, V2", client(&server.dev, &server.http, Algorithm::V2, None)),
        ("dev over https, V1", client(&server.dev, &server.https, Algorithm::V1, Some(&server.certificate))),
        ("legacy over http, V1", client(&server.legacy, &server.http, Algorithm::V1, None)),
        ("legacy over https, V2", client(&server.legacy, &server.https, Algorithm::V2, Some(&server.certificate))),
    ];
    for (label, client) in clients {
        let permission = new_permission(&client, "100.00").await;
        assert_eq!(permission.status_details.state, ChargePermissionState::Chargeable, "{label}");
        assert_eq!(permission.charge_permission_type, Some(ChargePermissionType::OneTime));
        let id = permission.charge_permission_id.clone();

        let got = client.get_charge_permission(&id).send().await.unwrap();
        assert_eq!(got.status, 200);
        assert!(got.request_id.is_some());
        assert_eq!(got.body.limits.unwrap().amount_balance, Some(usd("100.00")));

        let update = UpdateChargePermissionRequest::default()
            .merchant_metadata(MerchantMetadata::default().merchant_reference_id("order-1"));
        let updated = client.update_charge_permission(&id, &update).await.unwrap();
        assert_eq!(updated.merchant_metadata.unwrap().merchant_reference_id.as_deref(), Some("order-1"));

        let created = client.create_charge(&CreateChargeRequest::new(id.clone(), usd("14.00"))).send().await.unwrap();
        assert_eq!(created.status, 201);
        let charge = created.body;
        assert_eq!(charge.status_details.state, ChargeState::Authorized, "{label}");
        assert_eq!(charge.charge_amount, usd("14.00"));
        assert_eq!(client.get_charge(&charge.charge_id).await.unwrap(), charge);

        let capture = CaptureChargeRequest::new(usd("14.00")).soft_descriptor("Shop");
        let captured = client.capture_charge(&charge.charge_id, &capture).await.unwrap();
        assert_eq!(captured.status_details.state, ChargeState::Captured);
        assert_eq!(captured.capture_amount, Some(usd("14.00")));

        let refund_request = CreateRefundRequest::new(charge.charge_id.clone(), usd("4.00"));
        let refund = client.create_refund(&refund_request).await.unwrap();
        assert_eq!(refund.status_details.state, RefundState::RefundInitiated);
        assert_eq!(client.get_refund(&refund.refund_id).await.unwrap(), refund);

        let second = client.create_charge(&CreateChargeRequest::new(id.clone(), usd("5"))).await.unwrap();
        let canceled =
            client.cancel_charge(&second.charge_id, &CancelChargeRequest::new("changed mind")).await.unwrap();
        assert_eq!(canceled.status_details.state, ChargeState::Canceled);
        assert_eq!(canceled.status_details.reason_code.as_deref(), Some("MerchantCanceled"));

        let close = CloseChargePermissionRequest::new("done").cancel_pending_charges(true);
        let closed = client.close_charge_permission(&id, &close).await.unwrap();
        assert_eq!(closed.status_details.state, ChargePermissionState::Closed);
        assert_eq!(closed.status_details.reasons.unwrap()[0].reason_code, "MerchantClosed");
    }
}

fn known(error: &Error) -> KnownReasonCode {
    match error.reason_code() {
        Some(ReasonCode::Known(code)) => *code,
        other => panic!("expected a known reason code, got {other:?} from {error}"),
    }
}

#[tokio::test]
async fn errors_come_back_typed() {
    let server = start().await;
    let client = client(&server.dev, &server.http, Algorithm::V2, None);
    let permission = new_permission(&client, "10.00").await;
    let id = permission.charge_permission_id;

    let missing = client.get_charge(&ChargeId::parse("S01-0000000-0000000-C000001").unwrap()).await.unwrap_err();
    assert_eq!(known(&missing), KnownReasonCode::ResourceNotFound);
    assert_eq!(missing.api().unwrap().status, 404);
    assert!(missing.api().unwrap().request_id.is_some());

    let too_much = client.create_charge(&CreateChargeRequest::new(id.clone(), usd("10.01"))).await.unwrap_err();
    assert_eq!(known(&too_much), KnownReasonCode::TransactionAmountExceeded);
    assert_eq!(too_much.api().unwrap().status, 400);

    let mut euros = CreateChargeRequest::new(id.clone(), Price::parse("1", Currency::Eur).unwrap());
    euros.capture_now = Some(true);
    assert_eq!(known(&client.create_charge(&euros).await.unwrap_err()), KnownReasonCode::CurrencyMismatch);

    let charge = client.create_charge(&CreateChargeRequest::new(id.clone(), usd("5"))).await.unwrap();
    client.cancel_charge(&charge.charge_id, &CancelChargeRequest::new("x")).await.unwrap();
    let capture = CaptureChargeRequest::new(usd("5"));
    let status = client.capture_charge(&charge.charge_id, &capture).await.unwrap_err();
    assert_eq!(known(&status), KnownReasonCode::InvalidChargeStatus);
    assert_eq!(status.api().unwrap().status, 422);

    let close = CloseChargePermissionRequest::new("done");
    client.close_charge_permission(&id, &close).await.unwrap();
    let closed = client.close_charge_permission(&id, &close).await.unwrap_err();
    assert_eq!(known(&closed), KnownReasonCode::InvalidChargePermissionStatus);

    // The same idempotency key for a different request.
    let fresh = new_permission(&client, "10.00").await.charge_permission_id;
    client.create_charge(&CreateChargeRequest::new(fresh.clone(), usd("1"))).idempotency_key("same-key").await.unwrap();
    let reused = client
        .create_charge(&CreateChargeRequest::new(fresh.clone(), usd("2")))
        .idempotency_key("same-key")
        .await
        .unwrap_err();
    assert_eq!(known(&reused), KnownReasonCode::DuplicateIdempotencyKey);

    // A key the server does not know, and a key that does not match the id.
    let stranger = config::private_key_from_pem(&server.legacy.1).unwrap();
    let wrong_key = Client::new(
        Config::new(Region::Na, Environment::Sandbox, server.dev.0.clone(), stranger)
            .service_url(&server.http)
            .unwrap(),
    )
    .unwrap();
    let signature = wrong_key.get_charge_permission(&fresh).await.unwrap_err();
    assert_eq!(known(&signature), KnownReasonCode::InvalidRequestSignature);
    assert!(signature.api().unwrap().message.contains("string to sign"));

    // Extra headers are signed and sent.
    let with_header = client.get_charge_permission(&fresh).header("x-amz-pay-sdk-test", "1").await.unwrap();
    assert_eq!(with_header.charge_permission_id, fresh);

    // An unknown checkout session is a typed 404.
    let session = client.get_checkout_session(&"9d6bbc5a-3e93-4a0b-a2df-1f3a6c1c7c6c".into()).await.unwrap_err();
    assert_eq!(session.api().unwrap().status, 404);

    // An id that needs encoding is sent as one segment, signed as sent, and not found.
    let odd = client.get_checkout_session(&"no such/session?".into()).await.unwrap_err();
    assert_eq!(known(&odd), KnownReasonCode::ResourceNotFound, "{odd}");
}

#[tokio::test]
async fn checkout_sessions_run_from_create_to_complete() {
    let server = start().await;
    let client = client(&server.dev, &server.http, Algorithm::V2, None);
    let store_id = {
        let text = std::fs::read_to_string(server._data_dir.path().join("dev-merchant.json")).unwrap();
        serde_json::from_str::<serde_json::Value>(&text).unwrap()["storeId"].as_str().unwrap().to_owned()
    };
    for intent in [PaymentIntent::Confirm, PaymentIntent::Authorize, PaymentIntent::AuthorizeWithCapture] {
        let create = CreateCheckoutSessionRequest::new(
            store_id.clone(),
            WebCheckoutDetails::default().checkout_review_return_url("https://shop.example/review"),
        );
        let created = client.create_checkout_session(&create).send().await.unwrap();
        assert_eq!(created.status, 201);
        let session = created.body;
        assert_eq!(session.status_details.as_ref().unwrap().state, CheckoutSessionState::Open);
        assert_eq!(session.constraints.as_ref().unwrap().len(), 4);
        let id = session.checkout_session_id.clone();

        let signed_in = client
            .raw(
                Method::Post,
                &["testHelpers", "checkoutSessions", id.as_str(), "signIn"],
                Some(&serde_json::json!({"paymentMethod": "1111"})),
            )
            .await
            .unwrap();
        assert_eq!(signed_in["buyer"]["name"], "Sandbox Buyer");
        let got = client.get_checkout_session(&id).await.unwrap();
        assert_eq!(got.shipping_address.as_ref().unwrap().country_code.as_deref(), Some("US"));
        assert_eq!(got.shipping_address_list, None, "single-address sessions have no list");

        let update = UpdateCheckoutSessionRequest::default()
            .web_checkout_details(
                WebCheckoutDetails::default().checkout_result_return_url("https://shop.example/result"),
            )
            .payment_details(PaymentDetails::default().payment_intent(intent).charge_amount(usd("20.00")));
        let updated = client.update_checkout_session(&id, &update).await.unwrap();
        assert!(updated.web_checkout_details.unwrap().amazon_pay_redirect_url.is_some());
        client.raw(Method::Post, &["testHelpers", "checkoutSessions", id.as_str(), "confirm"], None).await.unwrap();

        let mismatch = client
            .complete_checkout_session(&id, &CompleteCheckoutSessionRequest::new(usd("19.00")))
            .await
            .unwrap_err();
        assert_eq!(known(&mismatch), KnownReasonCode::AmountMismatch);
        let completed =
            client.complete_checkout_session(&id, &CompleteCheckoutSessionRequest::new(usd("20.00"))).await.unwrap();
        assert_eq!(completed.status_details.unwrap().state, CheckoutSessionState::Completed);
        assert_eq!(completed.charge_id.is_some(), intent != PaymentIntent::Confirm);
        let permission = client.get_charge_permission(completed.charge_permission_id.as_ref().unwrap()).await.unwrap();
        assert_eq!(permission.charge_permission_type, Some(ChargePermissionType::OneTime));
        let again = client.update_checkout_session(&id, &UpdateCheckoutSessionRequest::default()).await.unwrap_err();
        assert_eq!(known(&again), KnownReasonCode::InvalidCheckoutSessionStatus);
    }

    // Finalize: set the amount and complete in one call.
    let create = CreateCheckoutSessionRequest::new(
        store_id,
        WebCheckoutDetails::default()
            .checkout_review_return_url("https://shop.example/review")
            .checkout_result_return_url("https://shop.example/result"),
    )
    .payment_details(PaymentDetails::default().payment_intent(PaymentIntent::Authorize).charge_amount(usd("5.00")));
    let id = client.create_checkout_session(&create).await.unwrap().checkout_session_id;
    client
        .raw(Method::Post, &["testHelpers", "checkoutSessions", id.as_str(), "signIn"], Some(&serde_json::json!({})))
        .await
        .unwrap();
    client.raw(Method::Post, &["testHelpers", "checkoutSessions", id.as_str(), "confirm"], None).await.unwrap();
    let finalize =
        FinalizeCheckoutSessionRequest::default().charge_amount(usd("5.00")).payment_intent(PaymentIntent::Authorize);
    let finalized = client.finalize_checkout_session(&id, &finalize).await.unwrap();
    assert_eq!(finalized.status_details.unwrap().state, CheckoutSessionState::Completed);
}

#[tokio::test]
async fn buyer_and_amazon_actions_are_sent_as_typed_values() {
    let server = start().await;
    let client = client(&server.dev, &server.http, Algorithm::V2, None);
    let permission = new_permission(&client, "50.00").await.charge_permission_id;

    let charge = client.create_charge(&CreateChargeRequest::new(permission.clone(), usd("5.00"))).await.unwrap();
    let flagged = client.amazon_action(&charge.charge_id, AmazonAction::FlagAtypicalActivity).await.unwrap();
    assert_eq!(flagged.status_details.reason_code.as_deref(), Some("StopShipmentAtypicalAuth"));
    let canceled = client.amazon_action(&charge.charge_id, AmazonAction::Cancel).await.unwrap();
    assert_eq!(canceled.status_details.state, ChargeState::Canceled);
    assert_eq!(canceled.status_details.reason_code.as_deref(), Some("AmazonCanceled"));

    let update = BuyerAction::UpdatePaymentMethod { payment_method: "4444".into() };
    let updated = client.buyer_action(&permission, &update).await.unwrap();
    assert_eq!(updated.status_details.state, ChargePermissionState::Chargeable);
    let closed = client.buyer_action(&permission, &BuyerAction::Close).await.unwrap();
    assert_eq!(closed.status_details.state, ChargePermissionState::Closed);
    assert_eq!(closed.status_details.reasons.unwrap()[0].reason_code, "BuyerClosed");
}

#[tokio::test]
async fn the_ipn_test_helpers_read_what_the_server_delivers() {
    let server = start().await;
    let client = client(&server.dev, &server.http, Algorithm::V2, None);
    // A receiver that answers 200 to every notification.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/ipn", listener.local_addr().unwrap());
    let (sender, mut received) = tokio::sync::mpsc::unbounded_channel::<String>();
    let app = axum::Router::new().route(
        "/ipn",
        axum::routing::post(move |body: String| {
            let sender = sender.clone();
            async move {
                let _ = sender.send(body);
                "ok"
            }
        }),
    );
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    assert_eq!(client.get_ipn_endpoint().await.unwrap().url, None);
    let set = client.set_ipn_endpoint(&SetIpnEndpointRequest::new(url.clone())).await.unwrap();
    assert_eq!(set.url.as_deref(), Some(url.as_str()));
    let permission = new_permission(&client, "10.00").await;
    let body = tokio::time::timeout(std::time::Duration::from_secs(15), received.recv()).await.unwrap().unwrap();
    assert!(body.contains(permission.charge_permission_id.as_str()));
    // The receiver answered; the server records the outcome right after.
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(15);
    let delivered = loop {
        let list = client.list_notifications(Some(5)).await.unwrap();
        let first = list.notifications[0].clone();
        if first.status != NotificationStatus::Pending {
            break first;
        }
        assert!(tokio::time::Instant::now() < deadline, "{first:?}");
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    };
    assert_eq!(delivered.status, NotificationStatus::Delivered);
    assert_eq!(delivered.charge_permission_id, permission.charge_permission_id);
    assert_eq!(delivered.object_type, "CHARGE_PERMISSION");
    assert_eq!(delivered.attempts.len(), 1);
    assert_eq!(delivered.attempts[0].status_code, Some(200));
    let again = client.redeliver_notification(&delivered.notification_id).await.unwrap();
    assert_eq!(again.status, NotificationStatus::Pending);
    let redelivered = tokio::time::timeout(std::time::Duration::from_secs(15), received.recv()).await.unwrap().unwrap();
    assert_eq!(redelivered, body, "the same signed envelope");
    let cleared = client.set_ipn_endpoint(&SetIpnEndpointRequest::clear()).await.unwrap();
    assert_eq!(cleared.url, None);
}
