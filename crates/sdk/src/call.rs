//! One API call and its sending: `Call` owns a clone of the client and everything it sends,
//! so its future is `'static + Send` and can be spawned; sending signs each attempt afresh,
//! retries what is safe to retry, and turns the answer into a typed value or an `Error`.
//!
//! This is the only place that does HTTP. It never retries a call whose repetition could
//! change something twice: only reads (GET) and calls carrying an idempotency key are retried,
//! and the sandbox clock helpers never are.

use std::fmt;
use std::future::{Future, IntoFuture};
use std::marker::PhantomData;
use std::pin::Pin;
use std::time::Duration;

use amzpay_signing::canonical_query_from_pairs;
use rand::Rng;
use serde::de::DeserializeOwned;

use crate::client::Client;
use crate::error::{ApiError, Error, ReasonCode, Result, TransportError, TransportErrorKind};

/// The header carrying the idempotency key.
pub const IDEMPOTENCY_KEY_HEADER: &str = "x-amz-pay-idempotency-key";
/// The header naming a sandbox simulation.
pub const SIMULATION_CODE_HEADER: &str = "x-amz-pay-simulation-code";
/// The header Amazon stamps on every response.
pub const REQUEST_ID_HEADER: &str = "x-amz-pay-request-id";

/// A fresh idempotency key: a UUID without dashes, as the official SDKs make them.
pub fn new_idempotency_key() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

/// Statuses worth retrying (spec §13): timeouts, too early, throttling, server errors.
/// Whether a call is retried at all depends on the call too (see [`Call`]).
pub fn is_retryable_status(status: u16) -> bool {
    matches!(status, 408 | 425 | 429) || (500..600).contains(&status)
}

/// The HTTP methods of Amazon Pay API v2.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Method {
    /// Reads; always safe to retry.
    Get,
    /// Creates or acts.
    Post,
    /// Updates.
    Patch,
    /// Cancels or closes (with a body).
    Delete,
    /// Replaces a whole value (amzpay's IPN endpoint test helper).
    Put,
}

impl Method {
    /// The method as sent and signed: `GET`, `POST`, `PATCH`, `DELETE`.
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Patch => "PATCH",
            Method::Delete => "DELETE",
            Method::Put => "PUT",
        }
    }

    fn to_http(self) -> reqwest::Method {
        match self {
            Method::Get => reqwest::Method::GET,
            Method::Post => reqwest::Method::POST,
            Method::Patch => reqwest::Method::PATCH,
            Method::Delete => reqwest::Method::DELETE,
            Method::Put => reqwest::Method::PUT,
        }
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Whether an operation may ever be retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Retries {
    /// Retried when it is a read or carries an idempotency key.
    WhenSafe,
    /// Never retried, whatever it carries: the sandbox clock helpers, where a second
    /// `advance` would move the clock twice.
    Never,
}

/// One API call, ready to send. It owns a clone of the [`Client`] and its request, so it
/// (and its future) can outlive the borrow that made it and be spawned.
///
/// - `.await` it for the typed answer `T`;
/// - [`Call::send`] for the typed answer with its status and request id;
/// - [`Call::into_json`] to have the answer as the JSON received instead of `T`.
///
/// Before sending, add headers (signed with the others) or choose the idempotency key.
///
/// Retries ([`crate::RetryPolicy`]) happen only where a repeat cannot do something twice:
/// reads (GET) and calls with an idempotency key. Updates (PATCH, PUT), Cancel and Close
/// (DELETE) and actions without a key, and the sandbox clock helpers, are sent once.
///
/// ```no_run
/// # async fn example(client: amzpay_sdk::Client) -> amzpay_sdk::Result<()> {
/// use amzpay_sdk::*;
/// let permission = ChargePermissionId::parse("S01-5105180-3221187").expect("a permission id");
/// let request = CreateChargeRequest::new(permission, Price::parse("14.00", Currency::Usd).unwrap());
/// let charge = client
///     .create_charge(&request)
///     .header(SIMULATION_CODE_HEADER, "HardDeclined")
///     .idempotency_key("order-42-attempt-1")
///     .await?;
/// # Ok(()) }
/// ```
#[must_use = "a call does nothing until awaited or sent"]
pub struct Call<T> {
    client: Client,
    method: Method,
    /// The path as sent, ids percent-encoded: `/v2/charges/S01-...`.
    path: String,
    /// Query parameters, decoded; signed, and sent in their canonical order and encoding.
    query: Vec<(String, String)>,
    body: Vec<u8>,
    idempotency_key: Option<String>,
    headers: Vec<(String, String)>,
    retries: Retries,
    _answer: PhantomData<fn() -> T>,
}

impl<T> fmt::Debug for Call<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Call")
            .field("method", &self.method)
            .field("path", &self.path)
            .field("query", &self.query)
            .field("idempotency_key", &self.idempotency_key)
            .field("headers", &self.headers)
            .finish_non_exhaustive()
    }
}

