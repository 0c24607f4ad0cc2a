//! Instant Payment Notifications through a real receiver: every flow notifies exactly its
//! state changes, each envelope signed and verifiable against the certificate its
//! `SigningCertURL` serves; failed deliveries are retried (5xx) or not (4xx), every attempt
//! logged; a dead receiver holds nothing up; OpenSSL (through Node.js) verifies them too.

mod support;

use std::collections::{BTreeSet, HashMap};
use std::time::Duration;

use amzpay_server::config::IpnDelivery;
use serde_json::{Value, json};
use support::receiver::{Answer, Received, Receiver};
use support::*;

const WAIT: Duration = Duration::from_secs(15);
const DAY: i64 = 86_400;

/// Fast retries, a short timeout: the schedule is the server's to follow, not the test's.
fn fast() -> IpnDelivery {
    IpnDelivery { timeout_ms: 1_000, retry_delays_ms: vec![50], retry_for_ms: 60_000, ..IpnDelivery::default() }
}

async fn set_endpoint(app: &TestApp, url: Option<&str>) -> Response {
    app.dev("PUT", "/v2/testHelpers/ipnEndpoint").json(&json!({ "url": url })).send().await
}

async fn setup() -> (TestApp, Receiver) {
    let app = TestApp::spawn_with(Some(fast())).await;
    let receiver = Receiver::start().await;
    set_endpoint(&app, Some(&receiver.url)).await.assert_status(200);
    app.freeze().await;
    (app, receiver)
}

/// The delivery log, oldest first.
async fn log(app: &TestApp) -> Vec<Value> {
    let mut entries =
        app.get("/v2/testHelpers/notifications?limit=500").await["notifications"].as_array().unwrap().clone();
    entries.reverse();
    entries
}

/// The log once no notification is Pending any more (an outcome is recorded just after the
/// receiver answers).
async fn settled(app: &TestApp) -> Vec<Value> {
    log_until(app, |entries| entries.iter().all(|n| n["status"] != "Pending")).await
}

