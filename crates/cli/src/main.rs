//! `amzpay`: the command line over the server (and, later, the SDK).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use amzpay_domain::{Environment, Region};
use amzpay_server::admin::AdminToken;
use amzpay_server::config::{
    BODY_READ_TIMEOUT_SECONDS, ConnectionLimits, DEFAULT_DATA_DIR, DEFAULT_LISTEN, DEFAULT_SANDBOX_DELAY_SECONDS,
    DEFAULT_TLS_LISTEN, HEADER_READ_TIMEOUT_SECONDS, IDLE_TIMEOUT_SECONDS, IpnDelivery, MAX_BODY_BYTES_IN_FLIGHT,
    MAX_CONNECTIONS_PER_LISTENER, MAX_HEADER_BYTES, MAX_IN_FLIGHT_REQUESTS, Retention, SHUTDOWN_GRACE_SECONDS,
    SandboxDelays,
};
use amzpay_server::merchants::{KeyStyle, NewMerchant, add_key, create_merchant, set_ipn_url};
use amzpay_server::{Application, Config, system_now};
use amzpay_store::postgres::PostgresStore;
use amzpay_store::{AnyStore, Database};
use anyhow::{Context, bail};
mod api;
mod bench;
mod faults;
mod ipn;

use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Parser)]
#[command(
    name = "amzpay",
    version,
    about = "A local Amazon Pay API v2: server, merchants and keys.",
    long_about = "amzpay speaks the Amazon Pay API v2 wire protocol. Point an official Amazon Pay SDK's service URL at it (overrideServiceUrl: 'localhost:8443') and charge, capture and refund with no account and no network."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server (HTTP and HTTPS) on an embedded SQLite database, or on PostgreSQL
    /// (several servers on one PostgreSQL database are one service).
    ///
    /// On an empty data directory it creates a sandbox development merchant and prints
    /// where its key and description are.
    Serve {
        /// Where the database, the TLS certificate and the development merchant live.
        #[arg(long, env = "AMZPAY_DATA_DIR", default_value = DEFAULT_DATA_DIR)]
        data_dir: PathBuf,
        /// HTTP address; port 0 picks a free port.
        #[arg(long, env = "AMZPAY_LISTEN", default_value = DEFAULT_LISTEN)]
        listen: SocketAddr,
        /// HTTPS address (self-signed certificate); port 0 picks a free port.
        #[arg(long, env = "AMZPAY_TLS_LISTEN", default_value = DEFAULT_TLS_LISTEN)]
        tls_listen: SocketAddr,
        /// Database URL: sqlite://PATH or postgres://USER:PASSWORD@HOST:PORT/DB (default:
        /// amzpay.db in the data directory).
        #[arg(long, env = "AMZPAY_DATABASE")]
        database: Option<String>,
        /// Sandbox seconds until a pending authorization resolves.
        #[arg(long, env = "AMZPAY_PENDING_AUTHORIZATION_DELAY", default_value_t = DEFAULT_SANDBOX_DELAY_SECONDS)]
        pending_authorization_delay: i64,
        /// Sandbox seconds until an asynchronous capture completes.
        #[arg(long, env = "AMZPAY_ASYNC_CAPTURE_DELAY", default_value_t = DEFAULT_SANDBOX_DELAY_SECONDS)]
        async_capture_delay: i64,
        /// Sandbox seconds until a refund settles.
        #[arg(long, env = "AMZPAY_REFUND_DELAY", default_value_t = DEFAULT_SANDBOX_DELAY_SECONDS)]
        refund_delay: i64,
        /// The base URL buyers' browsers reach this server at, for the hosted checkout pages
        /// (default: the HTTP listener, e.g. http://127.0.0.1:8080).
        #[arg(long, env = "AMZPAY_PUBLIC_URL")]
        public_url: Option<String>,
        #[command(flatten)]
        ipn: IpnArgs,
        #[command(flatten)]
        limits: LimitArgs,
        #[command(flatten)]
        retention: RetentionArgs,
        #[command(flatten)]
        operator: OperatorArgs,
    },
    /// Bring the database's schema up to date and exit (serve does it too, at start).
    ///
    /// Safe while servers run on the database and when several run it at once: migrations
    /// run under a lock, each once.
    Migrate {
        #[command(flatten)]
        store: StoreArgs,
    },
    /// The local certificate authority that lets amzpay stand in for Amazon's hosts through
    /// its HTTP proxy (CONNECT): trust its ca.pem in the client.
    Ca {
        #[command(subcommand)]
        command: CaCommand,
    },
    /// Manage merchants.
    Merchant {
        #[command(subcommand)]
        command: MerchantCommand,
    },
    /// Charge Permissions: get, update, close.
    #[command(name = "charge-permission")]
    ChargePermission {
        #[command(flatten)]
        connection: api::Connection,
        #[command(subcommand)]
        command: api::ChargePermissionCommand,
    },
    /// Charges: create (authorize), get, capture, cancel.
    Charge {
        #[command(flatten)]
        connection: api::Connection,
        #[command(subcommand)]
        command: api::ChargeCommand,
    },
    /// Refunds: create, get.
    Refund {
        #[command(flatten)]
        connection: api::Connection,
        #[command(subcommand)]
        command: api::RefundCommand,
    },
    /// Checkout Sessions: create, get, update, complete, finalize.
    #[command(name = "checkout-session")]
    CheckoutSession {
        #[command(flatten)]
        connection: api::Connection,
        #[command(subcommand)]
        command: api::CheckoutSessionCommand,
    },
    /// Sandbox test helpers (amzpay only).
    #[command(name = "test-helper")]
    TestHelper {
        #[command(flatten)]
        connection: api::Connection,
        #[command(subcommand)]
        command: api::TestHelperCommand,
    },
    /// What a sandbox buyer does on the Amazon Pay site (amzpay only).
    Buyer {
        #[command(flatten)]
        connection: api::Connection,
        #[command(subcommand)]
        command: api::BuyerCommand,
    },
    /// The merchant's sandbox clock (amzpay only).
    Clock {
        #[command(flatten)]
        connection: api::Connection,
        #[command(subcommand)]
        command: api::ClockCommand,
    },
    /// Instant Payment Notifications: the delivery log, redelivery and endpoint (sandbox),
    /// and a development receiver (`listen`).
    Ipn {
        #[command(flatten)]
        connection: api::Connection,
        #[command(subcommand)]
        command: ipn::IpnCommand,
    },
    /// Signed load against a running server: throughput, latency percentiles, errors and
    /// the server's memory (amzpay only; docs/performance.md).
    ///
    /// Makes its own sandbox objects through the test helpers and signs every request
    /// before the clock starts.
    Bench {
        #[command(flatten)]
        connection: api::Connection,
        #[command(flatten)]
        args: bench::BenchArgs,
    },
    /// Sandbox faults on demand: make the next requests fail (429, 503, 500) or wait, to
    /// test retry and timeout handling (amzpay only).
    Faults {
        #[command(flatten)]
        connection: api::Connection,
        #[command(subcommand)]
        command: faults::FaultsCommand,
    },
}

