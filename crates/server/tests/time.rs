//! Every timing rule at its boundary, through signed HTTP and the clock test helper: the
//! sandbox clock is frozen, so "29 seconds later" is exactly that.

mod support;

use serde_json::{Value, json};
use support::*;

const DAY: i64 = 86_400;

async fn charge_on(app: &TestApp, permission_id: &str, extra: Value) -> Response {
    let mut body =
        json!({"chargePermissionId": permission_id, "chargeAmount": {"amount": "10.00", "currencyCode": "USD"}});
    body.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
    app.dev("POST", "/v2/charges").key(&new_key()).json(&body).send().await
}

fn state(body: &Value) -> (&str, Option<&str>) {
    (body["statusDetails"]["state"].as_str().unwrap(), body["statusDetails"]["reasonCode"].as_str())
}

#[tokio::test]
async fn the_clock_reads_advances_freezes_and_exists_only_in_the_sandbox() {
    let app = TestApp::spawn().await;
    let clock = app.get("/v2/testHelpers/clock").await;
    assert_eq!(clock["frozen"], false);
    let frozen = app.freeze().await;
    assert_eq!(app.get("/v2/testHelpers/clock").await["now"], frozen.as_str());
    let later = app.advance(3_600).await;
    let parse = |t: &str| {
        time::PrimitiveDateTime::parse(
            t,
            time::macros::format_description!("[year][month][day]T[hour][minute][second]Z"),
        )
        .unwrap()
    };
    assert_eq!(parse(&later) - parse(&frozen), time::Duration::hours(1));
    for bad in [json!({"seconds": -1}), json!({}), json!({"seconds": "10"}), json!({"seconds": 1.5})] {
        let response = app.dev("POST", "/v2/testHelpers/clock/advance").json(&bad).send().await;
        assert_eq!(response.status, 400, "{bad}");
    }
    let running = app.dev("POST", "/v2/testHelpers/clock/unfreeze").send().await;
    assert_eq!(running.assert_status(200)["frozen"], false);
    let legacy = app.merchant(amzpay_domain::Region::Na, amzpay_server::merchants::KeyStyle::Legacy).await;
    app.call(&legacy, "GET", "/live/v2/testHelpers/clock").send().await.assert_error(404, "ResourceNotFound");
    app.call(&legacy, "GET", "/sandbox/v2/testHelpers/clock").send().await.assert_status(200);
}

#[tokio::test]
async fn pending_authorizations_resolve_exactly_30_seconds_later() {
    let app = TestApp::spawn().await;
    app.freeze().await;
    let approving = app
        .permission(&app.dev, json!({"amountLimit": {"amount": "100", "currencyCode": "USD"}, "paymentMethod": "0701"}))
        .await;
    let declining =
        app.permission(&app.dev, json!({"chargePermissionType": "Recurring", "paymentMethod": "4354"})).await;
    let pending = json!({"canHandlePendingAuthorization": true});
    let ok = charge_on(&app, &approving, pending.clone()).await.assert_status(201).clone();
    let bad = charge_on(&app, &declining, pending.clone()).await.assert_status(201).clone();
    let captured_now = charge_on(&app, &approving, json!({"canHandlePendingAuthorization": true, "captureNow": true}))
        .await
        .assert_status(201)
        .clone();
    for body in [&ok, &bad, &captured_now] {
        assert_eq!(state(body), ("AuthorizationInitiated", None));
    }
    app.advance(29).await;
    for body in [&ok, &bad] {
        let id = body["chargeId"].as_str().unwrap();
        assert_eq!(state(&app.get(&format!("/v2/charges/{id}")).await), ("AuthorizationInitiated", None));
    }
    app.advance(1).await;
    let ok_now = app.get(&format!("/v2/charges/{}", ok["chargeId"].as_str().unwrap())).await;
    assert_eq!(state(&ok_now), ("Authorized", None));
    let bad_now = app.get(&format!("/v2/charges/{}", bad["chargeId"].as_str().unwrap())).await;
    assert_eq!(state(&bad_now), ("Declined", Some("HardDeclined")));
    let captured = app.get(&format!("/v2/charges/{}", captured_now["chargeId"].as_str().unwrap())).await;
    assert_eq!(state(&captured), ("Captured", None));
    // A hard decline makes a recurring permission NonChargeable (seeds 001).
    let permission = app.get(&format!("/v2/chargePermissions/{declining}")).await;
    assert_eq!(permission["statusDetails"]["state"], "NonChargeable");
    assert_eq!(permission["statusDetails"]["reasons"][0]["reasonCode"], "PaymentMethodInvalid");
    // Each change is an event: created, then resolved.
    let events = app.events_for(ok["chargeId"].as_str().unwrap()).await;
    assert_eq!(events.len(), 2, "{events:?}");
    assert!(!app.events_for(&declining).await.is_empty());
}

