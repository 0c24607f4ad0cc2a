//! The amzpay server: Amazon Pay v2 over HTTP and HTTPS.
//!
//! A request goes through [`http::handle`]: read the body (bounded), parse the path
//! ([`routes`]), authenticate ([`auth`]), pick the operation, check the idempotency key,
//! and run the operation's shell ([`ops`]) against the [`amzpay_store::Store`].

pub mod admin;
pub mod auth;
mod checkout_pages;
pub mod config;
pub mod dashboard;
mod effects;
mod files;
mod hosted;
pub mod http;
pub mod ipn;
pub mod jobs;
pub mod listener;
pub mod merchants;
pub mod openapi;
pub mod ops;
mod pages;
pub mod proxy;
pub mod retention;
pub mod routes;
pub mod telemetry;
pub mod tls;

use std::net::SocketAddr;
use std::sync::Arc;

use amzpay_domain::{ReasonCode, Refusal, Timestamp};
use amzpay_store::AnyStore;
use amzpay_store::{Store, StoreError};
use tokio::net::TcpListener;

pub use config::Config;

/// Real time, in whole seconds. A merchant's sandbox clock adds its offset to this
/// (`ops::merchant_now`); nothing else reads the system clock.
pub fn system_now() -> Timestamp {
    let seconds =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0);
    Timestamp::from_unix_seconds(seconds)
}

/// What every request handler shares.
pub struct AppState {
    pub store: Arc<dyn Store>,
    pub keys: auth::KeyCache,
    pub delays: config::SandboxDelays,
    /// The base URL of links the server hands out (`amazonPayRedirectUrl`, hosted pages,
    /// IPNs' `SigningCertURL`).
    pub public_url: String,
    /// Where IPNs' `SigningCertURL` and `UnsubscribeURL` point: HTTPS, as receivers'
    /// validators require, unless the server has no HTTPS listener.
    pub sns_base_url: String,
    pub ipn: ipn::Ipn,
    /// The local CA for tunnels to Amazon's hosts; present when there is an HTTP listener.
    pub ca: Option<Arc<proxy::ca::LocalCa>>,
    /// The bytes of API request bodies that may be held at once
    /// (`ConnectionLimits::max_body_bytes_in_flight`), one permit a byte.
    pub body_budget: Arc<tokio::sync::Semaphore>,
    /// Which sandbox merchants may have faults, so that the others' requests skip the store.
    pub faults: Arc<ops::faults::FaultIndex>,
    /// What operator endpoints require besides loopback (`admin`): `None`, loopback only.
    pub admin_token: Option<admin::AdminToken>,
}

/// A storage failure: logged once here, answered as Amazon's 500 (or 503 when the write
/// queue is full).
pub(crate) fn internal_error(error: StoreError) -> Refusal {
    match error {
        StoreError::QueueFull => {
            tracing::warn!("write queue full; shedding load");
            Refusal::new(ReasonCode::ServiceUnavailable, "the server is overloaded; retry later")
        }
        other => {
            tracing::error!(error = %other, "storage failure");
            Refusal::new(ReasonCode::InternalServerError, "an internal error occurred; retry later")
        }
    }
}

/// A built server: listeners bound, store open, not yet serving.
pub struct Application {
    state: Arc<AppState>,
    database: Arc<AnyStore>,
    http: Option<TcpListener>,
    https: Option<(TcpListener, tokio_rustls::TlsAcceptor)>,
    limits: config::ConnectionLimits,
    pub http_addr: Option<SocketAddr>,
    pub https_addr: Option<SocketAddr>,
    pub dev_merchant: merchants::MerchantDescription,
    retention: config::Retention,
}

