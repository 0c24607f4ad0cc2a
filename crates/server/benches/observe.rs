//! Criterion benchmarks of what observing a request costs (docs/performance.md): its id,
//! its span, its metrics and its log line (`telemetry::observe`, which every request goes
//! through), around a handler that answers at once, with no log subscriber and with the
//! subscribers `amzpay serve` installs writing to `/dev/null` (a write(2) per line, as to a
//! pipe).
//!
//! `cargo bench -p amzpay-server --bench observe`

use std::sync::Mutex;

use amzpay_server::routes::OPERATIONS;
use amzpay_server::telemetry::{self, OperationIndex};
use axum::body::Body;
use criterion::{Criterion, criterion_group, criterion_main};
use http::{Request, Response};
use tracing_subscriber::EnvFilter;

fn request() -> Request<()> {
    Request::get("/v2/charges/S01-5105180-3221187-C067494").body(()).unwrap()
}

/// What an API handler's answer carries: its status and the operation it ran.
async fn handler(_request: Request<()>) -> Response<Body> {
    let mut response = Response::new(Body::empty());
    let get_charge = OPERATIONS.iter().find(|operation| operation.name == "GetCharge").unwrap();
    response.extensions_mut().insert(OperationIndex::of(get_charge).unwrap());
    response
}

fn dev_null() -> Mutex<std::fs::File> {
    Mutex::new(std::fs::OpenOptions::new().write(true).open("/dev/null").unwrap())
}

fn observe(c: &mut Criterion) {
    telemetry::install();
    let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
    let observed = || runtime.block_on(telemetry::observe(request(), handler));
    // The path timed is the one named: the answer carries its id and the counter moves.
    let before = telemetry::metrics().render().unwrap();
    assert!(observed().headers().contains_key("x-amz-pay-request-id"));
    let after = telemetry::metrics().render().unwrap();
    assert_ne!(before, after);
    assert!(after.contains(r#"amzpay_http_requests_total{operation="GetCharge",status="200"}"#), "{after}");

    let mut group = c.benchmark_group("observe");
    group.bench_function("handler_alone", |b| b.iter(|| runtime.block_on(handler(request()))));
    group.bench_function("no_subscriber", |b| b.iter(observed));
    let subscribers = [
        ("json_info", true, "info"),
        ("json_request_lines", true, "info,amzpay::request=debug"),
        ("human_info", false, "info"),
        ("human_request_lines", false, "info,amzpay::request=debug"),
    ];
    for (name, json, filter) in subscribers {
        let builder = tracing_subscriber::fmt().with_env_filter(EnvFilter::new(filter)).with_writer(dev_null());
        let dispatch = if json {
            tracing::Dispatch::new(builder.json().finish())
        } else {
            tracing::Dispatch::new(builder.with_ansi(false).finish())
        };
        tracing::dispatcher::with_default(&dispatch, || {
            group.bench_function(name, |b| b.iter(observed));
        });
    }
    group.finish();
}

criterion_group!(benches, observe);
criterion_main!(benches);