/// A successful answer with its status and request id.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Response<T> {
    /// 200, 201 or 202.
    pub status: u16,
    /// `x-amz-pay-request-id`.
    pub request_id: Option<String>,
    /// The object.
    pub body: T,
}

impl<T> Call<T> {
    pub(crate) fn new(
        client: Client,
        method: Method,
        path: String,
        body: Vec<u8>,
        idempotency_key: Option<String>,
        retries: Retries,
    ) -> Call<T> {
        Call {
            client,
            method,
            path,
            query: Vec::new(),
            body,
            idempotency_key,
            headers: Vec::new(),
            retries,
            _answer: PhantomData,
        }
    }

    /// Adds a header (signed with the others), e.g. [`SIMULATION_CODE_HEADER`].
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_ascii_lowercase(), value.to_owned()));
        self
    }

    /// Adds a query parameter, given decoded (`limit`, `5`): it is signed with the request
    /// and sent percent-encoded.
    pub fn query(mut self, name: &str, value: &str) -> Self {
        self.query.push((name.to_owned(), value.to_owned()));
        self
    }

    /// Uses this idempotency key instead of a generated one (for your own retries across
    /// process restarts). A call with a key is retried on retryable failures.
    pub fn idempotency_key(mut self, key: &str) -> Self {
        self.idempotency_key = Some(key.to_owned());
        self
    }

    /// The same call, answering with the JSON as received (whatever its fields) instead of
    /// `T`: for printing or keeping Amazon's answer exactly.
    pub fn into_json(self) -> Call<serde_json::Value> {
        let Call { client, method, path, query, body, idempotency_key, headers, retries, _answer } = self;
        Call { client, method, path, query, body, idempotency_key, headers, retries, _answer: PhantomData }
    }

    /// The method.
    pub fn method(&self) -> Method {
        self.method
    }

    /// The path as it will be sent and signed, ids percent-encoded.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The query parameters, decoded, in the order they were added.
    pub fn query_pairs(&self) -> &[(String, String)] {
        &self.query
    }

    /// Whether a failed attempt of this call may be repeated: a read, or a call with an
    /// idempotency key, unless the operation is one that is never retried.
    pub fn is_retried(&self) -> bool {
        match self.retries {
            Retries::Never => false,
            Retries::WhenSafe => self.method == Method::Get || self.idempotency_key.is_some(),
        }
    }
}

impl<T: DeserializeOwned + Send + 'static> Call<T> {
    /// Sends the call and returns the typed answer with its status and request id.
    // Written out rather than `async fn` so that the signature promises `Send + 'static`
    // (what spawning needs) instead of leaving it to inference.
    #[allow(clippy::manual_async_fn)]
    pub fn send(self) -> impl Future<Output = Result<Response<T>>> + Send + 'static {
        async move {
            let (status, request_id, body) = self.send_bytes().await?;
            let parsed = serde_json::from_slice(&body).map_err(|source| Error::Decode {
                status,
                body: String::from_utf8_lossy(&body).into_owned(),
                source,
            })?;
            Ok(Response { status, request_id, body: parsed })
        }
    }
}

