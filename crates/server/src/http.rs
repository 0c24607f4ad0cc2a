//! The HTTP edge: one handler for every API path. It authenticates what the headers can
//! decide, then reads the body (bounded in size, and by the body budget), checks the
//! signature, answers with Amazon's error envelope, and stamps every response with
//! `x-amz-pay-request-id`. Also `/healthz`, `/readyz` and `/openapi.json`.

use std::sync::Arc;
use std::time::Duration;

use amzpay_domain::sandbox::simulation;
use amzpay_domain::{ReasonCode, Refusal};
use amzpay_store::Store;
use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::response::Response;
use axum::routing::get;
use http::header::{CONTENT_TYPE, HOST};
use http::{HeaderValue, StatusCode};
use http_body::Body as _;
use tokio::sync::OwnedSemaphorePermit;

use crate::AppState;
use crate::auth::{RequestHead, check_headers};
use crate::config::{MAX_BODY_BYTES, READINESS_TIMEOUT_MS};
use crate::ops::{Context, Reply, check_idempotency_key, execute};
use crate::routes::{ApiPath, Idempotency, Operation, route};
use crate::telemetry::OperationIndex;

pub const REQUEST_ID_HEADER: &str = "x-amz-pay-request-id";
pub const SIMULATION_CODE_HEADER: &str = "x-amz-pay-simulation-code";

pub fn router(state: Arc<AppState>) -> Router {
    with_panic_guard(
        Router::new()
            .route("/healthz", get(healthz))
            .route("/readyz", get(readyz))
            .route(crate::openapi::OPENAPI_PATH, get(crate::openapi::serve))
            .merge(crate::pages::router())
            .merge(crate::checkout_pages::router())
            .merge(crate::ipn::router())
            .merge(crate::admin::router(state.clone()))
            .merge(crate::dashboard::router(state.clone()))
            .fallback(handle)
            // The pages' forms are bounded like the API's bodies (axum's default is 2 MB).
            .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
            .with_state(state),
    )
}

/// A handler that panics answers Amazon's `500 InternalServerError` envelope, and the log
/// says so with the panic's message; the connection and the server go on. (A store job's
/// panic is caught by the store itself and rolled back; this is for the rest.)
fn with_panic_guard(router: Router) -> Router {
    router.layer(tower_http::catch_panic::CatchPanicLayer::custom(panic_response))
}

fn panic_response(payload: Box<dyn std::any::Any + Send + 'static>) -> Response {
    let message = match (payload.downcast_ref::<&str>(), payload.downcast_ref::<String>()) {
        (Some(text), _) => (*text).to_owned(),
        (None, Some(text)) => text.clone(),
        (None, None) => "a panic without a message".to_owned(),
    };
    tracing::error!(panic = %message, "a request handler panicked; answered 500 InternalServerError");
    let refusal = Refusal::new(ReasonCode::InternalServerError, "an internal error occurred; retry later");
    respond(Reply::error(&refusal))
}

