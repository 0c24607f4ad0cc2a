//! `amzpay ipn`: Instant Payment Notifications from the merchant's side. `list`,
//! `redeliver` and `endpoint get|set` call amzpay's sandbox test helpers through the SDK and
//! print the JSON answers; `listen` is a development receiver that verifies each posted
//! notification with the SDK's `IpnVerifier`, answers, and then prints the notification with
//! the object it names, fetched with the connection's key.
//!
//! The receiver never prints or acts on a notification whose signature did not verify,
//! never fetches a certificate from a URL it does not trust (the verifier's rule), listens on
//! the loopback interface only, and never makes the sender wait on a call back to the API:
//! it answers first and fetches the object afterwards.

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use amzpay_sdk::ipn::{IpnMessage, IpnVerifier};
use amzpay_sdk::*;
use amzpay_server::config::DEFAULT_DATA_DIR;
use anyhow::{Context, bail};
use axum::body::{Body, to_bytes};
use axum::extract::State;
use axum::http::{Method as HttpMethod, StatusCode};
use clap::{ArgGroup, Args, Subcommand};
use serde::Serialize;
use serde_json::Value;
use tokio::sync::mpsc;

use crate::api::{Connection, print};

/// The port `listen` binds on 127.0.0.1 unless told otherwise: beside the server's 8080,
/// and free of the sample store's 3000.
const DEFAULT_LISTEN_PORT: u16 = 8090;

/// The largest notification read: Amazon SNS messages are at most 256 KiB, and an IPN
/// envelope is about 2 KB.
const MAX_NOTIFICATION_BYTES: usize = 256 * 1024;

/// Verified notifications waiting for their object to be fetched and printed. When full, a
/// notification is answered 503, which the sender retries later, rather than held in
/// memory without bound.
const PRINT_QUEUE_CAPACITY: usize = 64;

/// How long fetching the object a notification names may take, once (no retries): the
/// answer to the sender has already gone, so this bounds only how late the line is
/// printed and how long stopping waits for it.
const OBJECT_FETCH_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Subcommand, Debug)]
pub enum IpnCommand {
    /// This merchant's notifications, newest first, with every delivery attempt (sandbox).
    List {
        /// How many, 1 to 500 (the server's default: 100).
        #[arg(long)]
        limit: Option<u32>,
    },
    /// Deliver a notification again, now (sandbox).
    Redeliver {
        /// The notificationId, as `ipn list` prints it.
        notification_id: String,
    },
    /// Where this merchant's sandbox notifications go.
    Endpoint {
        #[command(subcommand)]
        command: EndpointCommand,
    },
    /// A development receiver: verify each notification posted to it, answer 200 (or 400
    /// with the reason on stderr), and print one JSON line per notification on stdout: the
    /// message's fields and the object it names.
    ///
    /// Signing certificates are trusted under `<--endpoint>/sns/` (where amzpay serves its
    /// own), under each --trust-cert-url-prefix, and on Amazon SNS's hosts.
    Listen(ListenArgs),
}

#[derive(Subcommand, Debug)]
pub enum EndpointCommand {
    /// Print the endpoint: {"url": "..."} or {"url": null}.
    Get,
    /// Set the endpoint (--url) or clear it (--clear).
    #[command(group(ArgGroup::new("target").required(true).args(["url", "clear"])))]
    Set {
        /// An absolute http or https URL, e.g. http://127.0.0.1:8090/ for `ipn listen`.
        #[arg(long)]
        url: Option<String>,
        /// No endpoint: nothing is sent.
        #[arg(long)]
        clear: bool,
    },
}

#[derive(Args, Debug)]
pub struct ListenArgs {
    /// The port on 127.0.0.1; 0 picks a free one. The address is printed on stderr.
    #[arg(long, default_value_t = DEFAULT_LISTEN_PORT)]
    port: u16,
    /// Also trust signing certificates under this URL prefix, e.g.
    /// https://localhost:8443/sns/ (repeatable).
    #[arg(long = "trust-cert-url-prefix", value_name = "URL")]
    trust_cert_url_prefixes: Vec<String>,
}

pub async fn run(connection: &Connection, command: IpnCommand) -> anyhow::Result<()> {
    match command {
        IpnCommand::List { limit } => print(connection.client()?.list_notifications(limit)).await,
        IpnCommand::Redeliver { notification_id } => {
            print(connection.client()?.redeliver_notification(&notification_id)).await
        }
        IpnCommand::Endpoint { command: EndpointCommand::Get } => print(connection.client()?.get_ipn_endpoint()).await,
        IpnCommand::Endpoint { command: EndpointCommand::Set { url, clear: _ } } => {
            // clap's group makes --url and --clear exclusive and one of them required.
            let request = match url {
                Some(url) => SetIpnEndpointRequest::new(url),
                None => SetIpnEndpointRequest::clear(),
            };
            print(connection.client()?.set_ipn_endpoint(&request)).await
        }
        IpnCommand::Listen(args) => listen(connection, args).await,
    }
}

/// Where a default `amzpay serve` points `SigningCertURL`: its HTTPS listener.
const DEFAULT_SNS_BASE: &str = "https://localhost:8443";

