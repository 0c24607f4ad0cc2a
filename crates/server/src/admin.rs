//! Operator endpoints and the gate in front of them (product.md, "Operating the server").
//!
//! The gate answers only requests from loopback addresses, unless the server was started
//! with an admin token (`--admin-token`, `AMZPAY_ADMIN_TOKEN`): then it requires
//! `Authorization: Bearer TOKEN` of every request, loopback ones included, and lets any
//! address in with it. Behind a reverse proxy on the same host every request comes from
//! loopback: such a deployment must set a token. A browser cannot add a bearer header to
//! the pages it loads, so the token is also taken as the password of HTTP Basic
//! authentication (any user name), and a refusal offers both schemes: a browser opening
//! the dashboard asks for it once and sends it with every request after.
//!
//! The token is kept only as its SHA-256 digest and compared in constant time
//! (`subtle`), digests of equal length whatever was sent: neither the comparison's time
//! nor a `Debug` print nor a log line tells anything of it. The peer's address comes from
//! the listener (`ConnectionContext::peer`); a request without one (a router served by
//! something else) is taken as not loopback.
//!
//! Every route of [`router`] is behind the gate: an operator page or endpoint (the
//! dashboard, later) is added there, or wrapped by [`gated`] where it is defined.

use std::net::IpAddr;
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use axum::routing::get;
use http::header::{AUTHORIZATION, CONTENT_TYPE, WWW_AUTHENTICATE};
use http::{HeaderValue, StatusCode};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::AppState;
use crate::listener::ConnectionContext;

/// The media type of Prometheus' text format, version 0.0.4 (what scrapers ask for).
pub(crate) const PROMETHEUS_TEXT: &str = "text/plain; version=0.0.4; charset=utf-8";
/// Where the metrics are served (also listed in the OpenAPI document).
pub(crate) const METRICS_PATH: &str = "/metrics";

/// The token operator endpoints require, as its digest. `Debug` shows nothing of it.
#[derive(Clone)]
pub struct AdminToken {
    digest: [u8; 32],
}

impl AdminToken {
    /// A token: at least one character, all visible ASCII (what an `Authorization` header
    /// carries as is).
    pub fn new(token: &str) -> Result<AdminToken, String> {
        if token.is_empty() {
            return Err("the admin token is empty".to_owned());
        }
        if !token.bytes().all(|b| b.is_ascii_graphic()) {
            return Err("the admin token must be visible ASCII characters, without spaces".to_owned());
        }
        Ok(AdminToken { digest: Sha256::digest(token.as_bytes()).into() })
    }

    fn matches(&self, presented: &[u8]) -> bool {
        let presented: [u8; 32] = Sha256::digest(presented).into();
        self.digest.ct_eq(&presented).into()
    }
}

impl std::fmt::Debug for AdminToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AdminToken(<redacted>)")
    }
}

/// Why the gate refused a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// No token is configured and the client is not on loopback: 403.
    NotLoopback,
    /// A token is configured and the request has no bearer token: 401.
    MissingToken,
    /// A token is configured and the request's is another: 401.
    WrongToken,
}

impl Refused {
    fn response(self) -> Response {
        let (status, error, message) = match self {
            Refused::NotLoopback => (
                StatusCode::FORBIDDEN,
                "forbidden",
                "operator endpoints answer loopback clients only; start the server with --admin-token to allow others",
            ),
            Refused::MissingToken => (
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "operator endpoints require the admin token: the header Authorization: Bearer <token>, or the token as the password of HTTP Basic authentication",
            ),
            Refused::WrongToken => (StatusCode::UNAUTHORIZED, "unauthorized", "the admin token is not the server's"),
        };
        let body = serde_json::json!({ "error": error, "message": message });
        let mut response = Response::new(Body::from(body.to_string()));
        *response.status_mut() = status;
        response.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        if status == StatusCode::UNAUTHORIZED {
            // Basic first: a browser asks for the token as a password (any user name).
            let challenges = "Basic realm=\"amzpay operator\", Bearer realm=\"amzpay\"";
            response.headers_mut().insert(WWW_AUTHENTICATE, HeaderValue::from_static(challenges));
        }
        response
    }
}

