//! The listeners (product.md, "Operating the server"): accepting connections and serving
//! HTTP/1.1 on them with hyper, within [`ConnectionLimits`], for the HTTP listener, the HTTPS
//! listener and the proxy's tunnels alike ([`serve_connection`]).
//!
//! - A listener holds at most `max_connections` open connections: it takes a permit before
//!   each `accept`, so beyond the limit it stops accepting (the kernel's backlog waits) rather
//!   than accepting and dropping. A tunnel keeps its connection's permit.
//! - Each connection has a watchdog over its phase (`ConnectionClock`): a request's headers
//!   must be complete within `header_read_timeout` of its first byte (of the connection's
//!   start for the first request), and a connection with no request closes
//!   `idle_timeout` after its last answer. hyper's own header timer is not used: it also
//!   runs while a keep-alive connection is idle, which would make the two one.
//! - A request's body must be complete within `body_read_timeout` of its headers
//!   (`DeadlineBody`); past it the request is answered 408 `RequestTimeout` and the
//!   connection closes. Headers over `max_header_bytes` are answered 431 by hyper.
//! - At most `max_in_flight_requests` requests are handled at once in the process; beyond
//!   it a request is answered 503 `ServiceUnavailable` without being read further.
//! - Stopping ([`Stage`]): the listeners stop accepting and every connection is asked to
//!   finish (an idle one closes now, a busy one after its answer); when the grace is over,
//!   every connection still open is closed, whatever its client does.
//!
//! HTTP/1.1 only: it is what Amazon Pay's SDKs speak, and one protocol keeps one set of
//! limits to reason about (TLS offers `http/1.1` alone in ALPN).

use std::convert::Infallible;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use amzpay_domain::{ReasonCode, Refusal};
use axum::Router;
use axum::body::{Body, Bytes};
use http::header::CONNECTION;
use http::{HeaderValue, Request, Response};
use hyper::body::{Frame, Incoming, SizeHint};
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpListener;
use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore, watch};
use tokio::time::{Instant, Sleep};
use tower::ServiceExt;

use crate::config::ConnectionLimits;
use crate::ops::Reply;

/// Where the server is in its life; every connection watches it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    Serving,
    /// Stopping: accept nothing more, finish what is in flight.
    Draining,
    /// The grace is over: close every connection now.
    Closing,
}

/// How long a listener waits after a failed `accept` (out of file descriptors, mostly)
/// before trying again, so that it does not spin (ours).
const ACCEPT_RETRY_DELAY: Duration = Duration::from_millis(100);

/// What every connection of the process shares, and its own connection permit: handed to
/// the handlers in each request's extensions, so that a tunnel is served like a connection.
#[derive(Clone)]
pub struct ConnectionContext {
    limits: ConnectionLimits,
    in_flight: Arc<Semaphore>,
    stage: watch::Receiver<Stage>,
    /// The listener's permit for this connection, released when the connection and any
    /// tunnel over it are gone.
    _permit: Arc<OwnedSemaphorePermit>,
    /// The client's address (a tunnel's is its connection's), for the admin gate.
    peer: Option<SocketAddr>,
}

impl ConnectionContext {
    pub fn limits(&self) -> &ConnectionLimits {
        &self.limits
    }

    /// The address the connection came from.
    pub fn peer(&self) -> Option<SocketAddr> {
        self.peer
    }
}

/// What the listeners of one process share.
#[derive(Clone)]
pub(crate) struct Shared {
    pub limits: ConnectionLimits,
    pub in_flight: Arc<Semaphore>,
    pub stage: watch::Receiver<Stage>,
}