/// How long what is done is kept (docs/defaults.md); absent flags keep the defaults of
/// `amzpay_server::config::Retention::DEFAULT`.
#[derive(Args)]
struct RetentionArgs {
    /// How long idempotency records are kept after they are written, e.g. 90d, or
    /// "forever" (the default: Amazon keeps idempotency keys indefinitely). A retry with a
    /// key deleted runs again as a new request.
    #[arg(long, env = "AMZPAY_IDEMPOTENCY_RETENTION", value_parser = parse_retention)]
    idempotency_retention: Option<Keep>,
    /// How long delivered IPNs (and their attempts) are kept after delivery (default 7d).
    #[arg(long, env = "AMZPAY_DELIVERED_IPN_RETENTION", value_parser = humantime::parse_duration)]
    delivered_ipn_retention: Option<Duration>,
    /// How long jobs (scheduled transitions) are kept after they ran (default 7d).
    #[arg(long, env = "AMZPAY_FINISHED_JOB_RETENTION", value_parser = humantime::parse_duration)]
    finished_job_retention: Option<Duration>,
}

/// A retention period, or none.
#[derive(Debug, Clone, Copy)]
enum Keep {
    Forever,
    For(Duration),
}

fn parse_retention(text: &str) -> Result<Keep, String> {
    match text {
        "forever" => Ok(Keep::Forever),
        _ => humantime::parse_duration(text).map(Keep::For).map_err(|e| format!("{e} (or \"forever\")")),
    }
}