fn health(status: StatusCode, body: serde_json::Value) -> Response {
    let mut response = Response::new(Body::from(body.to_string()));
    *response.status_mut() = status;
    response.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

/// `GET /healthz` (product.md): the process answers. Unsigned.
async fn healthz() -> Response {
    health(StatusCode::OK, serde_json::json!({ "status": "ok" }))
}

/// `GET /readyz` (product.md): the database answers a trivial read, within
/// `READINESS_TIMEOUT_MS`. Unsigned.
async fn readyz(State(state): State<Arc<AppState>>) -> Response {
    readiness(state.store.as_ref()).await
}

pub(crate) async fn readiness(store: &dyn Store) -> Response {
    // A lookup by a key id no key has: one indexed read, whatever the data.
    let read = store.read(|tx| tx.key("").map(|_| ()));
    let outcome = tokio::time::timeout(Duration::from_millis(READINESS_TIMEOUT_MS), read).await;
    match outcome {
        Ok(Ok(())) => health(StatusCode::OK, serde_json::json!({ "status": "ready" })),
        Ok(Err(error)) => {
            tracing::warn!(%error, "not ready: the database did not answer");
            health(
                StatusCode::SERVICE_UNAVAILABLE,
                serde_json::json!({ "status": "unavailable", "reason": "the database did not answer" }),
            )
        }
        Err(_) => {
            tracing::warn!("not ready: the database did not answer in time");
            health(
                StatusCode::SERVICE_UNAVAILABLE,
                serde_json::json!({ "status": "unavailable", "reason": "the database did not answer in time" }),
            )
        }
    }
}

pub(crate) fn respond(reply: Reply) -> Response {
    let mut response = Response::new(Body::from(reply.body));
    *response.status_mut() = StatusCode::from_u16(reply.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    // The id the request's log lines carry (`telemetry::observe`).
    headers.insert(REQUEST_ID_HEADER, crate::telemetry::current_request_id().header_value());
    response
}

/// Every API request.
pub async fn handle(State(state): State<Arc<AppState>>, request: Request) -> Response {
    let mut operation = None;
    let mut response = respond(process(&state, request, &mut operation).await.unwrap_or_else(|e| Reply::error(&e)));
    // For the request's metrics: which operation answered.
    if let Some(index) = operation.and_then(OperationIndex::of) {
        response.extensions_mut().insert(index);
    }
    response
}

/// `operation` is set as soon as the path names one, even if the request is then refused.
async fn process(
    state: &Arc<AppState>,
    request: Request,
    operation: &mut Option<&'static Operation>,
) -> Result<Reply, Refusal> {
    let (parts, body) = request.into_parts();
    let path = ApiPath::parse(parts.uri.path())?;
    // Picked now to name the operation in the metrics; a routing refusal still comes after
    // authentication's, as before.
    let routed = route(&parts.method, &path.segments);
    *operation = routed.as_ref().ok().map(|routed| routed.operation);
    let headers: Vec<(String, String)> = parts
        .headers
        .iter()
        .map(|(name, value)| (name.as_str().to_owned(), String::from_utf8_lossy(value.as_bytes()).into_owned()))
        .collect();
    let host = parts
        .headers
        .get(HOST)
        .and_then(|h| h.to_str().ok())
        .map(str::to_owned)
        .or_else(|| parts.uri.authority().map(|a| a.to_string()));
    // Through a tunnel to one of Amazon's hosts: the region is that host's, and the links
    // handed out use Amazon's names too.
    let tunneled = parts.extensions.get::<crate::proxy::Tunneled>().map(|t| t.0);
    let head = RequestHead {
        method: parts.method.as_str(),
        raw_path: parts.uri.path(),
        raw_query: parts.uri.query().unwrap_or(""),
        headers: &headers,
        host: host.as_deref(),
        path_environment: path.environment,
        host_region: tunneled.map(|amazon| amazon.region),
    };
    let real_now = crate::system_now();
    // Everything the headers can decide is decided before the body is read.
    let checked = check_headers(&state.keys, state.store.as_ref(), &head, real_now).await?;
    let (body, _reserved) = read_body(state, body).await?;
    let caller = checked.verify_signature(&head, &body)?;
    let routed = routed?;
    let operation = routed.operation;
    let key = match parts.headers.get("x-amz-pay-idempotency-key") {
        Some(value) => {
            let text = value
                .to_str()
                .map_err(|_| Refusal::new(ReasonCode::InvalidHeaderValue, "x-amz-pay-idempotency-key is not ASCII"))?;
            if text.trim().is_empty() {
                return Err(Refusal::new(ReasonCode::MissingHeaderValue, "x-amz-pay-idempotency-key is empty"));
            }
            check_idempotency_key(text.trim())?;
            Some(text.trim().to_owned())
        }
        None => None,
    };
    if operation.idempotency == Idempotency::Required && key.is_none() {
        return Err(Refusal::new(
            ReasonCode::MissingHeader,
            format!("{} requires the x-amz-pay-idempotency-key header", operation.name),
        ));
    }
    // Simulation codes may arrive signed or not (spec §3).
    let simulation = match parts.headers.get(SIMULATION_CODE_HEADER) {
        Some(value) => {
            let code = value.to_str().unwrap_or("").trim();
            Some(simulation(operation.simulated, code, caller.environment)?)
        }
        None => None,
    };
    let context = Context {
        caller,
        real_now,
        delays: state.delays,
        simulation,
        origin: crate::ops::origin_of(operation, simulation),
        public_url: match tunneled {
            Some(amazon) => crate::proxy::pages_base(amazon.region).to_owned(),
            None => state.public_url.clone(),
        },
        query: parts.uri.query().unwrap_or("").to_owned(),
    };
    Ok(execute(state, context, routed, key, Vec::from(body)).await)
}

fn body_too_large() -> Refusal {
    Refusal::new(ReasonCode::InvalidRequest, format!("the request body is larger than {MAX_BODY_BYTES} bytes"))
}

/// Reads an authenticated request's body, within the body budget: it reserves the body's
/// declared length (the largest body when it declares none) before reading, so a body the
/// budget cannot hold is refused without being read, and the reservation is kept until the
/// request is answered (a write's body waits in the writer's queue until then).
async fn read_body(state: &AppState, body: Body) -> Result<(Bytes, Option<OwnedSemaphorePermit>), Refusal> {
    let declared = body.size_hint().upper();
    if declared.is_some_and(|length| length > MAX_BODY_BYTES as u64) {
        return Err(body_too_large());
    }
    let reserve = declared.map_or(MAX_BODY_BYTES, |length| length as usize);
    let reserved = match reserve {
        0 => None,
        bytes => {
            let permits = u32::try_from(bytes).expect("a body is at most MAX_BODY_BYTES");
            let permit = state.body_budget.clone().try_acquire_many_owned(permits).map_err(|_| {
                tracing::warn!("request body budget spent; shedding load");
                Refusal::new(ReasonCode::ServiceUnavailable, "the server holds too many request bodies; retry later")
            })?;
            Some(permit)
        }
    };
    match axum::body::to_bytes(body, MAX_BODY_BYTES).await {
        Ok(bytes) => Ok((bytes, reserved)),
        Err(error) if is_length_limit(&error) => Err(body_too_large()),
        // The listener's body deadline passed, or the client went away.
        Err(_) => Err(crate::listener::body_timed_out()),
    }
}

fn is_length_limit(error: &axum::Error) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(cause) = source {
        if cause.is::<http_body_util::LengthLimitError>() {
            return true;
        }
        source = cause.source();
    }
    false
}

#[cfg(test)]
mod tests {
    use amzpay_store::{BoxFuture, ReadJob, StoreError, WriteJob};

    use super::*;

    /// A database that never answers a read.
    struct Unreachable;

    impl Store for Unreachable {
        fn submit_write(&self, _job: WriteJob) -> Result<(), StoreError> {
            Err(StoreError::WriterStopped)
        }

        fn run_read(&self, _job: ReadJob) -> BoxFuture<'_, Result<(), StoreError>> {
            Box::pin(async { Err(StoreError::ReadFailed("the database is gone")) })
        }
    }

    #[tokio::test]
    async fn readyz_answers_503_when_the_database_does_not_answer() {
        let response = readiness(&Unreachable).await;
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        let body = axum::body::to_bytes(response.into_body(), 1024).await.unwrap();
        let body: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(body["status"], "unavailable");
    }

    async fn panics() -> &'static str {
        panic!("a handler bug")
    }

    /// No request reaches a panic in the API's handlers that we know of; this router's only
    /// route panics, to show what any panic a request still causes answers.
    #[tokio::test]
    async fn a_panicking_handler_answers_amazons_500_envelope_and_the_server_serves_on() {
        let app = with_panic_guard(
            Router::new()
                .route("/panic", axum::routing::get(panics))
                .route("/ok", axum::routing::get(|| async { "fine" })),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        let client = reqwest::Client::new();
        for _ in 0..2 {
            let response = client.get(format!("http://{address}/panic")).send().await.unwrap();
            assert_eq!(response.status(), 500);
            assert!(response.headers().contains_key(REQUEST_ID_HEADER));
            let body: serde_json::Value = response.json().await.unwrap();
            assert_eq!(body["reasonCode"], "InternalServerError", "{body}");
            assert!(body["message"].as_str().is_some_and(|m| !m.contains("handler bug")), "{body}");
        }
        let fine = client.get(format!("http://{address}/ok")).send().await.unwrap();
        assert_eq!((fine.status().as_u16(), fine.text().await.unwrap()), (200, "fine".to_owned()));
    }
}