#[tokio::test]
async fn capture_is_synchronous_through_7_days_and_asynchronous_after() {
    let app = TestApp::spawn().await;
    app.freeze().await;
    let permission = app.one_time("1000").await;
    let early =
        charge_on(&app, &permission, json!({})).await.assert_status(201)["chargeId"].as_str().unwrap().to_owned();
    let late =
        charge_on(&app, &permission, json!({})).await.assert_status(201)["chargeId"].as_str().unwrap().to_owned();
    let capture = |id: &str| {
        app.dev("POST", format!("/v2/charges/{id}/capture"))
            .key(&new_key())
            .json(&json!({"captureAmount": {"amount": "10.00", "currencyCode": "USD"}}))
            .send()
    };
    app.advance(7 * DAY - 1).await;
    assert_eq!(state(capture(&early).await.assert_status(200)), ("Captured", None));
    app.advance(2).await;
    assert_eq!(state(capture(&late).await.assert_status(200)), ("CaptureInitiated", None));
    app.advance(29).await;
    assert_eq!(state(&app.get(&format!("/v2/charges/{late}")).await), ("CaptureInitiated", None));
    app.advance(1).await;
    let done = app.get(&format!("/v2/charges/{late}")).await;
    assert_eq!(state(&done), ("Captured", None));
    assert_eq!(done["captureAmount"]["amount"], "10.00");
}

#[tokio::test]
async fn authorizations_expire_unused_after_exactly_30_days() {
    let app = TestApp::spawn().await;
    app.freeze().await;
    let permission = app.one_time("1000").await;
    let kept =
        charge_on(&app, &permission, json!({})).await.assert_status(201)["chargeId"].as_str().unwrap().to_owned();
    let expiring =
        charge_on(&app, &permission, json!({})).await.assert_status(201)["chargeId"].as_str().unwrap().to_owned();
    app.advance(30 * DAY - 1).await;
    let capture = app
        .dev("POST", format!("/v2/charges/{kept}/capture"))
        .key(&new_key())
        .json(&json!({"captureAmount": {"amount": "10.00", "currencyCode": "USD"}}))
        .send()
        .await;
    assert_eq!(state(capture.assert_status(200)), ("CaptureInitiated", None), "30 days less a second still captures");
    assert_eq!(state(&app.get(&format!("/v2/charges/{expiring}")).await), ("Authorized", None));
    app.advance(1).await;
    assert_eq!(state(&app.get(&format!("/v2/charges/{expiring}")).await), ("Canceled", Some("ExpiredUnused")));
    let events = app.events_for(&expiring).await;
    assert_eq!(events.len(), 2, "created and expired: {events:?}");
    let balance = app.get(&format!("/v2/chargePermissions/{permission}")).await;
    assert_eq!(
        balance["limits"]["amountBalance"]["amount"], "990.00",
        "the expired authorization gave its amount back"
    );
}

#[tokio::test]
async fn refunds_settle_30_seconds_later() {
    let app = TestApp::spawn().await;
    app.freeze().await;
    let permission = app.one_time("100").await;
    let charge = charge_on(&app, &permission, json!({"captureNow": true})).await.assert_status(201)["chargeId"]
        .as_str()
        .unwrap()
        .to_owned();
    let refund = app
        .dev("POST", "/v2/refunds")
        .key(&new_key())
        .json(&json!({"chargeId": charge, "refundAmount": {"amount": "4.00", "currencyCode": "USD"}}))
        .send()
        .await;
    let refund_id = refund.assert_status(201)["refundId"].as_str().unwrap().to_owned();
    app.advance(29).await;
    assert_eq!(state(&app.get(&format!("/v2/refunds/{refund_id}")).await), ("RefundInitiated", None));
    assert_eq!(app.get(&format!("/v2/charges/{charge}")).await["refundedAmount"]["amount"], "0.00");
    app.advance(1).await;
    assert_eq!(state(&app.get(&format!("/v2/refunds/{refund_id}")).await), ("Refunded", None));
    assert_eq!(app.get(&format!("/v2/charges/{charge}")).await["refundedAmount"]["amount"], "4.00");
}

