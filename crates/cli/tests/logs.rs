//! `amzpay serve --log-format json|human`: every line logged while handling a request
//! carries the request id its answer's `x-amz-pay-request-id` header carries, and each
//! request has its one debug line with operation, status and latency.

mod support;

use std::sync::mpsc::Receiver;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use support::*;

/// How long the server may take to write a request's lines after answering it (they are
/// written before the answer; this bounds the pipe).
const LINES_WITHIN: Duration = Duration::from_secs(10);

/// Reads lines until `wanted` says one is the last needed, within `LINES_WITHIN`; returns
/// every line read.
fn read_until(lines: &Receiver<String>, wanted: impl Fn(&str) -> bool) -> Vec<String> {
    let deadline = Instant::now() + LINES_WITHIN;
    let mut read = Vec::new();
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match lines.recv_timeout(left) {
            Ok(line) => {
                let done = wanted(&line);
                read.push(line);
                if done {
                    return read;
                }
            }
            Err(_) => panic!("the line looked for never came; read:\n{}", read.join("\n")),
        }
    }
}

/// The ids of the spans a JSON line was logged in.
fn request_ids(line: &Value) -> Vec<&str> {
    line["spans"].as_array().into_iter().flatten().filter_map(|span| span["request_id"].as_str()).collect()
}

#[tokio::test]
async fn json_lines_logged_while_handling_a_request_carry_its_response_request_id() {
    let data_dir = tempfile::tempdir().unwrap();
    let (server, lines) =
        Server::start_logging(data_dir.path(), &["--log-format", "json"], "info,amzpay::request=debug");
    let merchant = server.dev_merchant();
    let client = reqwest::Client::new();
    let send = |method: &'static str, path: &'static str, body: Value, key: Option<String>| {
        let (client, base, merchant) = (client.clone(), server.http.clone(), merchant.clone());
        async move {
            let body = if body.is_null() { String::new() } else { body.to_string() };
            call(&client, &base, &merchant, method, path, &body, key.as_deref()).await.unwrap()
        }
    };
    // Notifications go where nothing listens: each attempt is logged at info level.
    let endpoint = json!({"url": "http://127.0.0.1:1/ipn"});
    assert_eq!(send("PUT", "/v2/testHelpers/ipnEndpoint", endpoint, None).await.status, 200);
    assert_eq!(send("POST", "/v2/testHelpers/clock/freeze", Value::Null, None).await.status, 200);
    let permission = json!({"amountLimit": {"amount": "100", "currencyCode": "USD"}, "paymentMethod": "0701"});
    let permission =
        send("POST", "/v2/testHelpers/chargePermissions", permission, Some("logs-permission".to_owned())).await;
    assert_eq!(permission.status, 201);
    let charge = json!({
        "chargePermissionId": permission.json()["chargePermissionId"],
        "chargeAmount": {"amount": "10.00", "currencyCode": "USD"},
        "canHandlePendingAuthorization": true,
    });
    let charge = send("POST", "/v2/charges", charge, Some("logs-charge".to_owned())).await;
    assert_eq!(charge.status, 201);
    // The advance resolves the authorization and attempts its notification before answering.
    let advance = send("POST", "/v2/testHelpers/clock/advance", json!({"seconds": 30}), None).await;
    assert_eq!(advance.status, 200);
    let advance_id = advance.request_id.clone().expect("x-amz-pay-request-id");

    let read = read_until(&lines, |line| line.contains(&advance_id) && line.contains("\"answered\""));
    let parsed: Vec<Value> = read
        .iter()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("not one JSON object: {e}: {line}")))
        .collect();
    let of = |id: &str| -> Vec<&Value> { parsed.iter().filter(|line| request_ids(line).contains(&id)).collect() };

    let advanced = of(&advance_id);
    let messages: Vec<&str> = advanced.iter().filter_map(|line| line["fields"]["message"].as_str()).collect();
    assert!(messages.contains(&"IPN attempt failed"), "{advanced:#?}");
    let answered = advanced.iter().find(|line| line["fields"]["message"] == "answered").unwrap();
    assert_eq!(answered["fields"]["operation"], "AdvanceClock");
    assert_eq!(
        (&answered["fields"]["method"], &answered["fields"]["path"]),
        (&json!("POST"), &json!("/v2/testHelpers/clock/advance"))
    );
    assert_eq!(answered["fields"]["status"], 200);
    assert!(answered["fields"]["latency_ms"].as_f64().is_some_and(|ms| ms > 0.0), "{answered}");
    assert_eq!(answered["level"], "DEBUG");

    let charge_id = charge.request_id.clone().unwrap();
    let charged = of(&charge_id);
    assert_eq!(charged.len(), 1, "one line for a request that logs nothing else: {charged:#?}");
    assert_eq!(charged[0]["fields"]["operation"], "CreateCharge");
    assert_eq!(charged[0]["fields"]["status"], 201);
    // Each request's lines carry its own id only.
    for line in &parsed {
        assert!(request_ids(line).len() <= 1, "{line}");
    }
    drop(server);
}

#[tokio::test]
async fn human_lines_carry_the_request_id_too() {
    let data_dir = tempfile::tempdir().unwrap();
    let (server, lines) = Server::start_logging(data_dir.path(), &[], "info,amzpay::request=debug");
    let response = reqwest::get(format!("{}/healthz", server.http)).await.unwrap();
    assert_eq!(response.status(), 200);
    let id = response.headers()["x-amz-pay-request-id"].to_str().unwrap().to_owned();
    let read = read_until(&lines, |line| line.contains(&id));
    let line = read.last().unwrap();
    assert!(serde_json::from_str::<Value>(line).is_err(), "the default is not JSON: {line}");
    assert!(line.contains(&format!("request_id={id}")), "{line}");
    assert!(line.contains("answered") && line.contains("status=200"), "{line}");
}

#[test]
fn an_empty_admin_token_refuses_the_start_and_help_never_shows_the_token() {
    let data_dir = tempfile::tempdir().unwrap();
    let output = amzpay()
        .args(["serve", "--listen", "127.0.0.1:0", "--tls-listen", "127.0.0.1:0", "--data-dir"])
        .arg(data_dir.path())
        .args(["--admin-token", ""])
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("--admin-token"), "{output:?}");

    let help = amzpay().args(["serve", "--help"]).env("AMZPAY_ADMIN_TOKEN", "never-shown-token").output().unwrap();
    let help = String::from_utf8_lossy(&help.stdout);
    assert!(help.contains("--admin-token") && help.contains("--log-format"), "{help}");
    assert!(!help.contains("never-shown-token"), "{help}");
}