impl Application {
    /// Opens the store, creates the development merchant on first start, binds the
    /// listeners (port 0 picks a free port).
    pub async fn build(config: Config) -> Result<Application, BuildError> {
        config.limits.check().map_err(BuildError::Config)?;
        std::fs::create_dir_all(&config.data_dir)?;
        // Before the store opens: its writer takes its metric handles as it starts.
        telemetry::install();
        let location = config.database_location().map_err(BuildError::Config)?;
        let database = Arc::new(location.open()?);
        let store: Arc<dyn Store> = database.clone();
        // On PostgreSQL, another node may have made the development merchant (its key is there).
        let shared = matches!(location, config::Database::Postgres(_));
        let dev_merchant =
            merchants::ensure_dev_merchant(store.as_ref(), &config.data_dir, system_now(), shared).await?;
        let http = match config.listen {
            Some(addr) => Some(TcpListener::bind(addr).await?),
            None => None,
        };
        let http_addr = http.as_ref().map(|l| l.local_addr()).transpose()?;
        // The HTTP listener is also the proxy that stands in for Amazon's hosts.
        let ca = match http {
            Some(_) => Some(Arc::new(proxy::ca::LocalCa::load_or_create(&config.data_dir)?)),
            None => None,
        };
        let https = match config.tls_listen {
            Some(addr) => {
                let (cert, key) = tls::ensure_self_signed(&config.data_dir)?;
                // Only the ring provider is compiled in; installing twice is harmless.
                let _ = rustls::crypto::ring::default_provider().install_default();
                let tls = tls::acceptor(&cert, &key)?;
                Some((TcpListener::bind(addr).await?, tls))
            }
            None => None,
        };
        let https_addr = https.as_ref().map(|(l, _)| l.local_addr()).transpose()?;
        let public_url = match (&config.public_url, http_addr, https_addr) {
            (Some(url), _, _) => url.trim_end_matches('/').to_owned(),
            (None, Some(addr), _) => format!("http://{addr}"),
            (None, None, Some(addr)) => format!("https://localhost:{}", addr.port()),
            (None, None, None) => String::new(),
        };
        let sns_base_url = match (&config.public_url, https_addr) {
            (Some(url), _) if url.starts_with("https://") => public_url.clone(),
            (_, Some(addr)) => format!("https://localhost:{}", addr.port()),
            _ => public_url.clone(),
        };
        let ipn = ipn::Ipn::new(config.ipn.clone()).map_err(BuildError::Config)?;
        let keys = auth::KeyCache::default();
        let body_budget = Arc::new(tokio::sync::Semaphore::new(config.limits.max_body_bytes_in_flight));
        let with_faults = store.read(|tx| tx.merchants_with_faults(amzpay_domain::Environment::Sandbox)).await?;
        // Several nodes serve one PostgreSQL database: faults added through another are looked up.
        let faults = Arc::new(ops::faults::FaultIndex::new(with_faults, shared));
        let state = Arc::new(AppState {
            store,
            keys,
            delays: config.delays,
            public_url,
            sns_base_url,
            ipn,
            ca,
            body_budget,
            faults,
            admin_token: config.admin_token.clone(),
        });
        let limits = config.limits;
        let retention = config.retention;
        Ok(Application { state, database, http, https, limits, http_addr, https_addr, dev_merchant, retention })
    }

    /// The store, for tools and tests that register merchants before serving.
    pub fn store(&self) -> Arc<dyn Store> {
        self.state.store.clone()
    }

    /// Serves until `shutdown` completes; then stops accepting, lets what is in flight
    /// finish within the shutdown grace, closes what is left, and lets the store commit what
    /// is queued.
    pub async fn run_until(
        self,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let router = http::router(self.state.clone());
        let (stop_tx, _) = tokio::sync::broadcast::channel::<()>(1);
        let (stage_tx, stage) = tokio::sync::watch::channel(listener::Stage::Serving);
        let shared = listener::Shared {
            limits: self.limits,
            in_flight: Arc::new(tokio::sync::Semaphore::new(self.limits.max_in_flight_requests)),
            stage,
        };
        let mut tasks = tokio::task::JoinSet::new();
        if let Some(tcp) = self.http {
            let app = router.clone().layer(axum::middleware::from_fn_with_state(self.state.clone(), proxy::connect));
            tasks.spawn(listener::serve(tcp, None, app, shared.clone()));
        }
        if let Some((tcp, tls)) = self.https {
            tasks.spawn(listener::serve(tcp, Some(tls), router.clone(), shared.clone()));
        }
        let worker = tokio::spawn(jobs::worker(self.state.clone(), stop_tx.subscribe()));
        let deliverer = tokio::spawn(ipn::delivery::worker(self.state.clone(), stop_tx.subscribe()));
        let pruner = tokio::spawn(retention::worker(self.state.clone(), self.retention, stop_tx.subscribe()));
        let grace = self.limits.shutdown_grace;
        tokio::spawn(async move {
            shutdown.await;
            let _ = stop_tx.send(());
            let _ = stage_tx.send(listener::Stage::Draining);
            tokio::time::sleep(grace).await;
            let _ = stage_tx.send(listener::Stage::Closing);
            // Held until every listener has returned, so no connection mistakes it for a stop.
            stage_tx.closed().await;
        });
        let mut result = Ok(());
        while let Some(joined) = tasks.join_next().await {
            if let Ok(Err(error)) = joined {
                result = Err(error);
            }
        }
        let _ = worker.await;
        let _ = deliverer.await;
        let _ = pruner.await;
        drop(self.state);
        self.database.close();
        result
    }
}

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error("configuration: {0}")]
    Config(String),
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("{0}")]
    Store(#[from] StoreError),
    #[error("{0}")]
    Merchant(#[from] merchants::MerchantError),
    #[error("{0}")]
    Ca(#[from] proxy::ca::CaError),
}