#[tokio::test]
async fn permissions_expire_by_type() {
    let app = TestApp::spawn().await;
    app.freeze().await;
    let one_time = app.one_time("100").await;
    let recurring = app.permission(&app.dev, json!({"chargePermissionType": "Recurring"})).await;
    let kept_alive = app.permission(&app.dev, json!({"chargePermissionType": "Recurring"})).await;
    let wallet = app.permission(&app.dev, json!({"chargePermissionType": "PaymentMethodOnFile"})).await;
    let app = &app;
    let state_of = |id: String| async move { app.get(&format!("/v2/chargePermissions/{id}")).await };

    app.advance(180 * DAY - 1).await;
    assert_eq!(state_of(one_time.clone()).await["statusDetails"]["state"], "Chargeable");
    app.advance(1).await;
    let expired = state_of(one_time.clone()).await;
    assert_eq!(expired["statusDetails"]["state"], "Closed");
    assert_eq!(expired["statusDetails"]["reasons"][0]["reasonCode"], "Expired");

    // A charge keeps a recurring permission alive for 13 more months.
    charge_on(app, &kept_alive, json!({})).await.assert_status(201);
    let expiry_of = |body: &Value| body["expirationTimestamp"].as_str().unwrap().to_owned();
    let recurring_expiry = expiry_of(&state_of(recurring.clone()).await);
    let clock = app.get("/v2/testHelpers/clock").await["now"].as_str().unwrap().to_owned();
    let parse = |t: &str| {
        time::PrimitiveDateTime::parse(
            t,
            time::macros::format_description!("[year][month][day]T[hour][minute][second]Z"),
        )
        .unwrap()
    };
    let to_expiry = (parse(&recurring_expiry) - parse(&clock)).whole_seconds();
    app.advance(to_expiry - 1).await;
    assert_eq!(state_of(recurring.clone()).await["statusDetails"]["state"], "Chargeable");
    app.advance(1).await;
    let closed = state_of(recurring.clone()).await;
    assert_eq!(
        (closed["statusDetails"]["state"].as_str(), closed["statusDetails"]["reasons"][0]["reasonCode"].as_str()),
        (Some("Closed"), Some("Expired"))
    );
    assert_eq!(state_of(kept_alive.clone()).await["statusDetails"]["state"], "Chargeable");

    // Saved Wallet never expires.
    app.advance(10 * 366 * DAY).await;
    assert_eq!(state_of(wallet).await["statusDetails"]["state"], "Chargeable");
    assert_eq!(state_of(kept_alive).await["statusDetails"]["state"], "Closed");
    assert_eq!(app.events_for(&one_time).await.len(), 2, "created, expired");
}

#[tokio::test]
async fn monthly_limits_reset_on_the_first() {
    let app = TestApp::spawn().await;
    app.freeze().await;
    let recurring = app.permission(&app.dev, json!({"chargePermissionType": "Recurring"})).await;
    let charge = |amount: &str| {
        app.dev("POST", "/v2/charges")
            .key(&new_key())
            .json(&json!({"chargePermissionId": recurring, "chargeAmount": {"amount": amount, "currencyCode": "USD"}}))
            .send()
    };
    charge("1000.00").await.assert_status(201);
    charge("0.01").await.assert_error(400, "PeriodicAmountExceeded");
    let now = app.get("/v2/testHelpers/clock").await["now"].as_str().unwrap().to_owned();
    let parsed = time::PrimitiveDateTime::parse(
        &now,
        time::macros::format_description!("[year][month][day]T[hour][minute][second]Z"),
    )
    .unwrap();
    let (year, month) = if parsed.month() == time::Month::December {
        (parsed.year() + 1, time::Month::January)
    } else {
        (parsed.year(), parsed.month().next())
    };
    let first = time::Date::from_calendar_date(year, month, 1).unwrap().midnight();
    let to_first = (first - parsed).whole_seconds();
    app.advance(to_first - 1).await;
    charge("0.01").await.assert_error(400, "PeriodicAmountExceeded");
    assert_eq!(
        app.get(&format!("/v2/chargePermissions/{recurring}")).await["limits"]["amountBalance"]["amount"],
        "0.00"
    );
    app.advance(1).await;
    assert_eq!(
        app.get(&format!("/v2/chargePermissions/{recurring}")).await["limits"]["amountBalance"]["amount"],
        "1000.00"
    );
    charge("1000.00").await.assert_status(201);
}

