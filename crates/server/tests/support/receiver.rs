//! A merchant's IPN endpoint for tests: records every POST it gets and answers with the
//! statuses it is told to (200 when told nothing), or never answers at all.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use tokio::sync::mpsc;

/// What the endpoint does with the next request.
#[derive(Debug, Clone, Copy)]
pub enum Answer {
    Status(u16),
    /// Holds the request open forever (a dead receiver behind a live socket).
    Never,
}

/// One POST received.
#[derive(Debug, Clone)]
pub struct Received {
    pub headers: HeaderMap,
    pub body: String,
}

impl Received {
    pub fn envelope(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).expect("an SNS envelope is JSON")
    }

    /// The Amazon Pay message inside the envelope.
    pub fn message(&self) -> serde_json::Value {
        serde_json::from_str(self.envelope()["Message"].as_str().expect("Message is a string")).unwrap()
    }
}

#[derive(Clone)]
struct Shared {
    script: Arc<Mutex<VecDeque<Answer>>>,
    otherwise: Arc<Mutex<Answer>>,
    sender: mpsc::UnboundedSender<Received>,
}

pub struct Receiver {
    pub url: String,
    shared: Shared,
    received: mpsc::UnboundedReceiver<Received>,
}

async fn receive(State(shared): State<Shared>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let answer = {
        let scripted = shared.script.lock().unwrap().pop_front();
        scripted.unwrap_or(*shared.otherwise.lock().unwrap())
    };
    let _ = shared.sender.send(Received { headers, body: String::from_utf8_lossy(&body).into_owned() });
    match answer {
        Answer::Status(code) => StatusCode::from_u16(code).unwrap(),
        Answer::Never => std::future::pending().await,
    }
}

impl Receiver {
    pub async fn start() -> Receiver {
        let (sender, received) = mpsc::unbounded_channel();
        let shared = Shared { script: Arc::default(), otherwise: Arc::new(Mutex::new(Answer::Status(200))), sender };
        let app = Router::new().route("/ipn", post(receive)).with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/ipn", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Receiver { url, shared, received }
    }

    /// The next requests get these answers, in order; then `otherwise`.
    pub fn script(&self, answers: &[Answer]) {
        self.shared.script.lock().unwrap().extend(answers.iter().copied());
    }

    pub fn otherwise(&self, answer: Answer) {
        *self.shared.otherwise.lock().unwrap() = answer;
    }

    /// The next request, waiting at most `within`.
    pub async fn next(&mut self, within: Duration) -> Option<Received> {
        tokio::time::timeout(within, self.received.recv()).await.ok().flatten()
    }

    /// Waits for `count` requests (at most `within` in all) and returns them in order.
    pub async fn take(&mut self, count: usize, within: Duration) -> Vec<Received> {
        let deadline = tokio::time::Instant::now() + within;
        let mut got = Vec::new();
        while got.len() < count {
            match tokio::time::timeout_at(deadline, self.received.recv()).await {
                Ok(Some(received)) => got.push(received),
                _ => panic!("{} of {count} notifications arrived within {within:?}", got.len()),
            }
        }
        got
    }

    /// What arrived already, without waiting.
    pub fn drain(&mut self) -> Vec<Received> {
        let mut got = Vec::new();
        while let Ok(received) = self.received.try_recv() {
            got.push(received);
        }
        got
    }
}