impl RetentionArgs {
    fn retention(self) -> Retention {
        let seconds = |d: Duration| i64::try_from(d.as_secs()).unwrap_or(i64::MAX);
        let default = Retention::DEFAULT;
        Retention {
            idempotency_seconds: match self.idempotency_retention {
                None => default.idempotency_seconds,
                Some(Keep::Forever) => None,
                Some(Keep::For(period)) => Some(seconds(period)),
            },
            delivered_notifications_seconds: self
                .delivered_ipn_retention
                .map_or(default.delivered_notifications_seconds, seconds),
            finished_jobs_seconds: self.finished_job_retention.map_or(default.finished_jobs_seconds, seconds),
        }
    }
}

/// How IPNs are delivered (product.md defaults).
#[derive(Args)]
struct IpnArgs {
    /// How long an IPN attempt may take before it counts as a timeout (e.g. 10s, 500ms).
    #[arg(long, env = "AMZPAY_IPN_TIMEOUT", default_value = "10s", value_parser = humantime::parse_duration)]
    ipn_timeout: Duration,
    /// Delays before each IPN retry, comma-separated; the last repeats.
    #[arg(
        long,
        env = "AMZPAY_IPN_RETRY_DELAYS",
        default_value = "10s,30s,1m,5m,15m,1h",
        value_delimiter = ',',
        value_parser = humantime::parse_duration
    )]
    ipn_retry_delays: Vec<Duration>,
    /// How long after its first attempt an IPN is retried before it is Failed.
    #[arg(long, env = "AMZPAY_IPN_RETRY_FOR", default_value = "24h", value_parser = humantime::parse_duration)]
    ipn_retry_for: Duration,
    /// A PEM certificate to trust for HTTPS IPN endpoints besides the public roots (a
    /// receiver with a self-signed certificate). Repeatable.
    #[arg(long, env = "AMZPAY_IPN_CA_CERT")]
    ipn_ca_cert: Vec<PathBuf>,
}

impl IpnArgs {
    fn delivery(self) -> anyhow::Result<IpnDelivery> {
        let millis = |d: Duration| u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
        if self.ipn_retry_delays.is_empty() {
            bail!("--ipn-retry-delays needs at least one delay");
        }
        let extra_root_certificates = self
            .ipn_ca_cert
            .iter()
            .map(|path| std::fs::read(path).with_context(|| format!("reading {}", path.display())))
            .collect::<anyhow::Result<_>>()?;
        Ok(IpnDelivery {
            timeout_ms: millis(self.ipn_timeout).max(1),
            retry_delays_ms: self.ipn_retry_delays.into_iter().map(millis).collect(),
            retry_for_ms: millis(self.ipn_retry_for),
            extra_root_certificates,
        })
    }
}

fn seconds(seconds: u64) -> humantime::Duration {
    Duration::from_secs(seconds).into()
}