#[tokio::test]
async fn a_retried_clock_advance_replays_instead_of_moving_the_clock_twice() {
    let app = TestApp::spawn().await;
    let start = app.freeze().await;
    let key = new_key();
    let advance = |seconds: i64| {
        app.dev("POST", "/v2/testHelpers/clock/advance").key(&key).json(&serde_json::json!({"seconds": seconds}))
    };
    let first = advance(3_600).send().await;
    first.assert_status(200);
    let again = advance(3_600).send().await;
    assert_eq!((again.status, &again.raw), (first.status, &first.raw), "a replay, byte for byte");
    let now = app.get("/v2/testHelpers/clock").await["now"].as_str().unwrap().to_owned();
    assert_eq!(now, first.body["now"].as_str().unwrap(), "moved once");
    assert_ne!(now, start);
    advance(60).send().await.assert_error(400, "DuplicateIdempotencyKey");
    // Without a key every advance moves the clock.
    let unkeyed = app.advance(60).await;
    assert_ne!(unkeyed, now);
    // Sent twice at once with one key (a client retrying on its timeout): one move.
    let key = new_key();
    let advance = || app.dev("POST", "/v2/testHelpers/clock/advance").key(&key).json(&json!({"seconds": 3_600}));
    let (first, second) = tokio::join!(advance().send(), advance().send());
    assert_eq!((first.status, &first.raw), (second.status, &second.raw), "one executes, the other replays");
    let moved = parse_time(app.get("/v2/testHelpers/clock").await["now"].as_str().unwrap());
    assert_eq!((moved - parse_time(&unkeyed)).whole_seconds(), 3_600, "moved once");
}

fn parse_time(text: &str) -> time::PrimitiveDateTime {
    time::PrimitiveDateTime::parse(
        text,
        time::macros::format_description!("[year][month][day]T[hour][minute][second]Z"),
    )
    .unwrap()
}

/// The clock may reach 9900-01-01 and no further: an advance past it answers 400 (it once
/// moved on until a Recurring permission panicked the writer near 9999), the clock stays,
/// and the server keeps working there.
#[tokio::test]
async fn the_sandbox_clock_stops_at_its_bound_with_a_400_and_the_server_keeps_working() {
    let app = TestApp::spawn().await;
    app.freeze().await;
    let bound = parse_time("99000101T000000Z");
    loop {
        let now = parse_time(app.get("/v2/testHelpers/clock").await["now"].as_str().unwrap());
        let left = (bound - now).whole_seconds();
        if left == 0 {
            break;
        }
        app.advance(left.min(amzpay_server::config::MAX_CLOCK_ADVANCE_SECONDS)).await;
    }
    for (seconds, key) in [(1, None), (amzpay_server::config::MAX_CLOCK_ADVANCE_SECONDS, Some(new_key()))] {
        let mut call = app.dev("POST", "/v2/testHelpers/clock/advance").json(&json!({"seconds": seconds}));
        if let Some(key) = &key {
            call = call.key(key);
        }
        let message = call.send().await.assert_error(400, "InvalidParameterValue");
        assert!(message.contains("99000101T000000Z"), "the message names the bound: {message}");
        assert_eq!(app.get("/v2/testHelpers/clock").await["now"], "99000101T000000Z", "the clock stayed");
    }
    app.advance(0).await;
    let recurring = app.permission(&app.dev, json!({"chargePermissionType": "Recurring"})).await;
    let permission = app.get(&format!("/v2/chargePermissions/{recurring}")).await;
    assert_eq!(permission["expirationTimestamp"], "99010201T000000Z", "13 months later");
    let charge = charge_on(&app, &recurring, json!({"captureNow": true})).await;
    assert_eq!(state(charge.assert_status(201)), ("Captured", None));
    assert_eq!(charge.body["expirationTimestamp"], "99000131T000000Z");
}

/// A job as a damaged database might hold it: its object id names nothing it can read.
fn broken_job(merchant_id: &str, due_at: amzpay_domain::Timestamp) -> amzpay_store::Job {
    amzpay_store::Job {
        id: 0,
        merchant_id: merchant_id.to_owned(),
        environment: amzpay_domain::Environment::Sandbox,
        kind: amzpay_store::JobKind::ResolveAuthorization,
        object_id: "not-a-charge-id".to_owned(),
        due_at,
    }
}

