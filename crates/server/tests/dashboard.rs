//! `/dashboard` over HTTP: what it lists and in which order, each object's timeline with the
//! cause of every change, the controls (run as the merchant's test helpers, refused from
//! another site's page), escaping of everything a merchant or a URL can put on a page, and
//! the admin gate with a token (a browser sends it as a Basic password). The same pages in
//! Chromium: `crates/cli/tests/browser.rs`.

mod support;

use serde_json::json;
use support::*;

/// A client that shows redirects instead of following them.
fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap()
}

/// A dashboard page's status and HTML.
async fn page(app: &TestApp, path: &str) -> (u16, String) {
    let response = app.client.get(format!("{}{path}", app.http)).send().await.unwrap();
    let status = response.status().as_u16();
    if status == 200 {
        assert_eq!(response.headers()["content-type"], "text/html; charset=utf-8");
        let policy = response.headers()["content-security-policy"].to_str().unwrap().to_owned();
        assert!(policy.contains("script-src 'self'") && !policy.contains("unsafe-inline'; script"), "{policy}");
    }
    (status, response.text().await.unwrap())
}

async fn merchant_page(app: &TestApp, query: &str) -> String {
    let (status, html) = page(app, &format!("/dashboard/merchants/{}?{query}", app.dev.merchant_id)).await;
    assert_eq!(status, 200, "{html}");
    html
}

async fn object_page(app: &TestApp, id: &str) -> String {
    let (status, html) =
        page(app, &format!("/dashboard/objects/{id}?merchant={}&env=sandbox", app.dev.merchant_id)).await;
    assert_eq!(status, 200, "{html}");
    html
}