/// The gate's decision for a request from `peer` with this `authorization` header, when
/// the server's token is `token`.
pub fn check(
    peer: Option<IpAddr>,
    authorization: Option<&HeaderValue>,
    token: Option<&AdminToken>,
) -> Result<(), Refused> {
    let Some(token) = token else {
        return match peer {
            Some(ip) if ip.to_canonical().is_loopback() => Ok(()),
            _ => Err(Refused::NotLoopback),
        };
    };
    let header = authorization.map(HeaderValue::as_bytes);
    let presented = match (header.and_then(bearer), header.and_then(basic_password)) {
        (Some(token), _) => token.to_vec(),
        (None, Some(password)) => password,
        (None, None) => return Err(Refused::MissingToken),
    };
    if token.matches(&presented) { Ok(()) } else { Err(Refused::WrongToken) }
}

/// The password of `Basic <base64 of user:password>` (RFC 7617; the scheme's name is
/// case-insensitive).
fn basic_password(header: &[u8]) -> Option<Vec<u8>> {
    use base64::Engine;
    let scheme = header.get(..6)?;
    if !scheme.eq_ignore_ascii_case(b"basic ") {
        return None;
    }
    let credentials = base64::engine::general_purpose::STANDARD.decode(header[6..].trim_ascii()).ok()?;
    let colon = credentials.iter().position(|&b| b == b':')?;
    let password = credentials[colon + 1..].to_vec();
    (!password.is_empty()).then_some(password)
}

/// The credentials of `Bearer <token>` (the scheme's name is case-insensitive, RFC 9110).
fn bearer(header: &[u8]) -> Option<&[u8]> {
    let scheme = header.get(..7)?;
    if !scheme.eq_ignore_ascii_case(b"bearer ") {
        return None;
    }
    let token = header[7..].trim_ascii();
    (!token.is_empty()).then_some(token)
}

async fn gate(State(state): State<Arc<AppState>>, request: Request, next: Next) -> Response {
    let peer = request.extensions().get::<ConnectionContext>().and_then(ConnectionContext::peer).map(|a| a.ip());
    match check(peer, request.headers().get(AUTHORIZATION), state.admin_token.as_ref()) {
        Ok(()) => next.run(request).await,
        Err(refused) => {
            tracing::info!(peer = ?peer, path = request.uri().path(), reason = ?refused, "operator endpoint refused");
            refused.response()
        }
    }
}

/// The operator endpoints, every one behind the gate.
pub fn router(state: Arc<AppState>) -> Router<Arc<AppState>> {
    gated(Router::new().route(METRICS_PATH, get(metrics)), state)
}

/// `routes` behind the gate (a route layer: paths they do not match fall through to the
/// API as before). For operator pages defined in a module of their own.
pub fn gated(routes: Router<Arc<AppState>>, state: Arc<AppState>) -> Router<Arc<AppState>> {
    routes.route_layer(axum::middleware::from_fn_with_state(state, gate))
}

