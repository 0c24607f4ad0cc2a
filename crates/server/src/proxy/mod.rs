//! Standing in for Amazon's hosts (product.md): the HTTP listener answers `CONNECT host:443`
//! for Amazon Pay's own host names, terminates TLS itself with a certificate from the local
//! CA ([`ca`]), and serves the requests inside the tunnel with the same router as any other,
//! marked with the host they were sent to ([`Tunneled`]), whose region they take.
//!
//! It never opens an outbound connection: a CONNECT to any other host or port is refused
//! with 403 before anything else happens, and the tunnel's far end is amzpay itself.

pub mod ca;

use std::sync::Arc;

use amzpay_domain::Region;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http::{Method, StatusCode};
use hyper_util::rt::TokioIo;
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;

use crate::AppState;
use crate::listener::{ConnectionContext, serve_connection};

/// An Amazon Pay host amzpay answers for, and the region it serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AmazonHost {
    pub name: &'static str,
    pub region: Region,
}

const fn host(name: &'static str, region: Region) -> AmazonHost {
    AmazonHost { name, region }
}

/// product.md: the API hosts of the three regions (spec §1) and the hosts that serve
/// `checkout.js` and the hosted pages.
pub const AMAZON_HOSTS: [AmazonHost; 10] = [
    host("pay-api.amazon.com", Region::Na),
    host("pay-api.amazon.eu", Region::Eu),
    host("pay-api.amazon.jp", Region::Jp),
    host("static-na.payments-amazon.com", Region::Na),
    host("static-eu.payments-amazon.com", Region::Eu),
    host("static-fe.payments-amazon.com", Region::Jp),
    host("payments.amazon.com", Region::Na),
    host("payments.amazon.co.uk", Region::Eu),
    host("payments.amazon.de", Region::Eu),
    host("payments.amazon.co.jp", Region::Jp),
];

/// The only port a tunnel may name: Amazon's hosts are HTTPS on 443.
pub const TUNNEL_PORT: u16 = 443;
/// The Amazon host with this name (any case, a trailing dot allowed), if it is one.
pub fn amazon_host(name: &str) -> Option<AmazonHost> {
    let name = name.strip_suffix('.').unwrap_or(name);
    AMAZON_HOSTS.iter().copied().find(|h| h.name.eq_ignore_ascii_case(name))
}

/// Where a region's hosted pages live under Amazon's names (`amazonPayRedirectUrl`).
pub fn pages_base(region: Region) -> &'static str {
    match region {
        Region::Na => "https://payments.amazon.com",
        Region::Eu => "https://payments.amazon.de",
        Region::Jp => "https://payments.amazon.co.jp",
    }
}

/// Marks a request that came through a tunnel, with the Amazon host it was sent to.
#[derive(Debug, Clone, Copy)]
pub struct Tunneled(pub AmazonHost);

/// The HTTP listener's CONNECT handling, in front of everything else.
pub async fn connect(State(state): State<Arc<AppState>>, request: Request, next: Next) -> Response {
    if request.method() != Method::CONNECT {
        return next.run(request).await;
    }
    let target = request.uri().authority().map(|a| (a.host().to_owned(), a.port_u16()));
    let allowed = match &target {
        Some((name, Some(TUNNEL_PORT))) => amazon_host(name),
        _ => None,
    };
    let (Some(amazon), Some(ca)) = (allowed, state.ca.clone()) else {
        let asked = request.uri().to_string();
        tracing::info!(target = %asked, "CONNECT refused: not an Amazon Pay host on port 443");
        return (
            StatusCode::FORBIDDEN,
            format!("amzpay answers CONNECT only for Amazon Pay's hosts on port {TUNNEL_PORT}, not '{asked}'\n"),
        )
            .into_response();
    };
    // The tunnel is served with its connection's limits, permit and stop.
    let Some(connection) = request.extensions().get::<ConnectionContext>().cloned() else {
        tracing::error!("a CONNECT on a connection the listener did not serve");
        return StatusCode::SERVICE_UNAVAILABLE.into_response();
    };
    let upgrade = hyper::upgrade::on(request);
    tokio::spawn(async move {
        match upgrade.await {
            Ok(upgraded) => serve_tunnel(state, ca, amazon, connection, TokioIo::new(upgraded)).await,
            Err(error) => tracing::debug!(%error, "a CONNECT was not followed by a tunnel"),
        }
    });
    StatusCode::OK.into_response()
}

/// Picks the certificate by SNI (or, without SNI, the CONNECT host): only Amazon's hosts
/// have one, so a handshake for any other name fails.
#[derive(Debug)]
struct Resolver {
    ca: Arc<ca::LocalCa>,
    connected: AmazonHost,
}

impl ResolvesServerCert for Resolver {
    fn resolve(&self, hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        let name = match hello.server_name() {
            Some(sni) => amazon_host(sni)?.name,
            None => self.connected.name,
        };
        match self.ca.certified(name) {
            Ok(certified) => Some(certified),
            Err(error) => {
                tracing::error!(%error, host = name, "no certificate for a tunnel");
                None
            }
        }
    }
}

/// Serves a tunnel like any connection: with its listener's limits, its connection permit
/// and its stop.
async fn serve_tunnel<T>(
    state: Arc<AppState>,
    ca: Arc<ca::LocalCa>,
    amazon: AmazonHost,
    connection: ConnectionContext,
    io: T,
) where
    T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = match rustls::ServerConfig::builder_with_provider(provider).with_safe_default_protocol_versions() {
        Ok(builder) => builder.with_no_client_auth().with_cert_resolver(Arc::new(Resolver { ca, connected: amazon })),
        Err(error) => {
            tracing::error!(%error, "TLS configuration for a tunnel");
            return;
        }
    };
    let mut config = config;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    // The handshake counts as reading the first request's headers, as on the HTTPS listener.
    let tls = match tokio::time::timeout(connection.limits().header_read_timeout, acceptor.accept(io)).await {
        Ok(Ok(tls)) => tls,
        Ok(Err(error)) => {
            tracing::debug!(%error, host = amazon.name, "TLS handshake in a tunnel failed");
            return;
        }
        Err(_) => {
            tracing::debug!(host = amazon.name, "TLS handshake in a tunnel timed out");
            return;
        }
    };
    let router = crate::http::router(state).layer(axum::Extension(Tunneled(amazon)));
    serve_connection(tls, router, connection).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_amazon_pay_hosts_are_answered_for() {
        assert_eq!(amazon_host("pay-api.amazon.eu").map(|h| h.region), Some(Region::Eu));
        assert_eq!(amazon_host("PAY-API.AMAZON.COM.").map(|h| h.name), Some("pay-api.amazon.com"));
        assert_eq!(amazon_host("static-fe.payments-amazon.com").map(|h| h.region), Some(Region::Jp));
        for other in ["amazon.com", "evil.pay-api.amazon.com", "pay-api.amazon.com.evil", "127.0.0.1", ""] {
            assert_eq!(amazon_host(other), None, "{other}");
        }
    }
}