/// What the listeners allow a client (product.md, "Operating the server").
#[derive(Args)]
struct LimitArgs {
    /// How long a request's headers may take, from its first byte (e.g. 10s).
    #[arg(long, env = "AMZPAY_HEADER_READ_TIMEOUT", default_value_t = seconds(HEADER_READ_TIMEOUT_SECONDS))]
    header_read_timeout: humantime::Duration,
    /// How long a request's body may take, from the end of its headers; then 408.
    #[arg(long, env = "AMZPAY_BODY_READ_TIMEOUT", default_value_t = seconds(BODY_READ_TIMEOUT_SECONDS))]
    body_read_timeout: humantime::Duration,
    /// How long a keep-alive connection may wait for its next request.
    #[arg(long, env = "AMZPAY_IDLE_TIMEOUT", default_value_t = seconds(IDLE_TIMEOUT_SECONDS))]
    idle_timeout: humantime::Duration,
    /// The largest request line and headers, in bytes; larger answer 431.
    #[arg(long, env = "AMZPAY_MAX_HEADER_BYTES", default_value_t = MAX_HEADER_BYTES)]
    max_header_bytes: usize,
    /// Open connections per listener; beyond it the listener waits before accepting more.
    #[arg(long, env = "AMZPAY_MAX_CONNECTIONS", default_value_t = MAX_CONNECTIONS_PER_LISTENER)]
    max_connections: usize,
    /// Requests handled at once; beyond it, 503 ServiceUnavailable.
    #[arg(long, env = "AMZPAY_MAX_IN_FLIGHT_REQUESTS", default_value_t = MAX_IN_FLIGHT_REQUESTS)]
    max_in_flight_requests: usize,
    /// Bytes of request bodies held at once; beyond it, 503 ServiceUnavailable unread.
    #[arg(long, env = "AMZPAY_MAX_BODY_BYTES_IN_FLIGHT", default_value_t = MAX_BODY_BYTES_IN_FLIGHT)]
    max_body_bytes_in_flight: usize,
    /// How long a stopping server (SIGTERM) lets requests in flight finish before it closes
    /// every connection.
    #[arg(long, env = "AMZPAY_SHUTDOWN_GRACE", default_value_t = seconds(SHUTDOWN_GRACE_SECONDS))]
    shutdown_grace: humantime::Duration,
}

impl LimitArgs {
    fn limits(self) -> ConnectionLimits {
        ConnectionLimits {
            header_read_timeout: self.header_read_timeout.into(),
            body_read_timeout: self.body_read_timeout.into(),
            idle_timeout: self.idle_timeout.into(),
            max_header_bytes: self.max_header_bytes,
            max_connections: self.max_connections,
            max_in_flight_requests: self.max_in_flight_requests,
            max_body_bytes_in_flight: self.max_body_bytes_in_flight,
            shutdown_grace: self.shutdown_grace.into(),
        }
    }
}

#[derive(Clone, Copy, ValueEnum)]
enum EnvironmentArg {
    Sandbox,
    Live,
}

#[derive(Clone, Copy, ValueEnum)]
enum RegionArg {
    Na,
    Eu,
    Jp,
}

#[derive(Clone, Copy, ValueEnum)]
enum KeyStyleArg {
    /// SANDBOX-...: the key calls the sandbox.
    Sandbox,
    /// LIVE-...: the key calls live.
    Live,
    /// No prefix: the path (/sandbox/v2/ or /live/v2/) picks the environment.
    Legacy,
}

#[derive(Subcommand)]
enum CaCommand {
    /// Print where ca.pem is (making the CA first if the data directory has none).
    Path {
        #[arg(long, env = "AMZPAY_DATA_DIR", default_value = DEFAULT_DATA_DIR)]
        data_dir: PathBuf,
    },
}

/// Which database the merchant commands write to: the server's, even while it runs.
#[derive(Args)]
struct StoreArgs {
    /// The server's data directory (keys generated here are written into it).
    #[arg(long, env = "AMZPAY_DATA_DIR", default_value = DEFAULT_DATA_DIR)]
    data_dir: PathBuf,
    /// Database URL: sqlite://PATH or postgres://USER:PASSWORD@HOST:PORT/DB (default:
    /// amzpay.db in the data directory).
    #[arg(long, env = "AMZPAY_DATABASE")]
    database: Option<String>,
}