/// The ids of the object rows on a page, in order.
fn rows(html: &str) -> Vec<String> {
    html.split(r#"<tr class="object" data-id=""#)
        .skip(1)
        .map(|rest| rest.split('"').next().unwrap().to_owned())
        .collect()
}

/// The timeline rows of an object's page, as text without tags.
fn timeline(html: &str) -> Vec<String> {
    html.split(r#"<tr class="change">"#)
        .skip(1)
        .map(|row| {
            let row = row.split("</tr>").next().unwrap();
            let mut text = String::new();
            let mut in_tag = false;
            for c in row.chars() {
                match c {
                    '<' => in_tag = true,
                    '>' => {
                        in_tag = false;
                        text.push(' ');
                    }
                    c if !in_tag => text.push(c),
                    _ => {}
                }
            }
            text.split_whitespace().collect::<Vec<_>>().join(" ")
        })
        .collect()
}

/// Posts a dashboard control; returns the status and where it sends the browser.
async fn control(app: &TestApp, fields: &[(&str, &str)], headers: &[(&str, &str)]) -> (u16, String) {
    let mut request = no_redirects()
        .post(format!("{}/dashboard/merchants/{}/actions?env=sandbox", app.http, app.dev.merchant_id))
        .form(fields);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let location = response.headers().get("location").map(|l| l.to_str().unwrap().to_owned()).unwrap_or_default();
    (status, location)
}

async fn create_charge(app: &TestApp, permission: &str, amount: &str, pending: bool) -> String {
    let body = json!({
        "chargePermissionId": permission,
        "chargeAmount": {"amount": amount, "currencyCode": "USD"},
        "canHandlePendingAuthorization": pending,
    });
    let created = app.dev("POST", "/v2/charges").key(&new_key()).json(&body).send().await;
    created.assert_status(201)["chargeId"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn a_merchants_objects_are_listed_newest_first_and_filtered_by_state_id_and_kind() {
    let app = TestApp::spawn().await;
    app.freeze().await;
    let first = app.one_time("50.00").await;
    app.advance(60).await;
    let second = app.one_time("70.00").await;
    app.advance(60).await;
    let charge = create_charge(&app, &second, "10.00", false).await;
    app.dev("DELETE", format!("/v2/chargePermissions/{first}/close"))
        .json(&json!({"closureReason": "done"}))
        .send()
        .await
        .assert_status(200);

    let html = merchant_page(&app, "").await;
    assert_eq!(rows(&html), [second.clone(), first.clone(), charge.clone()], "permissions newest first, then charges");
    assert!(html.contains("70.00 USD") && html.contains("10.00 USD"), "amounts are shown");
    assert_eq!(rows(&merchant_page(&app, "state=Closed").await), [first.as_str()]);
    assert_eq!(rows(&merchant_page(&app, &format!("q={}", &charge[4..15])).await), [second.clone(), charge.clone()]);
    assert_eq!(rows(&merchant_page(&app, "kind=charges").await), [charge.as_str()]);
    assert_eq!(rows(&merchant_page(&app, "state=Refunded").await), Vec::<String>::new());
    // A full list offers more rows: the same page, four times as many.
    let two = merchant_page(&app, "kind=chargePermissions&rows=1").await;
    assert_eq!(rows(&two), [second.as_str()]);
    assert!(two.contains(r#"class="more" href="/dashboard/merchants/"#), "{two}");
    assert!(two.contains("?kind=chargePermissions&#38;rows=4\""), "{two}");
    let all = merchant_page(&app, "kind=chargePermissions&rows=4").await;
    assert_eq!(rows(&all), [second.as_str(), first.as_str()]);
    assert!(!all.contains(r#"class="more""#), "a list shorter than asked has no more");
    // Another merchant's page shows none of these, and live shows none of the sandbox's.
    let other = app.merchant(amzpay_domain::Region::Na, SANDBOX_KEY).await;
    let (status, html) = page(&app, &format!("/dashboard/merchants/{}", other.merchant_id)).await;
    assert_eq!(status, 200);
    assert_eq!(rows(&html), Vec::<String>::new());
    assert_eq!(rows(&merchant_page(&app, "env=live").await), Vec::<String>::new());
    // The first page lists both merchants.
    let (status, index) = page(&app, "/dashboard").await;
    assert_eq!(status, 200);
    assert!(index.contains(&app.dev.merchant_id) && index.contains(&other.merchant_id), "{index}");
}

#[tokio::test]
async fn each_change_of_state_is_on_its_objects_timeline_with_its_cause() {
    let app = TestApp::spawn().await;
    app.freeze().await;
    let permission = app
        .permission(
            &app.dev,
            json!({"amountLimit": {"amount": "100.00", "currencyCode": "USD"}, "paymentMethod": "0701"}),
        )
        .await;
    let pending = create_charge(&app, &permission, "10.00", true).await;
    let flagged = create_charge(&app, &permission, "5.00", true).await;
    // The clock, from the dashboard: both authorizations resolve.
    let (status, location) = control(&app, &[("operation", "AdvanceClock"), ("seconds", "30")], &[]).await;
    assert_eq!(status, 303);
    assert!(location.ends_with("notice=Done%3A%20AdvanceClock."), "{location}");
    // Amazon cancels one; the buyer, from the dashboard, closes the permission.
    app.dev("POST", format!("/v2/testHelpers/charges/{flagged}/amazonActions"))
        .json(&json!({"action": "Cancel"}))
        .send()
        .await
        .assert_status(200);
    let (status, _) =
        control(&app, &[("operation", "BuyerAction"), ("id", &permission), ("action", "Close")], &[]).await;
    assert_eq!(status, 303);

    // Each row without its time (the merchant's clock, frozen at the real time it started).
    let changes = |html: String| -> Vec<String> {
        timeline(&html).into_iter().map(|row| row.splitn(4, ' ').nth(3).unwrap().to_owned()).collect()
    };
    assert_eq!(
        changes(object_page(&app, &pending).await),
        [
            "AuthorizationInitiated API call: CreateCharge",
            "Authorized Clock: ResolveAuthorization",
            "Canceled BuyerCanceled Buyer: Close",
        ]
    );
    assert_eq!(
        changes(object_page(&app, &flagged).await),
        [
            "AuthorizationInitiated API call: CreateCharge",
            "Authorized Clock: ResolveAuthorization",
            "Canceled AmazonCanceled Amazon: AmazonAction",
        ]
    );
    assert_eq!(
        changes(object_page(&app, &permission).await),
        // Its open authorizations never held its whole limit: Chargeable until the buyer closed it.
        ["Chargeable API call: CreateTestChargePermission", "Closed BuyerClosed Buyer: Close"]
    );
    // Each change is at its instant on the merchant's clock: the resolution 30 s after.
    let times: Vec<String> =
        timeline(&object_page(&app, &pending).await).iter().map(|r| r[11..19].to_owned()).collect();
    assert_ne!(times[0], times[1]);

    // A simulation code is the cause it names; a session expires by the clock.
    let closing = app.one_time("10.00").await;
    app.dev("DELETE", format!("/v2/chargePermissions/{closing}/close"))
        .signed_header("x-amz-pay-simulation-code", "AmazonClosed")
        .json(&json!({"closureReason": "gone"}))
        .send()
        .await
        .assert_status(200);
    assert_eq!(
        changes(object_page(&app, &closing).await),
        ["Chargeable API call: CreateTestChargePermission", "Closed AmazonClosed Simulation: AmazonClosed"]
    );
    let body = json!({
        "webCheckoutDetails": {"checkoutReviewReturnUrl": "https://shop.example/review"},
        "storeId": app.store_id().await,
    });
    let session = app.dev("POST", "/v2/checkoutSessions").key(&new_key()).json(&body).send().await;
    let session = session.assert_status(201)["checkoutSessionId"].as_str().unwrap().to_owned();
    app.advance(24 * 3600).await;
    assert_eq!(
        changes(object_page(&app, &session).await),
        ["Open API call: CreateCheckoutSession", "Canceled Expired Clock: ExpireCheckoutSession"]
    );
}

#[tokio::test]
async fn what_a_merchant_or_a_url_puts_on_a_page_is_shown_as_text() {
    let app = TestApp::spawn().await;
    let hostile = r#"<script>alert(1)</script>"'&amp;"#;
    let escaped = "&#60;script&#62;alert(1)&#60;/script&#62;&#34;&#39;&#38;amp;";
    let permission = app
        .permission(
            &app.dev,
            json!({"amountLimit": {"amount": "10.00", "currencyCode": "USD"}, "merchantMetadata": {"merchantReferenceId": hostile, "noteToBuyer": hostile}}),
        )
        .await;
    let list = merchant_page(&app, "").await;
    let object = object_page(&app, &permission).await;
    for html in [&list, &object] {
        assert!(!html.contains("<script>alert"), "{html}");
        assert_eq!(html.matches("<script").count(), 1, "only the dashboard's own script: {html}");
    }
    assert!(list.contains(escaped), "the reference id, escaped: {list}");
    assert!(object.contains("&#60;script&#62;alert(1)&#60;/script&#62;"), "the object's JSON, escaped: {object}");
    // What the URL carries back into the page: the search text, the state and a notice.
    let query =
        "q=%3Cscript%3Ealert(1)%3C%2Fscript%3E%22%27&state=%3Cb%3E&notice=%3Cimg%20src%3Dx%20onerror%3Dalert(1)%3E";
    let echoed = merchant_page(&app, query).await;
    assert!(!echoed.contains("<script>alert") && !echoed.contains("<img") && !echoed.contains("<b>"), "{echoed}");
    assert!(echoed.contains(r#"value="&#60;script&#62;alert(1)&#60;/script&#62;&#34;&#39;""#), "{echoed}");
    assert!(echoed.contains("&#60;img src=x onerror=alert(1)&#62;"), "{echoed}");
}

#[tokio::test]
async fn controls_run_as_the_merchants_test_helpers_and_refuse_other_sites() {
    let app = TestApp::spawn().await;
    let before = app.freeze().await;
    let clock = || async { app.get("/v2/testHelpers/clock").await["now"].as_str().unwrap().to_owned() };
    // Another site's page, posting through the developer's browser: refused, nothing moves.
    for headers in
        [&[("origin", "http://evil.example")][..], &[("sec-fetch-site", "cross-site")][..], &[("origin", "null")][..]]
    {
        let (status, _) = control(&app, &[("operation", "AdvanceClock"), ("seconds", "3600")], headers).await;
        assert_eq!(status, 403, "{headers:?}");
    }
    assert_eq!(clock().await, before);
    // The dashboard's own page (same origin) moves it.
    let origin = app.http.clone();
    let (status, location) =
        control(&app, &[("operation", "AdvanceClock"), ("seconds", "3600")], &[("origin", &origin)]).await;
    assert_eq!((status, location.contains("failed")), (303, false), "{location}");
    assert_ne!(clock().await, before);
    let advanced = clock().await;
    // A refused control comes back with the reason, and changes nothing.
    for (fields, reason) in [
        (&[("operation", "AdvanceClock"), ("seconds", "soon")][..], "soon"),
        (&[("operation", "AdvanceClock"), ("seconds", "-5")][..], "InvalidParameterValue"),
        (&[("operation", "RedeliverNotification"), ("id", "no-such")][..], "ResourceNotFound"),
        (&[("operation", "BuyerAction"), ("id", "S01-0000000-0000000"), ("action", "Close")][..], "ResourceNotFound"),
    ] {
        let (status, location) = control(&app, fields, &[]).await;
        assert_eq!(status, 303, "{fields:?}");
        assert!(location.contains("failed=1") && location.contains(reason), "{fields:?}: {location}");
    }
    assert_eq!(clock().await, advanced);
    // Only the dashboard's controls: no API operation, no unknown name, no other merchant.
    for operation in ["CreateCharge", "CloseChargePermission", "Nothing"] {
        let (status, _) = control(&app, &[("operation", operation)], &[]).await;
        assert_eq!(status, 400, "{operation}");
    }
    let response = no_redirects()
        .post(format!("{}/dashboard/merchants/NOSUCHMERCHANT/actions", app.http))
        .form(&[("operation", "FreezeClock")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
    // Back goes only to a dashboard page.
    let (_, location) =
        control(&app, &[("operation", "UnfreezeClock"), ("back", "https://evil.example/dashboard")], &[]).await;
    assert!(location.starts_with(&format!("/dashboard/merchants/{}?env=sandbox&notice=", app.dev.merchant_id)));
    assert_eq!(app.get("/v2/testHelpers/clock").await["frozen"], false);
}

#[tokio::test]
async fn pages_that_find_nothing_or_are_asked_wrongly_answer_4xx() {
    let app = TestApp::spawn().await;
    let merchant = app.dev.merchant_id.clone();
    let long = "x".repeat(101);
    for (path, status) in [
        ("/dashboard/merchants/NOSUCHMERCHANT".to_owned(), 404),
        (format!("/dashboard/merchants/{merchant}?env=mars"), 400),
        (format!("/dashboard/merchants/{merchant}?q={long}"), 400),
        (format!("/dashboard/merchants/{merchant}?rows=0"), 400),
        (format!("/dashboard/merchants/{merchant}?rows=1001"), 400),
        (format!("/dashboard/merchants/{merchant}?rows=many"), 400),
        ("/dashboard/objects/S01-0000000-0000000".to_owned(), 404),
        (format!("/dashboard/objects/S01-0000000-0000000?merchant={merchant}"), 404),
        (format!("/dashboard/objects/%3Cscript%3E?merchant={merchant}"), 404),
    ] {
        assert_eq!(page(&app, &path).await.0, status, "{path}");
    }
    let script = app.client.get(format!("{}/dashboard/dashboard.js", app.http)).send().await.unwrap();
    assert_eq!(script.status(), 200);
    assert_eq!(script.headers()["content-type"], "text/javascript; charset=utf-8");
}

#[tokio::test]
async fn with_an_admin_token_every_dashboard_request_needs_it_and_a_browser_sends_it_as_basic() {
    let app = TestApp::spawn_with_admin_token("dash-s3cret").await;
    let url = format!("{}/dashboard/merchants/{}", app.http, app.dev.merchant_id);
    let refused = app.client.get(&url).send().await.unwrap();
    assert_eq!(refused.status(), 401);
    let challenge = refused.headers()["www-authenticate"].to_str().unwrap().to_owned();
    assert!(challenge.starts_with("Basic "), "a browser asks for the token: {challenge}");
    assert_eq!(app.client.get(&url).basic_auth("dev", Some("wrong")).send().await.unwrap().status(), 401);
    assert_eq!(app.client.get(&url).basic_auth("dev", Some("dash-s3cret")).send().await.unwrap().status(), 200);
    assert_eq!(app.client.get(&url).bearer_auth("dash-s3cret").send().await.unwrap().status(), 200);
    let control = no_redirects()
        .post(format!("{url}/actions"))
        .basic_auth("", Some("wrong"))
        .form(&[("operation", "FreezeClock")])
        .send()
        .await
        .unwrap();
    assert_eq!(control.status(), 401);
    assert_eq!(app.get("/v2/testHelpers/clock").await["frozen"], false);
}