/// Accepts connections on `listener` (over TLS with `tls`) and serves `app` on them until
/// the stage leaves `Serving`; returns once every connection it accepted has closed.
pub(crate) async fn serve(
    listener: TcpListener,
    tls: Option<tokio_rustls::TlsAcceptor>,
    app: Router,
    shared: Shared,
) -> std::io::Result<()> {
    let limits = shared.limits;
    let connections = Arc::new(Semaphore::new(limits.max_connections));
    let mut stage = shared.stage.clone();
    let mut tasks = tokio::task::JoinSet::new();
    loop {
        while tasks.try_join_next().is_some() {}
        let permit = tokio::select! {
            permit = connections.clone().acquire_owned() => permit.expect("the semaphore is never closed"),
            () = stopping(&mut stage) => break,
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    tracing::warn!(%error, "accepting a connection failed");
                    tokio::time::sleep(ACCEPT_RETRY_DELAY).await;
                    continue;
                }
            },
            () = stopping(&mut stage) => break,
        };
        let _ = stream.set_nodelay(true);
        let context = ConnectionContext {
            limits,
            in_flight: shared.in_flight.clone(),
            stage: shared.stage.clone(),
            _permit: Arc::new(permit),
            peer: Some(peer),
        };
        let app = app.clone();
        match &tls {
            None => {
                tasks.spawn(serve_connection(stream, app, context));
            }
            Some(acceptor) => {
                let acceptor = acceptor.clone();
                tasks.spawn(async move {
                    // The handshake counts as reading the first request's headers.
                    match tokio::time::timeout(limits.header_read_timeout, acceptor.accept(stream)).await {
                        Ok(Ok(stream)) => serve_connection(stream, app, context).await,
                        Ok(Err(error)) => tracing::debug!(%error, "TLS handshake failed"),
                        Err(_) => tracing::debug!("TLS handshake timed out"),
                    }
                });
            }
        }
    }
    drop(listener);
    // Every connection finishes, tunnels too (they hold their connection's permit)...
    let all = u32::try_from(limits.max_connections).expect("checked by ConnectionLimits::check");
    let everything_closed = async {
        while tasks.join_next().await.is_some() {}
        let _ = connections.acquire_many(all).await;
    };
    // ...or the grace ends: dropping the tasks closes what is left, a TLS handshake included.
    tokio::select! {
        () = everything_closed => {}
        () = closing(&mut stage) => {}
    }
    Ok(())
}

/// Completes once the grace is over (or the stage is gone).
async fn closing(stage: &mut watch::Receiver<Stage>) {
    let _ = stage.wait_for(|stage| *stage == Stage::Closing).await.is_ok();
}

/// Completes once the server stops serving (or its stage is gone).
async fn stopping(stage: &mut watch::Receiver<Stage>) {
    let _ = stage.wait_for(|stage| *stage != Stage::Serving).await.is_ok();
}

/// Serves HTTP/1.1 on one connection (a TCP or TLS stream, or a tunnel) within the limits,
/// until it closes, its watchdog closes it, or the server stops.
pub async fn serve_connection<I>(io: I, app: Router, context: ConnectionContext)
where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let limits = context.limits;
    let clock = Arc::new(ConnectionClock::new());
    let io = TokioIo::new(WatchedIo { inner: io, clock: clock.clone() });
    let mut stage = context.stage.clone();
    let service = {
        let clock = clock.clone();
        hyper::service::service_fn(move |request| {
            let (app, context, clock) = (app.clone(), context.clone(), clock.clone());
            async move {
                clock.set(Phase::Handling);
                let response = answer(request, app, context).await;
                clock.set(Phase::Idle);
                Ok::<_, Infallible>(response)
            }
        })
    };
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder.header_read_timeout(None).max_header_size(limits.max_header_bytes);
    let connection = builder.serve_connection(io, service).with_upgrades();
    tokio::pin!(connection);
    let watchdog = clock.expired(limits);
    tokio::pin!(watchdog);
    let mut draining = false;
    if *stage.borrow_and_update() != Stage::Serving {
        connection.as_mut().graceful_shutdown();
        draining = true;
    }
    loop {
        tokio::select! {
            served = connection.as_mut() => {
                if let Err(error) = served {
                    tracing::debug!(%error, "a connection ended with an error");
                }
                return;
            }
            reason = &mut watchdog => {
                tracing::debug!(reason, "closing a connection");
                return;
            }
            changed = stage.changed() => {
                let now = if changed.is_ok() { *stage.borrow_and_update() } else { Stage::Closing };
                match now {
                    Stage::Serving => {}
                    Stage::Draining if !draining => {
                        connection.as_mut().graceful_shutdown();
                        draining = true;
                    }
                    Stage::Draining => {}
                    Stage::Closing => return,
                }
            }
        }
    }
}

/// One request, with its id, span and metrics (`telemetry::observe`).
async fn answer(request: Request<Incoming>, app: Router, context: ConnectionContext) -> Response<Body> {
    crate::telemetry::observe(request, |request| answer_within_limits(request, app, context)).await
}

/// One request, within the in-flight limit and the body deadline.
async fn answer_within_limits(request: Request<Incoming>, app: Router, context: ConnectionContext) -> Response<Body> {
    let Ok(_in_flight) = context.in_flight.clone().try_acquire_owned() else {
        tracing::warn!("too many requests in flight; shedding load");
        let refusal = Refusal::new(ReasonCode::ServiceUnavailable, "the server is overloaded; retry later");
        return closing_after(crate::http::respond(Reply::error(&refusal)));
    };
    let expired = Arc::new(AtomicBool::new(false));
    let deadline = Instant::now() + context.limits.body_read_timeout;
    let mut request = request.map(|body| {
        Body::new(DeadlineBody {
            inner: body,
            deadline: Box::pin(tokio::time::sleep_until(deadline)),
            expired: expired.clone(),
        })
    });
    request.extensions_mut().insert(context);
    let response = match app.oneshot(request).await {
        Ok(response) => response,
        Err(never) => match never {},
    };
    if expired.load(Ordering::Relaxed) {
        // Whatever the handler made of a body cut short, the answer is the timeout (counted
        // under the operation the handler named).
        let mut timed_out = closing_after(crate::http::respond(Reply::error(&body_timed_out())));
        if let Some(operation) = response.extensions().get::<crate::telemetry::OperationIndex>() {
            timed_out.extensions_mut().insert(*operation);
        }
        return timed_out;
    }
    response
}