#[derive(Subcommand)]
enum MerchantCommand {
    /// Register a merchant with one key; works while the server runs.
    ///
    /// Without --public-key-file a key pair is generated and the private key written into
    /// the data directory. Prints merchantId, publicKeyId, privateKeyFile, region, storeId.
    Create {
        #[command(flatten)]
        store: StoreArgs,
        #[arg(long, value_enum)]
        region: RegionArg,
        /// An RSA public key (PEM) to register instead of generating a pair.
        #[arg(long)]
        public_key_file: Option<PathBuf>,
        /// Where IPNs for this merchant go, in both environments.
        #[arg(long)]
        ipn_url: Option<String>,
        /// How the key id is named.
        #[arg(long, value_enum, default_value = "sandbox")]
        key: KeyStyleArg,
        /// Print JSON (the only format for now).
        #[arg(long)]
        json: bool,
    },
    /// Set or clear a merchant's IPN endpoint; works while the server runs (the next
    /// delivery uses it).
    #[command(name = "set-ipn-url")]
    SetIpnUrl {
        #[command(flatten)]
        store: StoreArgs,
        /// The merchant, as `create` printed it.
        #[arg(long)]
        merchant_id: String,
        /// Only this environment (default: both).
        #[arg(long, value_enum)]
        environment: Option<EnvironmentArg>,
        /// The endpoint: an http:// or https:// URL.
        #[arg(long, required_unless_present = "clear", conflicts_with = "clear")]
        url: Option<String>,
        /// Remove the endpoint: notifications are no longer sent.
        #[arg(long)]
        clear: bool,
    },
    /// Give an existing merchant another key, e.g. a LIVE- key beside its SANDBOX- key.
    ///
    /// Prints the same description as `create`, for the new key.
    AddKey {
        #[command(flatten)]
        store: StoreArgs,
        /// The merchant, as `create` printed it.
        #[arg(long)]
        merchant_id: String,
        /// An RSA public key (PEM) to register instead of generating a pair.
        #[arg(long)]
        public_key_file: Option<PathBuf>,
        /// How the key id is named.
        #[arg(long, value_enum)]
        key: KeyStyleArg,
        /// Print JSON (the only format for now).
        #[arg(long)]
        json: bool,
    },
}

/// How `serve` operates: who may read the operator endpoints, how it logs.
#[derive(Args)]
struct OperatorArgs {
    /// Let clients other than loopback ones read the operator endpoints (/metrics) with
    /// `Authorization: Bearer TOKEN`, which every client then needs. Prefer the environment
    /// variable: a flag shows in the process list.
    #[arg(long, env = "AMZPAY_ADMIN_TOKEN", hide_env_values = true, value_name = "TOKEN")]
    admin_token: Option<String>,
    /// How log lines (stderr) look: `human`, or `json`, one object a line; either way a
    /// line logged while handling a request carries its x-amz-pay-request-id
    /// (`request_id`). RUST_LOG picks what is logged (default: info).
    #[arg(long, env = "AMZPAY_LOG_FORMAT", value_enum, default_value = "human")]
    log_format: LogFormat,
}

impl OperatorArgs {
    fn admin_token(&self) -> anyhow::Result<Option<AdminToken>> {
        self.admin_token.as_deref().map(AdminToken::new).transpose().map_err(|e| anyhow::anyhow!("--admin-token: {e}"))
    }
}

#[derive(Clone, Copy, ValueEnum)]
enum LogFormat {
    /// Text for people: time, level, the request's span, the message and its fields.
    #[value(alias = "text")]
    Human,
    /// One JSON object a line (timestamp, level, fields, target, span and spans).
    Json,
}

