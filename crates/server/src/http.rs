//! The HTTP edge: one handler for every API path. It reads the body (bounded), answers
//! with Amazon's error envelope, and stamps every response with `x-amz-pay-request-id`.

use std::sync::Arc;

use amzpay_domain::sandbox::simulation;
use amzpay_domain::{ReasonCode, Refusal};
use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::response::Response;
use http::header::{CONTENT_TYPE, HOST};
use http::{HeaderValue, StatusCode};

use crate::AppState;
use crate::auth::{SignedRequest, authenticate};
use crate::config::MAX_BODY_BYTES;
use crate::ops::{Context, Reply, check_idempotency_key, execute};
use crate::routes::{ApiPath, Idempotency, route};

pub const REQUEST_ID_HEADER: &str = "x-amz-pay-request-id";
pub const SIMULATION_CODE_HEADER: &str = "x-amz-pay-simulation-code";

pub fn router(state: Arc<AppState>) -> Router {
    Router::new()
        .merge(crate::pages::router())
        .merge(crate::checkout_pages::router())
        .merge(crate::ipn::router())
        .fallback(handle)
        .with_state(state)
}

fn respond(reply: Reply) -> Response {
    let mut response = Response::new(Body::from(reply.body));
    *response.status_mut() = StatusCode::from_u16(reply.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    let request_id = uuid::Uuid::new_v4().to_string();
    headers.insert(REQUEST_ID_HEADER, HeaderValue::from_str(&request_id).expect("a uuid is a valid header"));
    response
}

/// Every API request.
pub async fn handle(State(state): State<Arc<AppState>>, request: Request) -> Response {
    respond(process(&state, request).await.unwrap_or_else(|e| Reply::error(&e)))
}

async fn process(state: &Arc<AppState>, request: Request) -> Result<Reply, Refusal> {
    let (parts, body) = request.into_parts();
    let body: Bytes = axum::body::to_bytes(body, MAX_BODY_BYTES).await.map_err(|_| {
        Refusal::new(ReasonCode::InvalidRequest, format!("the request body is larger than {MAX_BODY_BYTES} bytes"))
    })?;
    let path = ApiPath::parse(parts.uri.path())?;
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
    let signed = SignedRequest {
        method: parts.method.as_str(),
        raw_path: parts.uri.path(),
        raw_query: parts.uri.query().unwrap_or(""),
        headers: &headers,
        host: host.as_deref(),
        body: &body,
        path_environment: path.environment,
        host_region: tunneled.map(|amazon| amazon.region),
    };
    let real_now = crate::system_now();
    let caller = authenticate(&state.keys, state.store.as_ref(), &signed, real_now).await?;
    let routed = route(&parts.method, &path.segments)?;
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
        public_url: match tunneled {
            Some(amazon) => crate::proxy::pages_base(amazon.region).to_owned(),
            None => state.public_url.clone(),
        },
        query: parts.uri.query().unwrap_or("").to_owned(),
    };
    Ok(execute(state, context, routed, key, body.to_vec()).await)
}