impl<T> Call<T> {
    /// Sends with retries where they are safe. The idempotency key was fixed when the call
    /// was made, so every attempt carries the same one and a retried charge can never
    /// charge twice.
    async fn send_bytes(self) -> Result<(u16, Option<String>, Vec<u8>)> {
        let retried = self.is_retried();
        let client = self.client;
        let config = client.config();
        let policy = &config.retry;
        let (_, base) = config.endpoint();
        let mut headers = self.headers;
        if let Some(key) = &self.idempotency_key {
            headers.retain(|(name, _)| name != IDEMPOTENCY_KEY_HEADER);
            headers.push((IDEMPOTENCY_KEY_HEADER.to_owned(), key.clone()));
        }
        let max_retries = if retried { policy.max_retries } else { 0 };
        // The canonical query is a valid encoded query too: sending exactly what was signed
        // leaves no room for two encodings of one value to differ.
        let url = match canonical_query_from_pairs(self.query.iter().cloned()) {
            query if query.is_empty() => format!("{base}{}", self.path),
            query => format!("{base}{}?{query}", self.path),
        };
        let mut retry = 0u32;
        loop {
            let signed = client.signed_headers(self.method.as_str(), &self.path, &self.query, &self.body, &headers);
            let mut request = client.http().request(self.method.to_http(), &url);
            for (name, value) in &signed {
                request = request.header(name, value);
            }
            let outcome = request.body(self.body.clone()).send().await;
            let wait = match outcome {
                Ok(response) => {
                    let status = response.status().as_u16();
                    let request_id =
                        response.headers().get(REQUEST_ID_HEADER).and_then(|v| v.to_str().ok()).map(str::to_owned);
                    let after = retry_after(response.headers());
                    if (200..300).contains(&status) {
                        let body = response.bytes().await.map_err(transport)?.to_vec();
                        return Ok((status, request_id, body));
                    }
                    if !is_retryable_status(status) || retry >= max_retries {
                        let body = response.bytes().await.map_err(transport)?.to_vec();
                        return Err(api_error(status, request_id, &body));
                    }
                    tracing::debug!(status, retry, "retrying");
                    after
                }
                Err(error) => {
                    if retry >= max_retries {
                        return Err(transport(error));
                    }
                    tracing::debug!(%error, retry, "retrying after a transport error");
                    None
                }
            };
            retry += 1;
            let jitter: f64 = rand::thread_rng().r#gen();
            config.sleeper.sleep(policy.delay(retry, wait, jitter)).await;
        }
    }
}

fn transport(error: reqwest::Error) -> Error {
    // A connect timeout is both; it counts as Connect because the request was never sent.
    let kind = if error.is_connect() {
        TransportErrorKind::Connect
    } else if error.is_timeout() {
        TransportErrorKind::Timeout
    } else {
        TransportErrorKind::Other
    };
    Error::Transport(TransportError::new(kind, error))
}

fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    let value = headers.get(reqwest::header::RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let format = time::format_description::well_known::Rfc2822;
    let at = time::OffsetDateTime::parse(value, &format).ok()?;
    let wait = at - time::OffsetDateTime::now_utc();
    Some(Duration::try_from(wait).unwrap_or(Duration::ZERO))
}

fn api_error(status: u16, request_id: Option<String>, body: &[u8]) -> Error {
    #[derive(serde::Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Envelope {
        reason_code: Option<String>,
        message: Option<String>,
    }
    let envelope: Option<Envelope> = serde_json::from_slice(body).ok();
    let (reason, message) = match envelope {
        Some(Envelope { reason_code: Some(code), message }) => (code, message.unwrap_or_default()),
        _ => (format!("HTTP{status}"), String::from_utf8_lossy(body).into_owned()),
    };
    Error::Api(ApiError { status, reason_code: ReasonCode::parse(&reason), message, request_id })
}

impl<T: DeserializeOwned + Send + 'static> IntoFuture for Call<T> {
    type Output = Result<T>;
    type IntoFuture = Pin<Box<dyn Future<Output = Result<T>> + Send + 'static>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(async move { self.send().await.map(|response| response.body) })
    }
}