/// Logs to stderr in `format`, filtered by RUST_LOG (default: info).
fn init_logging(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into());
    // Colours only for a terminal: a file or a log collector would keep the escape codes.
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).with_ansi(ansi);
    match format {
        LogFormat::Human => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    init_logging(match &cli.command {
        Command::Serve { operator, .. } => operator.log_format,
        _ => LogFormat::Human,
    });
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(run(cli))
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::ChargePermission { connection, command } => api::charge_permission(&connection, command).await,
        Command::Charge { connection, command } => api::charge(&connection, command).await,
        Command::Refund { connection, command } => api::refund(&connection, command).await,
        Command::CheckoutSession { connection, command } => api::checkout_session(&connection, command).await,
        Command::TestHelper { connection, command } => api::test_helper(&connection, command).await,
        Command::Buyer { connection, command } => api::buyer(&connection, command).await,
        Command::Clock { connection, command } => api::clock(&connection, command).await,
        Command::Ipn { connection, command } => ipn::run(&connection, command).await,
        Command::Faults { connection, command } => faults::run(&connection, command).await,
        Command::Bench { connection, args } => bench::run(&connection, args).await,
        Command::Migrate { store: StoreArgs { data_dir, database } } => migrate(&data_dir, database),
        Command::Serve {
            data_dir,
            listen,
            tls_listen,
            database,
            pending_authorization_delay,
            async_capture_delay,
            refund_delay,
            public_url,
            ipn,
            limits,
            retention,
            operator,
        } => {
            let delays = SandboxDelays {
                pending_authorization_seconds: pending_authorization_delay,
                async_capture_seconds: async_capture_delay,
                refund_seconds: refund_delay,
            };
            let ipn = ipn.delivery()?;
            serve(Config {
                data_dir,
                listen: Some(listen),
                tls_listen: Some(tls_listen),
                database,
                delays,
                public_url,
                admin_token: operator.admin_token()?,
                ipn,
                limits: limits.limits(),
                retention: retention.retention(),
            })
            .await
        }
        Command::Ca { command: CaCommand::Path { data_dir } } => {
            let ca = amzpay_server::proxy::ca::LocalCa::load_or_create(&data_dir)?;
            println!("{}", std::path::absolute(ca.path())?.display());
            Ok(())
        }
        Command::Merchant {
            command:
                MerchantCommand::SetIpnUrl {
                    store: StoreArgs { data_dir, database },
                    merchant_id,
                    environment,
                    url,
                    clear: _,
                },
        } => {
            let store = open_store(&data_dir, database)?;
            let environment = environment.map(|e| match e {
                EnvironmentArg::Sandbox => Environment::Sandbox,
                EnvironmentArg::Live => Environment::Live,
            });
            let set = set_ipn_url(&store, &merchant_id, environment, url.clone()).await;
            store.close();
            set?;
            println!("{}", serde_json::json!({ "merchantId": merchant_id, "url": url }));
            Ok(())
        }
        Command::Merchant {
            command:
                MerchantCommand::AddKey {
                    store: StoreArgs { data_dir, database },
                    merchant_id,
                    public_key_file,
                    key,
                    json: _,
                },
        } => {
            let store = open_store(&data_dir, database)?;
            let public_key_pem = read_public_key(public_key_file)?;
            let style = key_style(key);
            let description = add_key(&store, &data_dir, &merchant_id, style, public_key_pem, system_now()).await;
            store.close();
            println!("{}", serde_json::to_string_pretty(&description?)?);
            Ok(())
        }
        Command::Merchant {
            command:
                MerchantCommand::Create {
                    store: StoreArgs { data_dir, database },
                    region,
                    public_key_file,
                    ipn_url,
                    key,
                    json: _,
                },
        } => {
            let store = open_store(&data_dir, database)?;
            let public_key_pem = read_public_key(public_key_file)?;
            let region = match region {
                RegionArg::Na => Region::Na,
                RegionArg::Eu => Region::Eu,
                RegionArg::Jp => Region::Jp,
            };
            let key_style = key_style(key);
            let description = create_merchant(
                &store,
                &data_dir,
                NewMerchant { region, public_key_pem, ipn_url, key_style },
                system_now(),
                None,
            )
            .await?;
            store.close();
            println!("{}", serde_json::to_string_pretty(&description)?);
            Ok(())
        }
    }
}

/// The store the merchant commands write to: the server's, even while it runs.
fn open_store(data_dir: &std::path::Path, database: Option<String>) -> anyhow::Result<AnyStore> {
    let location = database_location(data_dir, database)?;
    location.open().with_context(|| format!("opening {}", location.describe()))
}