async fn insert_job(app: &TestApp, job: amzpay_store::Job) {
    app.store.write(move |tx| tx.insert_job(&job)).await.unwrap();
}

async fn failed_jobs(app: &TestApp, merchant: &Merchant) -> Vec<amzpay_store::FailedJob> {
    let merchant = merchant.merchant_id.clone();
    app.store.read(move |tx| tx.failed_jobs(Some(&merchant), 10)).await.unwrap()
}

/// A pending authorization (card 0701 approves it when it resolves) for `merchant`.
async fn pending_charge(app: &TestApp, merchant: &Merchant) -> String {
    let body = json!({"amountLimit": {"amount": "100", "currencyCode": "USD"}, "paymentMethod": "0701"});
    let permission = app.permission(merchant, body).await;
    let body = json!({
        "chargePermissionId": permission,
        "chargeAmount": {"amount": "10.00", "currencyCode": "USD"},
        "canHandlePendingAuthorization": true,
    });
    let charge = app.call(merchant, "POST", "/v2/charges").key(&new_key()).json(&body).send().await;
    assert_eq!(state(charge.assert_status(201)), ("AuthorizationInitiated", None));
    charge.body["chargeId"].as_str().unwrap().to_owned()
}

/// A job that fails, due before the others, is recorded failed with its error; the advance
/// still runs the others, answers 200 and moves the clock exactly once.
#[tokio::test]
async fn an_advance_during_which_a_job_fails_answers_200_runs_the_others_and_moves_once() {
    let app = TestApp::spawn().await;
    let start = parse_time(&app.freeze().await);
    let charge = pending_charge(&app, &app.dev).await;
    let t0 = amzpay_domain::Timestamp::from_unix_seconds(start.assume_utc().unix_timestamp());
    insert_job(&app, broken_job(&app.dev.merchant_id, t0.plus_seconds(10))).await;

    let advanced = app.dev("POST", "/v2/testHelpers/clock/advance").json(&json!({"seconds": 30})).send().await;
    let now = parse_time(advanced.assert_status(200)["now"].as_str().unwrap());
    assert_eq!((now - start).whole_seconds(), 30);
    let clock = parse_time(app.get("/v2/testHelpers/clock").await["now"].as_str().unwrap());
    assert_eq!((clock - start).whole_seconds(), 30, "moved once");
    assert_eq!(state(&app.get(&format!("/v2/charges/{charge}")).await), ("Authorized", None));
    let failed = failed_jobs(&app, &app.dev).await;
    assert_eq!(failed.len(), 1, "{failed:?}");
    assert_eq!((failed[0].object_id.as_str(), failed[0].attempts), ("not-a-charge-id", 1));
    assert!(failed[0].error.contains("not-a-charge-id"), "{failed:?}");
    // It is not run again.
    app.advance(60).await;
    assert_eq!(failed_jobs(&app, &app.dev).await, failed);
}

/// The background worker: a failing job, due before everyone else's, blocks neither its own
/// merchant's jobs nor another merchant's.
#[tokio::test]
async fn a_failing_job_blocks_no_other_job_in_the_background_worker() {
    let app = TestApp::spawn().await;
    let other = app
        .merchant(
            amzpay_domain::Region::Na,
            amzpay_server::merchants::KeyStyle::Prefixed(amzpay_domain::Environment::Sandbox),
        )
        .await;
    let ours = pending_charge(&app, &app.dev).await;
    let theirs = pending_charge(&app, &other).await;
    let now = amzpay_server::system_now();
    insert_job(&app, broken_job(&app.dev.merchant_id, now.plus_seconds(-60))).await;
    // The pending authorizations resolve 30 s from now; have them due now instead, behind
    // the broken job, for the worker (which polls twice a second) to find.
    for (merchant, charge) in [(&app.dev, &ours), (&other, &theirs)] {
        let mut job = broken_job(&merchant.merchant_id, now);
        job.object_id = charge.clone();
        insert_job(&app, job).await;
    }
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    for (merchant, charge) in [(&app.dev, &ours), (&other, &theirs)] {
        loop {
            let body = app.call(merchant, "GET", format!("/v2/charges/{charge}")).send().await.body;
            if state(&body) == ("Authorized", None) {
                break;
            }
            assert!(std::time::Instant::now() < deadline, "{charge} never resolved: {body}");
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    }
    let failed = failed_jobs(&app, &app.dev).await;
    assert_eq!(failed.len(), 1, "{failed:?}");
    assert!(failed_jobs(&app, &other).await.is_empty());
}