/// The refusal of a request whose body did not arrive within the body timeout.
pub(crate) fn body_timed_out() -> Refusal {
    Refusal::new(ReasonCode::RequestTimeout, "the request body did not arrive in time")
}

/// Asks hyper to close the connection after this answer.
fn closing_after(mut response: Response<Body>) -> Response<Body> {
    response.headers_mut().insert(CONNECTION, HeaderValue::from_static("close"));
    response
}

/// A request body that fails once its deadline has passed, and says so in `expired`.
struct DeadlineBody {
    inner: Incoming,
    deadline: Pin<Box<Sleep>>,
    expired: Arc<AtomicBool>,
}

#[derive(Debug, thiserror::Error)]
#[error("the request body did not arrive within the body timeout")]
struct BodyTimedOut;

impl http_body::Body for DeadlineBody {
    type Data = Bytes;
    type Error = axum::BoxError;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        // What has arrived is taken even past the deadline; only waiting is cut short.
        if let Poll::Ready(frame) = Pin::new(&mut self.inner).poll_frame(cx) {
            return Poll::Ready(frame.map(|frame| frame.map_err(Into::into)));
        }
        if self.deadline.as_mut().poll(cx).is_ready() {
            self.expired.store(true, Ordering::Relaxed);
            return Poll::Ready(Some(Err(BodyTimedOut.into())));
        }
        Poll::Pending
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// Where a connection is between requests, for its watchdog.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Waiting for a request's headers to be complete: since the connection's start, or
    /// since the first byte after an idle spell.
    ReadingHeaders,
    /// A request is being handled (its body has its own deadline).
    Handling,
    /// Answered; waiting for the next request's first byte.
    Idle,
}

/// A connection's phase and when it began, set by the service and by reads, watched by
/// [`ConnectionClock::expired`].
struct ConnectionClock {
    state: Mutex<(Phase, Instant)>,
    changed: Notify,
}

impl ConnectionClock {
    fn new() -> ConnectionClock {
        ConnectionClock { state: Mutex::new((Phase::ReadingHeaders, Instant::now())), changed: Notify::new() }
    }

    fn set(&self, phase: Phase) {
        *self.state.lock().expect("connection clock") = (phase, Instant::now());
        self.changed.notify_one();
    }

    /// Bytes arrived: after an idle spell they start a request's headers.
    fn bytes_arrived(&self) {
        let mut state = self.state.lock().expect("connection clock");
        if state.0 == Phase::Idle {
            *state = (Phase::ReadingHeaders, Instant::now());
            drop(state);
            self.changed.notify_one();
        }
    }

    /// When the connection must close if its phase does not change, and why.
    fn deadline(&self, limits: &ConnectionLimits) -> Option<(Instant, &'static str)> {
        let (phase, since) = *self.state.lock().expect("connection clock");
        match phase {
            Phase::ReadingHeaders => Some((since + limits.header_read_timeout, "request headers too slow")),
            Phase::Idle => Some((since + limits.idle_timeout, "idle")),
            Phase::Handling => None,
        }
    }

    /// Completes when a deadline passes with the phase unchanged.
    async fn expired(&self, limits: ConnectionLimits) -> &'static str {
        loop {
            match self.deadline(&limits) {
                None => self.changed.notified().await,
                Some((deadline, reason)) => {
                    tokio::select! {
                        () = tokio::time::sleep_until(deadline) => {
                            // The phase may have changed just as the timer fired.
                            if self.deadline(&limits).is_some_and(|(now, _)| now <= Instant::now()) {
                                return reason;
                            }
                        }
                        () = self.changed.notified() => {}
                    }
                }
            }
        }
    }
}

/// A connection's stream, telling its clock when bytes arrive.
struct WatchedIo<I> {
    inner: I,
    clock: Arc<ConnectionClock>,
}

impl<I: AsyncRead + Unpin> AsyncRead for WatchedIo<I> {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.inner).poll_read(cx, buf);
        if matches!(polled, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            self.clock.bytes_arrived();
        }
        polled
    }
}

impl<I: AsyncWrite + Unpin> AsyncWrite for WatchedIo<I> {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}