fn database_location(data_dir: &std::path::Path, database: Option<String>) -> anyhow::Result<Database> {
    let config = Config {
        data_dir: data_dir.to_owned(),
        listen: None,
        tls_listen: None,
        database,
        delays: SandboxDelays::DEFAULT,
        public_url: None,
        admin_token: None,
        ipn: IpnDelivery::default(),
        limits: ConnectionLimits::DEFAULT,
        retention: Retention::DEFAULT,
    };
    config.database_location().map_err(anyhow::Error::msg)
}

/// `amzpay migrate`: PostgreSQL runs what it lacks under the migration lock; a SQLite file
/// is migrated by opening it.
fn migrate(data_dir: &std::path::Path, database: Option<String>) -> anyhow::Result<()> {
    let location = database_location(data_dir, database)?;
    let ran = match &location {
        Database::Postgres(url) => {
            PostgresStore::migrate(url).with_context(|| format!("migrating {}", location.describe()))?
        }
        Database::Sqlite(_) => {
            location.open().with_context(|| format!("migrating {}", location.describe()))?.close();
            0
        }
    };
    println!("{}: schema up to date ({ran} migrations run)", location.describe());
    Ok(())
}

fn read_public_key(file: Option<PathBuf>) -> anyhow::Result<Option<String>> {
    file.map(|file| std::fs::read_to_string(&file).with_context(|| format!("reading {}", file.display()))).transpose()
}

fn key_style(key: KeyStyleArg) -> KeyStyle {
    match key {
        KeyStyleArg::Sandbox => KeyStyle::Prefixed(Environment::Sandbox),
        KeyStyleArg::Live => KeyStyle::Prefixed(Environment::Live),
        KeyStyleArg::Legacy => KeyStyle::Legacy,
    }
}

async fn serve(config: Config) -> anyhow::Result<()> {
    let data_dir = config.data_dir.clone();
    let app = Application::build(config).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    let Some(http) = app.http_addr else { bail!("no HTTP listener") };
    let Some(https) = app.https_addr else { bail!("no HTTPS listener") };
    // Listen for SIGTERM before saying we serve: a signal sent the moment the address is
    // printed must stop the server gracefully, not kill it.
    let shutdown = shutdown_signal()?;
    // Printed on stdout, one fact a line, so scripts (and tests) can read the bound ports.
    println!("amzpay listening on http://{http}");
    println!("amzpay listening on https://{https}");
    println!("data directory: {}", data_dir.display());
    println!(
        "development merchant: {} (merchantId {}, publicKeyId {})",
        data_dir.join(amzpay_server::merchants::DEV_MERCHANT_FILE).display(),
        app.dev_merchant.merchant_id,
        app.dev_merchant.public_key_id
    );
    println!("dashboard: http://{http}{}", amzpay_server::dashboard::DASHBOARD_PATH);
    tracing::info!(%http, %https, "serving");
    app.run_until(shutdown).await?;
    tracing::info!("stopped");
    Ok(())
}

/// Completes on Ctrl-C or SIGTERM. The handlers are installed when this is called, not
/// when the future is first polled.
#[cfg(unix)]
fn shutdown_signal() -> anyhow::Result<impl std::future::Future<Output = ()> + Send + 'static> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut terminate = signal(SignalKind::terminate())?;
    let mut interrupt = signal(SignalKind::interrupt())?;
    Ok(async move {
        tokio::select! {
            _ = terminate.recv() => {},
            _ = interrupt.recv() => {},
        }
    })
}

/// Completes on Ctrl-C.
#[cfg(not(unix))]
fn shutdown_signal() -> anyhow::Result<impl std::future::Future<Output = ()> + Send + 'static> {
    Ok(async {
        let _ = tokio::signal::ctrl_c().await;
    })
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    /// clap's own checks of every command: no flag named twice (a global flag included).
    #[test]
    fn the_commands_are_well_formed() {
        super::Cli::command().debug_assert();
    }
}