/// `GET /metrics`: the process's metrics in Prometheus' text format.
async fn metrics() -> Response {
    let (status, content_type, body) = match crate::telemetry::metrics().render() {
        Some(text) => (StatusCode::OK, PROMETHEUS_TEXT, text),
        None => (
            StatusCode::SERVICE_UNAVAILABLE,
            "application/json",
            serde_json::json!({
                "error": "unavailable",
                "message": "another metrics recorder was installed in this process; it has the metrics"
            })
            .to_string(),
        ),
    };
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = status;
    response.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> Option<IpAddr> {
        Some(text.parse().unwrap())
    }

    fn header(text: &str) -> HeaderValue {
        HeaderValue::from_str(text).unwrap()
    }

    #[test]
    fn without_a_token_only_loopback_clients_pass() {
        for peer in ["127.0.0.1", "127.8.9.10", "::1", "::ffff:127.0.0.1"] {
            assert_eq!(check(ip(peer), None, None), Ok(()), "{peer}");
        }
        for peer in ["10.0.0.1", "192.168.1.2", "::ffff:10.0.0.1", "2001:db8::1", "0.0.0.0"] {
            assert_eq!(check(ip(peer), None, None), Err(Refused::NotLoopback), "{peer}");
            // A bearer header changes nothing when no token is configured.
            assert_eq!(check(ip(peer), Some(&header("Bearer x")), None), Err(Refused::NotLoopback), "{peer}");
        }
        assert_eq!(check(None, None, None), Err(Refused::NotLoopback));
    }

    #[test]
    fn with_a_token_every_client_needs_it_and_any_address_passes_with_it() {
        let token = AdminToken::new("s3cret-Token_1").unwrap();
        for peer in [ip("127.0.0.1"), ip("10.0.0.1"), ip("2001:db8::1"), None] {
            assert_eq!(check(peer, None, Some(&token)), Err(Refused::MissingToken), "{peer:?}");
            for wrong in ["Bearer s3cret-Token_", "Bearer s3cret-Token_12", "Bearer S3CRET-TOKEN_1", "Bearer x"] {
                assert_eq!(check(peer, Some(&header(wrong)), Some(&token)), Err(Refused::WrongToken), "{wrong}");
            }
            for malformed in ["s3cret-Token_1", "Basic s3cret-Token_1", "Bearer", "Bearer   ", "Bearers3cret-Token_1"] {
                assert_eq!(
                    check(peer, Some(&header(malformed)), Some(&token)),
                    Err(Refused::MissingToken),
                    "{malformed}"
                );
            }
            for right in ["Bearer s3cret-Token_1", "bearer s3cret-Token_1", "BEARER  s3cret-Token_1 "] {
                assert_eq!(check(peer, Some(&header(right)), Some(&token)), Ok(()), "{right}");
            }
            // Basic: any user name, the token as the password (base64 of "dev:s3cret-Token_1" and
            // of ":s3cret-Token_1"); another password is wrong; no password or no colon is none.
            for right in ["Basic ZGV2OnMzY3JldC1Ub2tlbl8x", "basic OnMzY3JldC1Ub2tlbl8x"] {
                assert_eq!(check(peer, Some(&header(right)), Some(&token)), Ok(()), "{right}");
            }
            // "dev:s3cret-Token_2", "dev:", "dev".
            assert_eq!(
                check(peer, Some(&header("Basic ZGV2OnMzY3JldC1Ub2tlbl8y")), Some(&token)),
                Err(Refused::WrongToken)
            );
            for none in ["Basic ZGV2Og==", "Basic ZGV2", "Basic !!!"] {
                assert_eq!(check(peer, Some(&header(none)), Some(&token)), Err(Refused::MissingToken), "{none}");
            }
        }
    }

    #[test]
    fn a_token_must_be_visible_ascii_and_never_prints() {
        assert!(AdminToken::new("").is_err());
        assert!(AdminToken::new("two words").is_err());
        assert!(AdminToken::new("tab\there").is_err());
        assert!(AdminToken::new("é").is_err());
        let token = AdminToken::new("do-not-print-me").unwrap();
        assert_eq!(format!("{token:?}"), "AdminToken(<redacted>)");
        assert!(!format!("{:?}", Some(token)).contains("print"));
    }

    #[test]
    fn refusals_are_json_with_their_status() {
        for (refused, status) in [
            (Refused::NotLoopback, StatusCode::FORBIDDEN),
            (Refused::MissingToken, StatusCode::UNAUTHORIZED),
            (Refused::WrongToken, StatusCode::UNAUTHORIZED),
        ] {
            let response = refused.response();
            assert_eq!(response.status(), status);
            assert_eq!(response.headers()[CONTENT_TYPE], "application/json");
            assert_eq!(response.headers().contains_key(WWW_AUTHENTICATE), status == StatusCode::UNAUTHORIZED);
        }
    }
}
