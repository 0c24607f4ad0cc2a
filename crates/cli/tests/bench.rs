//! `amzpay bench` against `amzpay serve`, with the development merchant's files: every
//! scenario runs briefly with no errors and reports the documented keys; errors the server
//! answers (faults injected) are counted exactly, and quoted.

mod support;

use std::path::Path;

use serde_json::Value;
use support::*;

/// Runs `amzpay bench --url URL ARGS --json` in `dir`; returns its exit success and report.
fn bench(dir: &Path, url: &str, args: &[&str]) -> (bool, Value) {
    let output = amzpay().current_dir(dir).args(["bench", "--url", url, "--json"]).args(args).output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let report = serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{args:?}: {e}: {stdout} {stderr}"));
    (output.status.success(), report)
}

#[test]
fn every_scenario_runs_with_no_errors_and_reports_the_documented_keys() {
    let workspace = tempfile::tempdir().unwrap();
    let server = Server::start(&workspace.path().join("amzpay-data"));
    for scenario in ["ceiling", "get-charge", "create-charge", "authorize-capture", "mixed"] {
        let args = ["--scenario", scenario, "--concurrency", "4", "--duration", "0.5"];
        let (ok, report) = bench(workspace.path(), &server.http, &args);
        assert!(ok, "{scenario}: {report}");
        assert_eq!(report["scenario"], scenario);
        assert_eq!(report["errors"], 0, "{scenario}: {report}");
        let requests = report["requests"].as_u64().unwrap();
        assert!(requests > 0, "{scenario}: {report}");
        assert_eq!(report["concurrency"], 4);
        assert!(report["duration_s"].as_f64().unwrap() >= 0.5, "{scenario}: {report}");
        assert!(report["throughput_rps"].as_f64().unwrap() > 0.0, "{scenario}: {report}");
        let latency = &report["latency_ms"];
        let [p50, p90, p99, max] = ["p50", "p90", "p99", "max"].map(|key| latency[key].as_f64().unwrap());
        assert!(0.0 < p50 && p50 <= p90 && p90 <= p99 && p99 <= max, "{scenario}: {report}");
        // The server runs on this machine: its memory is found from the URL's port.
        assert!(report["server_rss_mb"].as_f64().unwrap() > 1.0, "{scenario}: {report}");
        if scenario == "authorize-capture" {
            assert_eq!(report["flows"].as_u64().unwrap() * 2, requests, "two calls a flow: {report}");
        } else {
            assert!(report.get("flows").is_none(), "{scenario}: {report}");
        }
    }
}

#[test]
fn errors_the_server_answers_are_counted_exactly() {
    let workspace = tempfile::tempdir().unwrap();
    let dir = workspace.path();
    let server = Server::start(&dir.join("amzpay-data"));
    // The next 7 Create Charge requests answer 503; the bench's setup (test helpers) does not match.
    let fault = ["faults", "add", "--reason-code", "ServiceUnavailable", "--count", "7", "--operation", "CreateCharge"];
    let output = amzpay().current_dir(dir).env("AMZPAY_ENDPOINT", &server.http).args(fault).output().unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stdout));

    let args = ["--scenario", "create-charge", "--concurrency", "2", "--duration", "0.5"];
    let (ok, report) = bench(dir, &server.http, &args);
    assert!(ok, "a run with errors still reports: {report}");
    assert!(report["requests"].as_u64().unwrap() > 7, "{report}");
    assert_eq!(report["errors"], 7, "{report}");
    let samples = report["error_samples"].as_array().unwrap();
    assert_eq!(samples.len(), 5, "the first five are quoted: {report}");
    assert_eq!(samples[0]["status"], 503);
    assert!(samples[0]["body"].as_str().unwrap().contains("ServiceUnavailable"), "{report}");

    // Once the faults are spent, the same run has none.
    let (ok, report) = bench(dir, &server.http, &args);
    assert!(ok);
    assert_eq!(report["errors"], 0, "{report}");
}

#[test]
fn a_server_that_refuses_the_key_fails_the_run_before_measuring() {
    let workspace = tempfile::tempdir().unwrap();
    let dir = workspace.path();
    let server = Server::start(&dir.join("amzpay-data"));
    let other = tempfile::tempdir().unwrap();
    let other_server = Server::start(&other.path().join("amzpay-data"));
    drop(other_server);
    // Another data directory's development merchant is unknown to this server.
    let output = amzpay()
        .current_dir(other.path())
        .args(["bench", "--url", &server.http, "--scenario", "create-charge", "--duration", "0.2", "--json"])
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(output.stdout.is_empty(), "no report: {}", String::from_utf8_lossy(&output.stdout));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("setting up") && stderr.contains("InvalidAuthentication"), "{stderr}");
}
