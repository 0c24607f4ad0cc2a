//! The load generator: one HTTP/1.1 keep-alive connection per worker (hyper's client
//! connection API, nothing heavier), workers pulling pre-signed requests from a shared list.
//! Nothing is signed or serialized here: a request is its prepared headers and body.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context;
use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Method, Request};
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::{self, SendRequest};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

use super::report::{Expect, Recorder};

/// A request ready to send: signed (or not signed at all, for `/healthz`).
#[derive(Debug, Clone)]
pub struct Prepared {
    pub method: Method,
    /// Path and query, as signed.
    pub path: String,
    pub headers: HeaderMap,
    pub body: Bytes,
    pub expect: Expect,
}

impl Prepared {
    fn request(&self) -> Request<Full<Bytes>> {
        let mut request = Request::new(Full::new(self.body.clone()));
        *request.method_mut() = self.method.clone();
        *request.uri_mut() = self.path.parse().expect("prepared paths are valid URIs");
        *request.headers_mut() = self.headers.clone();
        request
    }
}

/// What a round sends: each request once, in order, or the list over and over (reads).
pub struct Round {
    pub requests: Vec<Prepared>,
    pub cycle: bool,
    /// Stop taking new requests after this long.
    pub limit: Option<Duration>,
    /// Keep the bodies of expected answers (setup, and flows whose next step needs an id).
    pub keep_bodies: bool,
}

/// What a round got.
pub struct Outcome {
    pub recorder: Recorder,
    pub elapsed: Duration,
    /// With `keep_bodies`: the index of each request answered as expected, and its body.
    pub bodies: Vec<(usize, Bytes)>,
}

/// The connections, one per worker, kept open across rounds.
pub struct Pool {
    address: String,
    host: HeaderValue,
    senders: Vec<Option<SendRequest<Full<Bytes>>>>,
    /// Requests answered so far, for the progress bar.
    pub progress: Arc<AtomicU64>,
}

async fn connect(address: &str) -> anyhow::Result<SendRequest<Full<Bytes>>> {
    let stream = TcpStream::connect(address).await.with_context(|| format!("connecting to {address}"))?;
    stream.set_nodelay(true)?;
    let (sender, connection) = http1::handshake(TokioIo::new(stream)).await?;
    tokio::spawn(async move {
        // Ends when the worker drops its sender or the server closes the connection.
        let _ = connection.await;
    });
    Ok(sender)
}

impl Pool {
    /// Opens `concurrency` connections to `address` (`host:port`), before any clock starts.
    pub async fn open(address: &str, concurrency: usize) -> anyhow::Result<Pool> {
        let mut senders = Vec::with_capacity(concurrency);
        for _ in 0..concurrency {
            senders.push(Some(connect(address).await?));
        }
        let host = HeaderValue::from_str(address).context("the URL's host")?;
        Ok(Pool { address: address.to_owned(), host, senders, progress: Arc::new(AtomicU64::new(0)) })
    }

    /// Sends a round on every connection at once and waits for it to end.
    pub async fn run(&mut self, round: Round) -> Outcome {
        let Round { mut requests, cycle, limit, keep_bodies } = round;
        for request in &mut requests {
            request.headers.insert(http::header::HOST, self.host.clone());
        }
        let work = Arc::new(Work { requests, cycle, keep_bodies, next: AtomicUsize::new(0) });
        let start = Instant::now();
        let deadline = limit.map(|limit| start + limit);
        let mut tasks = Vec::with_capacity(self.senders.len());
        for sender in &mut self.senders {
            let worker = Worker {
                address: self.address.clone(),
                sender: sender.take(),
                work: work.clone(),
                deadline,
                progress: self.progress.clone(),
            };
            tasks.push(tokio::spawn(worker.run()));
        }
        let mut recorder = Recorder::new();
        let mut bodies = Vec::new();
        for (slot, task) in self.senders.iter_mut().zip(tasks) {
            let done = task.await.expect("bench workers do not panic");
            recorder.merge(&done.recorder);
            bodies.extend(done.bodies);
            *slot = done.sender;
        }
        let elapsed = start.elapsed();
        bodies.sort_unstable_by_key(|(index, _)| *index);
        Outcome { recorder, elapsed, bodies }
    }
}

struct Work {
    requests: Vec<Prepared>,
    cycle: bool,
    keep_bodies: bool,
    next: AtomicUsize,
}

struct Worker {
    address: String,
    sender: Option<SendRequest<Full<Bytes>>>,
    work: Arc<Work>,
    deadline: Option<Instant>,
    progress: Arc<AtomicU64>,
}

struct WorkerDone {
    recorder: Recorder,
    bodies: Vec<(usize, Bytes)>,
    sender: Option<SendRequest<Full<Bytes>>>,
}

impl Worker {
    async fn run(mut self) -> WorkerDone {
        let mut recorder = Recorder::new();
        let mut bodies = Vec::new();
        let work = self.work.clone();
        let count = work.requests.len();
        while count > 0 && self.deadline.is_none_or(|deadline| Instant::now() < deadline) {
            let taken = work.next.fetch_add(1, Ordering::Relaxed);
            let index = match (work.cycle, taken < count) {
                (true, _) => taken % count,
                (false, true) => taken,
                (false, false) => break,
            };
            let prepared = &work.requests[index];
            let sender = match self.ready().await {
                Ok(sender) => sender,
                Err(error) => {
                    recorder.failed(&format!("{error:#}"));
                    self.progress.fetch_add(1, Ordering::Relaxed);
                    continue;
                }
            };
            let start = Instant::now();
            let answer = match sender.send_request(prepared.request()).await {
                Ok(response) => {
                    let status = response.status().as_u16();
                    response.into_body().collect().await.map(|body| (status, body.to_bytes()))
                }
                Err(error) => Err(error),
            };
            match answer {
                Ok((status, body)) => {
                    let ok = prepared.expect.accepts(status, &body);
                    recorder.answered(start.elapsed(), ok, status, &body);
                    if ok && work.keep_bodies {
                        bodies.push((index, body));
                    }
                }
                Err(error) => {
                    recorder.failed(&error.to_string());
                    self.sender = None;
                }
            }
            self.progress.fetch_add(1, Ordering::Relaxed);
        }
        WorkerDone { recorder, bodies, sender: self.sender }
    }

    /// The connection, ready for a request: reopened if the server closed it.
    async fn ready(&mut self) -> anyhow::Result<&mut SendRequest<Full<Bytes>>> {
        if let Some(sender) = &mut self.sender
            && sender.ready().await.is_err()
        {
            self.sender = None;
        }
        if self.sender.is_none() {
            self.sender = Some(connect(&self.address).await?);
        }
        let sender = self.sender.as_mut().expect("just connected");
        sender.ready().await?;
        Ok(sender)
    }
}