/// The verifier `listen` uses: Amazon SNS, amzpay's `/sns/` under the API endpoint and
/// under a default server's HTTPS listener, each given prefix, and for HTTPS the
/// connection's `--ca-cert` (by default the default data directory's `tls-cert.pem`, when
/// there is one).
fn verifier(connection: &Connection, extra_prefixes: &[String]) -> anyhow::Result<(IpnVerifier, Vec<String>)> {
    let base = ServiceUrl::parse(&connection.endpoint)?.base();
    let mut verifier = IpnVerifier::new().trust_amzpay_server(&base).trust_amzpay_server(DEFAULT_SNS_BASE);
    let mut trusted = vec![format!("{base}/sns/"), format!("{DEFAULT_SNS_BASE}/sns/")];
    for prefix in extra_prefixes {
        verifier = verifier.trust_certificate_url_prefix(prefix);
        // The verifier ignores a prefix that is not an absolute web URL; say so here instead.
        if !verifier.is_trusted(prefix) {
            bail!("--trust-cert-url-prefix '{prefix}' is not an absolute http or https URL");
        }
        trusted.push(prefix.clone());
    }
    let default_tls = std::path::Path::new(DEFAULT_DATA_DIR).join(amzpay_server::tls::CERT_FILE);
    let ca_cert = connection.ca_cert.clone().or_else(|| default_tls.exists().then_some(default_tls));
    if let Some(path) = &ca_cert {
        let pem = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
        verifier = verifier.root_certificate_pem(&pem)?;
    }
    Ok((verifier, trusted))
}

struct Receiver {
    verifier: IpnVerifier,
    verified: mpsc::Sender<IpnMessage>,
}

async fn listen(connection: &Connection, args: ListenArgs) -> anyhow::Result<()> {
    let config = connection.client()?.config().clone().timeout(OBJECT_FETCH_TIMEOUT).retry_policy(RetryPolicy::none());
    let client = Client::new(config)?;
    let (verifier, trusted) = verifier(connection, &args.trust_cert_url_prefixes)?;
    let address = SocketAddr::from((Ipv4Addr::LOCALHOST, args.port));
    let listener = tokio::net::TcpListener::bind(address).await.with_context(|| format!("binding {address}"))?;
    let address = listener.local_addr()?;
    // Listen for signals before saying where we listen, as `serve` does.
    let shutdown = crate::shutdown_signal()?;
    let (verified, to_print) = mpsc::channel(PRINT_QUEUE_CAPACITY);
    let printer = tokio::spawn(print_notifications(client, to_print));
    // stdout carries the notifications, one JSON line each; everything else goes to stderr.
    eprintln!("amzpay ipn listening on http://{address}");
    eprintln!("trusting signing certificates under {} and Amazon SNS", trusted.join(", "));
    let receiver = Arc::new(Receiver { verifier, verified });
    let app = axum::Router::new().fallback(receive).with_state(receiver);
    axum::serve(listener, app).with_graceful_shutdown(shutdown).await?;
    // The router, and with it the queue's sender, is gone: the printer finishes what was
    // verified and stops.
    printer.await.context("the printer stopped")?;
    Ok(())
}

async fn receive(State(receiver): State<Arc<Receiver>>, method: HttpMethod, body: Body) -> (StatusCode, String) {
    if method != HttpMethod::POST {
        return (StatusCode::METHOD_NOT_ALLOWED, "notifications are POSTed\n".to_owned());
    }
    let refused = |status: StatusCode, reason: String| {
        eprintln!("amzpay ipn: refused a notification: {reason}");
        (status, format!("{reason}\n"))
    };
    let Ok(bytes) = to_bytes(body, MAX_NOTIFICATION_BYTES).await else {
        let reason = format!("the body is not readable or larger than {MAX_NOTIFICATION_BYTES} bytes");
        return refused(StatusCode::PAYLOAD_TOO_LARGE, reason);
    };
    let Ok(text) = std::str::from_utf8(&bytes) else {
        return refused(StatusCode::BAD_REQUEST, "the body is not UTF-8".to_owned());
    };
    let message = match receiver.verifier.verify(text).await {
        Ok(message) => message,
        Err(error) => return refused(StatusCode::BAD_REQUEST, error.to_string()),
    };
    match receiver.verified.try_send(message) {
        Ok(()) => (StatusCode::OK, String::new()),
        Err(_) => refused(StatusCode::SERVICE_UNAVAILABLE, "too many notifications waiting to print".to_owned()),
    }
}

/// One printed line: the message's fields as Amazon names them, then the object it names
/// as the API answered (`null` for an object type amzpay has no GET for, or when the GET
/// failed, with `objectError` saying why).
#[derive(Serialize)]
struct PrintedNotification<'a> {
    #[serde(flatten)]
    message: &'a IpnMessage,
    object: Value,
    #[serde(rename = "objectError", skip_serializing_if = "Option::is_none")]
    object_error: Option<String>,
}

async fn print_notifications(client: Client, mut to_print: mpsc::Receiver<IpnMessage>) {
    while let Some(message) = to_print.recv().await {
        let (object, object_error) = match fetch_object(&client, &message).await {
            Ok(object) => (object, None),
            Err(error) => (Value::Null, Some(format!("{error:#}"))),
        };
        let line = PrintedNotification { message: &message, object, object_error };
        match serde_json::to_string(&line) {
            Ok(line) => println!("{line}"),
            Err(error) => eprintln!("amzpay ipn: cannot print a notification: {error}"),
        }
    }
}

/// GETs the object a message names, as JSON.
async fn fetch_object(client: &Client, message: &IpnMessage) -> anyhow::Result<Value> {
    let id = &message.object_id;
    let object = match message.object_type.as_str() {
        "CHARGE" => client.get_charge(&ChargeId::parse(id).context("ObjectId is not a Charge id")?).into_json().await,
        "CHARGE_PERMISSION" => {
            let id = ChargePermissionId::parse(id).context("ObjectId is not a Charge Permission id")?;
            client.get_charge_permission(&id).into_json().await
        }
        "REFUND" => client.get_refund(&RefundId::parse(id).context("ObjectId is not a Refund id")?).into_json().await,
        _ => return Ok(Value::Null),
    };
    Ok(object?)
}