/// The log once `done` holds of it (deliveries happen beside the test, in real time).
async fn log_until(app: &TestApp, done: impl Fn(&[Value]) -> bool) -> Vec<Value> {
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

/// Verifies a received notification as a receiver must: the SNS headers match the
/// envelope, and the signature verifies against the certificate fetched from
/// `SigningCertURL` (here, by the SDK's verifier). Returns the message.
async fn verified(app: &TestApp, received: &Received, certificates: &mut HashMap<String, String>) -> Value {
    let header = |name: &str| received.headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
    assert_eq!(header("content-type"), "text/plain; charset=UTF-8");
    let envelope = received.envelope();
    assert_eq!(header("x-amz-sns-message-type"), "Notification");
    assert_eq!(header("x-amz-sns-message-id"), envelope["MessageId"].as_str().unwrap());
    assert_eq!(header("x-amz-sns-topic-arn"), envelope["TopicArn"].as_str().unwrap());
    assert_eq!(envelope["SignatureVersion"], "1");
    // Published in real time, whatever the sandbox clock says.
    let published = time::OffsetDateTime::parse(
        envelope["Timestamp"].as_str().unwrap(),
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap();
    assert!((time::OffsetDateTime::now_utc() - published).abs() < time::Duration::minutes(5), "{envelope}");
    let url = envelope["SigningCertURL"].as_str().unwrap().to_owned();
    // HTTPS, as receivers' validators require: the server's own TLS listener.
    assert_eq!(url, format!("{}/sns/amzpay-sns.pem", app.https));
    if !certificates.contains_key(&url) {
        let pem = app.client.get(&url).send().await.unwrap().text().await.unwrap();
        certificates.insert(url.clone(), pem);
    }
    let parsed = amzpay_sdk::ipn::SnsEnvelope::parse(&received.body).unwrap();
    parsed.verify_with_certificate(&certificates[&url]).expect("the signature verifies");
    received.message()
}

type Expected<'a> = (&'a str, &'a str, &'a str);

/// What the receiver got, verified, by notification id.
struct Inbox {
    receiver: Receiver,
    seen: BTreeSet<String>,
    certificates: HashMap<String, String>,
}

impl Inbox {
    async fn record(&mut self, app: &TestApp, received: Received) {
        let message = verified(app, &received, &mut self.certificates).await;
        assert_eq!(message["MerchantID"], app.dev.merchant_id.as_str());
        assert_eq!(message["NotificationVersion"], "V2");
        let id = message["NotificationId"].as_str().unwrap().to_owned();
        assert!(self.seen.insert(id), "a notification arrived twice: {message}");
    }

    /// Records what has arrived already, without waiting; returns how many.
    async fn arrived_now(&mut self, app: &TestApp) -> usize {
        let got = self.receiver.drain();
        let count = got.len();
        for received in got {
            self.record(app, received).await;
        }
        count
    }

    /// The notifications of one permission are exactly `expected` (object type, object
    /// id, notification type; oldest first) in the log, all Delivered at the first
    /// attempt, and each arrived once, signed.
    async fn expect(&mut self, app: &TestApp, permission: &str, expected: &[Expected<'_>]) {
        let mine = |entries: Vec<Value>| -> Vec<Value> {
            entries.into_iter().filter(|n| n["chargePermissionId"] == permission).collect()
        };
        let logged = mine(log(app).await);
        let triples: Vec<(String, String, String)> = logged
            .iter()
            .map(|n| {
                let text = |key: &str| n[key].as_str().unwrap().to_owned();
                (text("objectType"), text("objectId"), text("notificationType"))
            })
            .collect();
        let wanted: Vec<(String, String, String)> =
            expected.iter().map(|(a, b, c)| (a.to_string(), b.to_string(), c.to_string())).collect();
        assert_eq!(triples, wanted, "the notifications of {permission}");
        let ids: BTreeSet<String> = logged.iter().map(|n| n["notificationId"].as_str().unwrap().to_owned()).collect();
        let deadline = tokio::time::Instant::now() + WAIT;
        while !ids.is_subset(&self.seen) {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            let Some(received) = self.receiver.next(left).await else {
                panic!(
                    "{} of {} notifications of {permission} arrived",
                    ids.intersection(&self.seen).count(),
                    ids.len()
                )
            };
            self.record(app, received).await;
        }
        // The receiver answered; the server records the outcome right after.
        for entry in mine(settled(app).await) {
            assert_eq!(entry["status"], "Delivered", "{entry}");
            assert_eq!(entry["attempts"].as_array().unwrap().len(), 1, "{entry}");
            assert_eq!(entry["attempts"][0]["statusCode"], 200);
        }
    }
}

async fn charge(app: &TestApp, permission: &str, extra: Value) -> Response {
    let mut body =
        json!({"chargePermissionId": permission, "chargeAmount": {"amount": "10.00", "currencyCode": "USD"}});
    body.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
    app.dev("POST", "/v2/charges").key(&new_key()).json(&body).send().await
}

async fn charge_id(app: &TestApp, permission: &str, extra: Value) -> String {
    charge(app, permission, extra).await.assert_status(201)["chargeId"].as_str().unwrap().to_owned()
}

async fn capture(app: &TestApp, charge: &str) -> Value {
    app.dev("POST", format!("/v2/charges/{charge}/capture"))
        .key(&new_key())
        .json(&json!({"captureAmount": {"amount": "10.00", "currencyCode": "USD"}}))
        .send()
        .await
        .assert_status(200)
        .clone()
}

const CP: &str = "CHARGE_PERMISSION";
const CH: &str = "CHARGE";
const RE: &str = "REFUND";
const STATE: &str = "STATE_CHANGE";

#[tokio::test]
async fn every_flow_notifies_exactly_its_state_changes_signed() {
    let (app, receiver) = setup().await;
    let mut inbox = Inbox { receiver, seen: BTreeSet::new(), certificates: HashMap::new() };

    // Authorize.
    let p = app.one_time("100.00").await;
    let c = charge_id(&app, &p, json!({})).await;
    inbox.expect(&app, &p, &[(CP, &p, STATE), (CH, &c, STATE)]).await;

    // Authorize and capture.
    let p = app.one_time("100.00").await;
    let c = charge_id(&app, &p, json!({})).await;
    assert_eq!(capture(&app, &c).await["statusDetails"]["state"], "Captured");
    inbox.expect(&app, &p, &[(CP, &p, STATE), (CH, &c, STATE), (CH, &c, STATE)]).await;

    // A pending authorization resolves: the advance delivers before it answers.
    let p = app
        .permission(&app.dev, json!({"amountLimit": {"amount": "100", "currencyCode": "USD"}, "paymentMethod": "0701"}))
        .await;
    let c = charge_id(&app, &p, json!({"canHandlePendingAuthorization": true})).await;
    inbox.expect(&app, &p, &[(CP, &p, STATE), (CH, &c, STATE)]).await;
    app.advance(30).await;
    assert_eq!(inbox.arrived_now(&app).await, 1, "attempted before the advance answered");
    assert_eq!(app.get(&format!("/v2/charges/{c}")).await["statusDetails"]["state"], "Authorized");
    inbox.expect(&app, &p, &[(CP, &p, STATE), (CH, &c, STATE), (CH, &c, STATE)]).await;

    // A pending authorization is declined (HardDeclined): the recurring permission becomes
    // NonChargeable with it.
    let p = app.permission(&app.dev, json!({"chargePermissionType": "Recurring", "paymentMethod": "4354"})).await;
    let c = charge_id(&app, &p, json!({"canHandlePendingAuthorization": true})).await;
    inbox.expect(&app, &p, &[(CP, &p, STATE), (CH, &c, STATE)]).await;
    app.advance(30).await;
    assert_eq!(inbox.arrived_now(&app).await, 2, "the charge and the permission, before the advance answered");
    inbox.expect(&app, &p, &[(CP, &p, STATE), (CH, &c, STATE), (CH, &c, STATE), (CP, &p, STATE)]).await;

    // An asynchronous capture (more than 7 days after authorizing) completes.
    let p = app.one_time("100.00").await;
    let c = charge_id(&app, &p, json!({})).await;
    app.advance(8 * DAY).await;
    assert_eq!(capture(&app, &c).await["statusDetails"]["state"], "CaptureInitiated");
    app.advance(30).await;
    inbox.expect(&app, &p, &[(CP, &p, STATE), (CH, &c, STATE), (CH, &c, STATE), (CH, &c, STATE)]).await;

    // A refund is initiated, then refunded.
    let p = app.one_time("100.00").await;
    let c = charge_id(&app, &p, json!({"captureNow": true})).await;
    let refund = app
        .dev("POST", "/v2/refunds")
        .key(&new_key())
        .json(&json!({"chargeId": c, "refundAmount": {"amount": "4.00", "currencyCode": "USD"}}))
        .send()
        .await;
    let r = refund.assert_status(201)["refundId"].as_str().unwrap().to_owned();
    app.advance(30).await;
    inbox.expect(&app, &p, &[(CP, &p, STATE), (CH, &c, STATE), (RE, &r, STATE), (RE, &r, STATE)]).await;

    // Cancel.
    let p = app.one_time("100.00").await;
    let c = charge_id(&app, &p, json!({})).await;
    app.dev("DELETE", format!("/v2/charges/{c}/cancel"))
        .json(&json!({"cancellationReason": "out of stock"}))
        .send()
        .await
        .assert_status(200);
    inbox.expect(&app, &p, &[(CP, &p, STATE), (CH, &c, STATE), (CH, &c, STATE)]).await;

    // Expiry: an authorization left 30 days.
    let p = app.one_time("100.00").await;
    let c = charge_id(&app, &p, json!({})).await;
    app.advance(30 * DAY).await;
    assert_eq!(app.get(&format!("/v2/charges/{c}")).await["statusDetails"]["reasonCode"], "ExpiredUnused");
    inbox.expect(&app, &p, &[(CP, &p, STATE), (CH, &c, STATE), (CH, &c, STATE)]).await;

    // A hard decline at Create Charge: no charge, the permission NonChargeable; then the
    // buyer updates the payment method (Chargeable), then closes the permission.
    let p = app.permission(&app.dev, json!({"chargePermissionType": "Recurring"})).await;
    let declined = charge(&app, &p, json!({})).await;
    assert_eq!(declined.status, 201, "no simulation code yet");
    let c = declined.body["chargeId"].as_str().unwrap().to_owned();
    app.dev("POST", "/v2/charges")
        .key(&new_key())
        .unsigned_header("x-amz-pay-simulation-code", "HardDeclined")
        .json(&json!({"chargePermissionId": p, "chargeAmount": {"amount": "10.00", "currencyCode": "USD"}}))
        .send()
        .await
        .assert_error(422, "HardDeclined");
    inbox.expect(&app, &p, &[(CP, &p, STATE), (CH, &c, STATE), (CP, &p, STATE)]).await;
    let buyer = format!("/v2/testHelpers/chargePermissions/{p}/buyerActions");
    let fixed =
        app.dev("POST", &buyer).json(&json!({"action": "UpdatePaymentMethod", "paymentMethod": "4444"})).send().await;
    assert_eq!(fixed.assert_status(200)["statusDetails"]["state"], "Chargeable");
    inbox.expect(&app, &p, &[(CP, &p, STATE), (CH, &c, STATE), (CP, &p, STATE), (CP, &p, STATE)]).await;
    app.dev("POST", &buyer).json(&json!({"action": "Close"})).send().await.assert_status(200);
    let closed =
        [(CP, &*p, STATE), (CH, &c, STATE), (CP, &p, STATE), (CP, &p, STATE), (CP, &p, STATE), (CH, &c, STATE)];
    inbox.expect(&app, &p, &closed).await;

    // The buyer updates a payment method that worked: no change of state, an attribute change.
    let p = app.permission(&app.dev, json!({"chargePermissionType": "Recurring"})).await;
    app.dev("POST", format!("/v2/testHelpers/chargePermissions/{p}/buyerActions"))
        .json(&json!({"action": "UpdatePaymentMethod", "paymentMethod": "0005"}))
        .send()
        .await
        .assert_status(200);
    // The merchant changes its metadata: an attribute change; then closes the permission.
    app.dev("PATCH", format!("/v2/chargePermissions/{p}"))
        .json(&json!({"merchantMetadata": {"merchantReferenceId": "order-7"}}))
        .send()
        .await
        .assert_status(200);
    app.dev("DELETE", format!("/v2/chargePermissions/{p}/close"))
        .json(&json!({"closureReason": "no more orders"}))
        .send()
        .await
        .assert_status(200);
    let attribute = "ATTRIBUTE_CHANGE";
    inbox.expect(&app, &p, &[(CP, &p, STATE), (CP, &p, attribute), (CP, &p, attribute), (CP, &p, STATE)]).await;

    // Checkout completion: a new permission and its charge (the session has no IPN).
    let store_id = app.store_id().await;
    let created = app
        .dev("POST", "/v2/checkoutSessions")
        .key(&new_key())
        .json(&json!({"webCheckoutDetails": {"checkoutReviewReturnUrl": "https://shop.example/review"}, "storeId": store_id}))
        .send()
        .await;
    let session = created.assert_status(201)["checkoutSessionId"].as_str().unwrap().to_owned();
    app.dev("POST", format!("/v2/testHelpers/checkoutSessions/{session}/signIn"))
        .json(&json!({"paymentMethod": "1111"}))
        .send()
        .await
        .assert_status(200);
    app.dev("PATCH", format!("/v2/checkoutSessions/{session}"))
        .json(&json!({
            "webCheckoutDetails": {"checkoutResultReturnUrl": "https://shop.example/result"},
            "paymentDetails": {"paymentIntent": "Authorize", "chargeAmount": {"amount": "20.00", "currencyCode": "USD"}},
        }))
        .send()
        .await
        .assert_status(200);
    app.dev("POST", format!("/v2/testHelpers/checkoutSessions/{session}/confirm")).send().await.assert_status(200);
    let completed = app
        .dev("POST", format!("/v2/checkoutSessions/{session}/complete"))
        .json(&json!({"chargeAmount": {"amount": "20.00", "currencyCode": "USD"}}))
        .send()
        .await;
    let body = completed.assert_status(200);
    let (p, c) =
        (body["chargePermissionId"].as_str().unwrap().to_owned(), body["chargeId"].as_str().unwrap().to_owned());
    inbox.expect(&app, &p, &[(CP, &p, STATE), (CH, &c, STATE)]).await;

    // A rejected request notifies nothing.
    let before = log(&app).await.len();
    charge(&app, &p, json!({"chargeAmount": {"amount": "-1", "currencyCode": "USD"}}))
        .await
        .assert_error(400, "InvalidParameterValue");
    assert_eq!(log(&app).await.len(), before);
}

/// The log entry of one notification.
async fn entry(app: &TestApp, notification_id: &str) -> Value {
    log(app).await.into_iter().find(|n| n["notificationId"] == notification_id).expect("logged")
}

fn codes(entry: &Value) -> Vec<Value> {
    entry["attempts"].as_array().unwrap().iter().map(|a| a["statusCode"].clone()).collect()
}

#[tokio::test]
async fn server_errors_are_retried_until_the_receiver_recovers_4xx_is_final_and_every_attempt_is_logged() {
    let (app, mut receiver) = setup().await;
    receiver.script(&[Answer::Status(500), Answer::Status(502), Answer::Status(503)]);
    let p = app.one_time("10.00").await;
    let got = receiver.take(4, WAIT).await;
    let first = got[0].envelope();
    for again in &got[1..] {
        assert_eq!(again.body, got[0].body, "a retry posts the same signed envelope");
    }
    let id = got[0].message()["NotificationId"].as_str().unwrap().to_owned();
    settled(&app).await;
    let delivered = entry(&app, &id).await;
    assert_eq!(delivered["status"], "Delivered");
    assert_eq!(codes(&delivered), [json!(500), json!(502), json!(503), json!(200)]);
    assert_eq!(delivered["objectId"], p.as_str());
    assert_eq!(delivered["messageId"], first["MessageId"]);
    for attempt in delivered["attempts"].as_array().unwrap() {
        assert_eq!(attempt["url"], receiver.url.as_str());
        assert!(attempt["latencyMillis"].as_i64().unwrap() >= 0);
        assert!(attempt["timestamp"].as_str().unwrap().ends_with('Z'));
    }

    // 4xx: one attempt, Failed, nothing scheduled.
    receiver.otherwise(Answer::Status(400));
    app.one_time("10.00").await;
    let refused = receiver.take(1, WAIT).await;
    let refused_id = refused[0].message()["NotificationId"].as_str().unwrap().to_owned();
    settled(&app).await;
    let failed = entry(&app, &refused_id).await;
    assert_eq!((failed["status"].clone(), failed["nextAttemptTimestamp"].clone()), (json!("Failed"), Value::Null));
    assert_eq!(codes(&failed), [json!(400)]);
    assert!(receiver.next(Duration::from_millis(300)).await.is_none(), "six retry delays later, still no retry");

    // Redelivered once the receiver is fixed: the log keeps both attempts.
    receiver.otherwise(Answer::Status(200));
    let redelivered = app.dev("POST", format!("/v2/testHelpers/notifications/{refused_id}/redeliver")).send().await;
    assert_eq!(redelivered.assert_status(200)["status"], "Pending");
    let again = receiver.take(1, WAIT).await;
    assert_eq!(again[0].body, refused[0].body);
    settled(&app).await;
    assert_eq!(codes(&entry(&app, &refused_id).await), [json!(400), json!(200)]);
    app.dev("POST", "/v2/testHelpers/notifications/0b7d6c1e-0000-4000-8000-000000000000/redeliver")
        .send()
        .await
        .assert_error(404, "ResourceNotFound");

    // No endpoint: nothing is sent, and the log says so.
    set_endpoint(&app, None).await.assert_status(200);
    assert_eq!(app.get("/v2/testHelpers/ipnEndpoint").await, json!({"url": null}));
    app.one_time("10.00").await;
    let log = settled(&app).await;
    let unsent = log.last().unwrap();
    assert_eq!((unsent["status"].clone(), unsent["attempts"].clone()), (json!("NoEndpoint"), json!([])));
    assert!(receiver.next(Duration::from_millis(300)).await.is_none());
}

#[tokio::test]
async fn retries_stop_after_their_window_and_the_endpoint_helper_checks_what_it_is_given() {
    let config =
        IpnDelivery { timeout_ms: 1_000, retry_delays_ms: vec![20], retry_for_ms: 150, ..IpnDelivery::default() };
    let app = TestApp::spawn_with(Some(config)).await;
    let mut receiver = Receiver::start().await;
    receiver.otherwise(Answer::Status(503));
    set_endpoint(&app, Some(&receiver.url)).await.assert_status(200);
    assert_eq!(app.get("/v2/testHelpers/ipnEndpoint").await["url"], receiver.url.as_str());
    app.one_time("10.00").await;
    let log = settled(&app).await;
    let gave_up = &log[0];
    assert_eq!(gave_up["status"], "Failed");
    let attempts = codes(gave_up).len();
    assert!((2..=20).contains(&attempts), "retried within 150 ms every ~20 ms, then stopped: {attempts}");
    assert_eq!(receiver.drain().len(), attempts);

    for bad in [json!({"url": "ftp://x.example/"}), json!({"url": "/relative"}), json!({"url": 7})] {
        let refused = app.dev("PUT", "/v2/testHelpers/ipnEndpoint").json(&bad).send().await;
        assert_eq!(refused.status, 400, "{bad}");
    }
    app.dev("PUT", "/v2/testHelpers/ipnEndpoint")
        .json(&json!({}))
        .send()
        .await
        .assert_error(400, "MissingParameterValue");
    assert_eq!(app.get("/v2/testHelpers/ipnEndpoint").await["url"], receiver.url.as_str(), "a refusal changes nothing");
    app.dev("GET", "/v2/testHelpers/notifications?limit=0").send().await.assert_error(400, "InvalidParameterValue");
    let live = app.merchant(amzpay_domain::Region::Na, amzpay_server::merchants::KeyStyle::Legacy).await;
    app.call(&live, "GET", "/live/v2/testHelpers/ipnEndpoint").send().await.assert_error(404, "ResourceNotFound");
    app.call(&live, "GET", "/live/v2/testHelpers/notifications").send().await.assert_error(404, "ResourceNotFound");
}

/// The bodies, verified by `compat/node/sns_verify.js`: OpenSSL through Node.js, with its
/// own string to sign and its own fetch of the certificate.
fn node_verifies(bodies: &[String], tls_certificate: &std::path::Path) -> Vec<Value> {
    use std::io::Write as _;
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../../compat/node/sns_verify.js");
    let mut child = std::process::Command::new("node")
        .arg(script)
        // The certificate URL is amzpay's HTTPS listener, whose certificate is self-signed.
        .env("NODE_EXTRA_CA_CERTS", tls_certificate)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("node is installed (.ci/run installs it)");
    child.stdin.take().unwrap().write_all(serde_json::to_string(bodies).unwrap().as_bytes()).unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    serde_json::from_slice::<Vec<Value>>(&output.stdout).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openssl_and_the_sdk_verify_amzpays_notifications_and_refuse_tampered_ones() {
    let (app, mut receiver) = setup().await;
    let p = app.one_time("100.00").await;
    charge_id(&app, &p, json!({"captureNow": true})).await;
    let got = receiver.take(2, WAIT).await;
    let mut bodies: Vec<String> = got.iter().map(|r| r.body.clone()).collect();
    let mut tampered = got[1].envelope();
    let message = tampered["Message"].as_str().unwrap().replace("STATE_CHANGE", "ATTRIBUTE_CHANGE");
    tampered["Message"] = json!(message);
    bodies.push(tampered.to_string());
    let results = tokio::task::spawn_blocking({
        let (bodies, tls) = (bodies.clone(), app.tls_certificate());
        move || node_verifies(&bodies, &tls)
    })
    .await
    .unwrap();
    let verdicts: Vec<bool> = results.iter().map(|r| r["verified"].as_bool().unwrap()).collect();
    assert_eq!(verdicts, [true, true, false]);
    assert!(results[0]["subject"].as_str().unwrap().contains("amzpay"), "{}", results[0]);

    // The SDK's verifier, told to trust this server's certificate URL, agrees.
    let tls = std::fs::read(app.tls_certificate()).unwrap();
    let verifier =
        amzpay_sdk::ipn::IpnVerifier::new().trust_amzpay_server(&app.https).root_certificate_pem(&tls).unwrap();
    for body in &bodies[..2] {
        let message = verifier.verify(body).await.expect("the SDK accepts amzpay's notification");
        assert_eq!(message.charge_permission_id, p);
    }
    assert!(verifier.verify(&bodies[2]).await.is_err(), "the SDK refuses the tampered one");
    // Without being told, it trusts only Amazon SNS's hosts.
    assert!(amzpay_sdk::ipn::IpnVerifier::new().verify(&bodies[0]).await.is_err());
}

/// An HTTPS endpoint with a self-signed certificate for `localhost`; its URL and the
/// certificate (PEM), and the bodies it receives.
async fn https_receiver() -> (String, String, tokio::sync::mpsc::UnboundedReceiver<String>) {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let certified = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    let (cert, key) = (certified.cert.pem(), certified.key_pair.serialize_pem());
    let tls =
        axum_server::tls_rustls::RustlsConfig::from_pem(cert.clone().into_bytes(), key.into_bytes()).await.unwrap();
    let (sender, received) = tokio::sync::mpsc::unbounded_channel::<String>();
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
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move { axum_server::from_tcp_rustls(listener, tls).serve(app.into_make_service()).await });
    (format!("https://localhost:{port}/ipn"), cert, received)
}

#[tokio::test]
async fn https_endpoints_get_notifications_when_their_certificate_is_trusted() {
    let (url, certificate, mut received) = https_receiver().await;
    let trusting = IpnDelivery { extra_root_certificates: vec![certificate.into_bytes()], ..fast() };
    let app = TestApp::spawn_with(Some(trusting)).await;
    set_endpoint(&app, Some(&url)).await.assert_status(200);
    let p = app.one_time("10.00").await;
    let body = tokio::time::timeout(WAIT, received.recv()).await.unwrap().unwrap();
    assert!(body.contains(&p), "{body}");
    let delivered = settled(&app).await;
    assert_eq!((delivered[0]["status"].clone(), codes(&delivered[0])), (json!("Delivered"), vec![json!(200)]));

    // A server that does not trust the receiver's certificate never delivers to it.
    let distrusting = TestApp::spawn_with(Some(fast())).await;
    set_endpoint(&distrusting, Some(&url)).await.assert_status(200);
    distrusting.one_time("10.00").await;
    let retried = log_until(&distrusting, |entries| entries[0]["attempts"].as_array().unwrap().len() >= 2).await;
    let failed = retried[0].clone();
    assert_eq!(failed["status"], "Pending", "a TLS failure is retried: {failed}");
    assert_eq!(failed["attempts"][0]["statusCode"], Value::Null);
    assert!(failed["attempts"][0]["error"].as_str().unwrap().contains("certificate"), "{failed}");
    assert!(received.try_recv().is_err(), "nothing reached the receiver");
}
