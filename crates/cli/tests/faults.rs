//! `amzpay faults` against `amzpay serve`, with the development merchant's files: a fault
//! added from the command line makes the next matching calls fail (and the CLI's own keyed
//! calls retry through it), is listed with what is left of it, survives a restart of the
//! server, and is cleared; bad faults are refused.

mod support;

use std::path::Path;

use serde_json::Value;
use support::*;

/// Runs `amzpay ARGS` in `dir` and returns its exit success and printed JSON.
fn run(dir: &Path, endpoint: &str, args: &[&str]) -> (bool, Value) {
    let output = amzpay().current_dir(dir).env("AMZPAY_ENDPOINT", endpoint).args(args).output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let json = serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("{args:?}: {e}: {stdout} {}", String::from_utf8_lossy(&output.stderr)));
    (output.status.success(), json)
}

fn remaining(dir: &Path, endpoint: &str) -> Vec<u64> {
    let (ok, list) = run(dir, endpoint, &["faults", "list"]);
    assert!(ok, "{list}");
    list["faults"].as_array().unwrap().iter().map(|f| f["remainingCount"].as_u64().unwrap()).collect()
}

#[test]
fn faults_are_added_met_listed_kept_across_a_restart_and_cleared() {
    let workspace = tempfile::tempdir().unwrap();
    let data_dir = workspace.path().join("amzpay-data");
    let dir = workspace.path();
    let server = Server::start(&data_dir);
    let http = server.http.clone();
    let (ok, permission) = run(dir, &http, &["test-helper", "create-charge-permission", "--amount-limit", "100.00"]);
    assert!(ok);
    let permission_id = permission["chargePermissionId"].as_str().unwrap().to_owned();

    let add = ["faults", "add", "--reason-code", "ServiceUnavailable", "--count", "2"];
    let (ok, fault) = run(dir, &http, &[&add[..], &["--operation", "UpdateChargePermission"]].concat());
    assert!(ok, "{fault}");
    assert_eq!(fault["reasonCode"], "ServiceUnavailable");
    assert_eq!(fault["remainingCount"], 2);
    assert_eq!(fault["operations"], serde_json::json!(["UpdateChargePermission"]));
    // An update carries no idempotency key, so the CLI sends it once: the fault answers.
    let update = ["charge-permission", "update", &permission_id, "--note-to-buyer", "thanks"];
    let (ok, error) = run(dir, &http, &update);
    assert!(!ok);
    assert_eq!((error["status"].as_u64(), error["reasonCode"].as_str()), (Some(503), Some("ServiceUnavailable")));
    assert_eq!(remaining(dir, &http), [1]);

    // Faults are kept in the database: a restarted server still has, and applies, this one.
    server.kill();
    let server = Server::start(&data_dir);
    let http = server.http.clone();
    assert_eq!(remaining(dir, &http), [1], "kept across the restart");
    let (ok, error) = run(dir, &http, &update);
    assert!(!ok);
    assert_eq!(error["reasonCode"], "ServiceUnavailable");
    assert_eq!(remaining(dir, &http), Vec::<u64>::new(), "spent");

    // Create Charge carries a key: the CLI retries it through the fault and it runs once.
    let (ok, _) = run(
        dir,
        &http,
        &["faults", "add", "--reason-code", "InternalServerError", "--count", "1", "--operation", "CreateCharge"],
    );
    assert!(ok);
    let (ok, charge) =
        run(dir, &http, &["charge", "create", "--charge-permission-id", &permission_id, "--amount", "10.00"]);
    assert!(ok, "{charge}");
    assert_eq!(charge["statusDetails"]["state"], "Authorized");
    let (_, state) = run(dir, &http, &["charge-permission", "get", &permission_id]);
    assert_eq!(state["limits"]["amountBalance"]["amount"], "90.00", "one charge");

    let (ok, slow) = run(dir, &http, &["faults", "add", "--delay-ms", "100", "--count", "3"]);
    assert!(ok, "{slow}");
    assert_eq!((slow["reasonCode"].clone(), slow["delayMs"].clone()), (Value::Null, Value::from(100)));
    assert_eq!(slow["operations"], Value::Null, "every operation");
    let (ok, cleared) = run(dir, &http, &["faults", "clear"]);
    assert!(ok);
    assert_eq!(cleared["faults"][0]["faultId"], slow["faultId"], "clear prints what it removed");
    assert_eq!(remaining(dir, &http), Vec::<u64>::new());
}

#[test]
fn bad_faults_are_refused() {
    let workspace = tempfile::tempdir().unwrap();
    let server = Server::start(&workspace.path().join("amzpay-data"));
    let (dir, http) = (workspace.path(), server.http.clone());
    for args in [
        &["faults", "add", "--reason-code", "ServiceUnavailable", "--count", "0"][..],
        &["faults", "add", "--reason-code", "ServiceUnavailable", "--count", "1", "--operation", "Charge"],
        &["faults", "add", "--reason-code", "ServiceUnavailable", "--count", "1", "--delay-ms", "60001"],
    ] {
        let (ok, error) = run(dir, &http, args);
        assert!(!ok, "{args:?}");
        assert_eq!(
            (error["status"].as_u64(), error["reasonCode"].as_str()),
            (Some(400), Some("InvalidParameterValue"))
        );
    }
    // Neither an error nor a delay: clap refuses before anything is sent.
    for args in
        [&["faults", "add", "--count", "1"][..], &["faults", "add", "--reason-code", "Throttled", "--count", "1"]]
    {
        let output = amzpay().current_dir(dir).env("AMZPAY_ENDPOINT", &http).args(args).output().unwrap();
        assert_eq!(output.status.code(), Some(2), "{args:?}: {}", String::from_utf8_lossy(&output.stderr));
    }
    assert_eq!(remaining(dir, &http), Vec::<u64>::new(), "nothing was added");
}
