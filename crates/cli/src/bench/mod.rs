//! `amzpay bench`: signed load against a running server (product.md, "Operating the
//! server"). It makes its own sandbox objects through the test helpers, signs every request
//! before the clock starts (in batches sized from the rate measured so far, the clock
//! stopped while a batch is signed), checks every answer, and reports throughput, latency
//! percentiles from an HDR histogram, errors and the server's resident memory.
//!
//! `engine` sends (hyper, one keep-alive connection per worker), `scenarios` builds and
//! signs, `report` measures and reports (pure), `rss` finds the server's memory.

mod engine;
mod report;
mod rss;
mod scenarios;

use std::io::IsTerminal;
use std::sync::atomic::Ordering;
use std::time::Duration;

use amzpay_sdk::Client;
use anyhow::{Context, bail};
use bytes::Bytes;
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};

use engine::{Pool, Prepared, Round};
use report::{Recorder, Report, next_batch};
use scenarios::{MixedKind, MixedObjects, Scenario, Spec, ids, mixed_counts, permissions_for, sign_all};

use crate::api::Connection;

/// The longest run: every request of a batch is signed just before the batch runs, and a
/// signature's `x-amz-pay-date` is accepted for 15 minutes (amazon-pay-v2.md), so a batch
/// must never outlive that; ten minutes leaves room for signing and setup.
pub const MAX_DURATION_SECONDS: u64 = 600;
/// The most concurrent workers (connections).
pub const MAX_CONCURRENCY: usize = 4_096;
/// How often the progress bar redraws.
const PROGRESS_TICK: Duration = Duration::from_millis(100);

/// `amzpay bench` flags.
#[derive(Args, Debug)]
pub struct BenchArgs {
    /// The server, `http://HOST:PORT` (the same as --endpoint, which it overrides).
    #[arg(long)]
    pub url: Option<String>,
    /// What to send.
    #[arg(long, value_enum)]
    pub scenario: Scenario,
    /// Concurrent workers, one HTTP/1.1 keep-alive connection each.
    #[arg(long, default_value_t = 64)]
    pub concurrency: usize,
    /// Seconds under measurement (signing and setup excluded), at most 600.
    #[arg(long, default_value_t = 10.0)]
    pub duration: f64,
    /// Print one JSON object instead of text.
    #[arg(long)]
    pub json: bool,
}

pub async fn run(connection: &Connection, args: BenchArgs) -> anyhow::Result<()> {
    if args.concurrency == 0 || args.concurrency > MAX_CONCURRENCY {
        bail!("--concurrency must be 1 to {MAX_CONCURRENCY}");
    }
    if !(args.duration > 0.0 && args.duration <= MAX_DURATION_SECONDS as f64) {
        bail!("--duration must be more than 0 and at most {MAX_DURATION_SECONDS} seconds");
    }
    let mut connection = connection.clone();
    if let Some(url) = &args.url {
        connection.endpoint = url.clone();
    }
    let address = match connection.endpoint.trim_end_matches('/').split_once("://") {
        Some(("http", authority)) if !authority.contains('/') => authority.to_owned(),
        _ => bail!("bench needs an http:// URL of the server (e.g. http://127.0.0.1:8080)"),
    };
    // The ceiling needs no key; every other scenario signs as the merchant.
    let client = match args.scenario {
        Scenario::Ceiling => None,
        _ => Some(connection.client()?),
    };
    let progress = match std::io::stderr().is_terminal() && std::io::stdout().is_terminal() {
        true => ProgressBar::new_spinner(),
        false => ProgressBar::hidden(),
    };
    progress.set_style(
        ProgressStyle::with_template("{spinner} {msg} {pos} requests {elapsed}").expect("the template is valid"),
    );
    let mut pool = Pool::open(&address, args.concurrency).await?;
    let ticker = {
        let counter = pool.progress.clone();
        let bar = progress.clone();
        tokio::spawn(async move {
            loop {
                bar.set_position(counter.load(Ordering::Relaxed));
                tokio::time::sleep(PROGRESS_TICK).await;
            }
        })
    };
    let mut bench = Bench {
        pool: &mut pool,
        client: client.as_ref(),
        concurrency: args.concurrency,
        duration: Duration::from_secs_f64(args.duration),
        progress: progress.clone(),
        recorder: Recorder::new(),
        timed: Duration::ZERO,
    };
    let flows = bench.scenario(args.scenario).await;
    ticker.abort();
    progress.finish_and_clear();
    let flows = flows?;
    let mut report = Report::new(args.scenario.name(), args.concurrency, bench.timed, &bench.recorder);
    if args.scenario == Scenario::AuthorizeCapture {
        report = report.with_flows(flows);
    }
    let port = address.rsplit_once(':').and_then(|(_, port)| port.parse().ok()).unwrap_or(80);
    if is_local(&address) {
        report.server_rss_mb = rss::server_rss_mb(port);
    }
    match args.json {
        true => println!("{}", serde_json::to_string(&report)?),
        false => print!("{}", report.text()),
    }
    Ok(())
}

fn is_local(address: &str) -> bool {
    let host = address.rsplit_once(':').map_or(address, |(host, _)| host);
    matches!(host, "localhost" | "127.0.0.1" | "[::1]" | "0.0.0.0")
}

struct Bench<'a> {
    pool: &'a mut Pool,
    client: Option<&'a Client>,
    concurrency: usize,
    duration: Duration,
    progress: ProgressBar,
    /// Everything measured: timed rounds only.
    recorder: Recorder,
    timed: Duration,
}

impl Bench<'_> {
    /// Runs a scenario; returns the flows completed (authorize-capture).
    async fn scenario(&mut self, scenario: Scenario) -> anyhow::Result<u64> {
        match scenario {
            Scenario::Ceiling => {
                let requests = vec![scenarios::healthz()];
                self.timed_round(requests, true, false).await?;
                Ok(0)
            }
            Scenario::GetCharge => {
                let charges = self.charges(scenarios::GET_CHARGE_OBJECTS, true).await?;
                let reads: Vec<Spec> = charges.iter().map(|id| Spec::get_charge(id)).collect();
                let requests = self.sign(&reads).await?;
                self.timed_round(requests, true, false).await?;
                Ok(0)
            }
            Scenario::CreateCharge => {
                while let Some(n) = self.next_batch(self.recorder.requests) {
                    let permissions = self.permissions(permissions_for(n)).await?;
                    let specs: Vec<Spec> =
                        (0..n).map(|i| Spec::create_charge(&permissions[i / per_permission()], true)).collect();
                    let requests = self.sign(&specs).await?;
                    self.timed_round(requests, false, false).await?;
                }
                Ok(0)
            }
            Scenario::AuthorizeCapture => {
                let mut flows = 0u64;
                while let Some(n) = self.next_batch(flows) {
                    let permissions = self.permissions(permissions_for(n)).await?;
                    let specs: Vec<Spec> =
                        (0..n).map(|i| Spec::create_charge(&permissions[i / per_permission()], false)).collect();
                    let requests = self.sign(&specs).await?;
                    // The captures follow the authorizations, past any limit (a flow is both
                    // calls): the authorizations get half the time left, the captures the rest.
                    let half = self.duration.saturating_sub(self.timed) / 2;
                    let authorized = self.round(requests, false, Some(half), true).await?;
                    let captures: Vec<Spec> =
                        ids(&authorized, "chargeId")?.iter().map(|id| Spec::capture_charge(id)).collect();
                    let requests = self.sign(&captures).await?;
                    let captured = self.round(requests, false, None, true).await?;
                    flows += captured.len() as u64;
                }
                Ok(flows)
            }
            Scenario::Mixed => {
                while let Some(n) = self.next_batch(self.recorder.requests) {
                    let chargeable =
                        self.permissions(permissions_for(mixed_counts(n, MixedKind::CreateCharge))).await?;
                    // At least one of each, for Get Charge to read even in a batch too small to
                    // capture or refund.
                    let authorized = self.charges(mixed_counts(n, MixedKind::CaptureCharge).max(1), false).await?;
                    let refundable = scenarios::charges_for_refunds(mixed_counts(n, MixedKind::CreateRefund)).max(1);
                    let captured = self.charges(refundable, true).await?;
                    let objects =
                        MixedObjects { chargeable: &chargeable, authorized: &authorized, captured: &captured };
                    let requests = self.sign(&scenarios::mixed_specs(n, &objects)?).await?;
                    self.timed_round(requests, false, false).await?;
                }
                Ok(0)
            }
        }
    }

    /// The size of the next batch, from the rate of `done` (requests or flows) so far, or
    /// `None` when the time is up.
    fn next_batch(&self, done: u64) -> Option<usize> {
        let remaining = self.duration.checked_sub(self.timed).filter(|left| !left.is_zero())?;
        let rate = (!self.timed.is_zero()).then(|| done as f64 / self.timed.as_secs_f64());
        Some(next_batch(rate, remaining, self.concurrency))
    }

    fn client(&self) -> anyhow::Result<&Client> {
        self.client.context("this scenario signs: a merchant key is needed")
    }

    async fn sign(&self, specs: &[Spec]) -> anyhow::Result<Vec<Prepared>> {
        self.progress.set_message(format!("signing {} requests…", specs.len()));
        let client = self.client()?;
        // Signing is CPU work on every core; the runtime's workers wait meanwhile.
        tokio::task::block_in_place(|| sign_all(client, specs))
    }

    /// Runs requests outside the measurement and returns every body; any error fails the run.
    async fn setup(&mut self, specs: Vec<Spec>) -> anyhow::Result<Vec<Bytes>> {
        if specs.is_empty() {
            return Ok(Vec::new());
        }
        let requests = self.sign(&specs).await?;
        self.progress.set_message(format!("setting up {} objects…", specs.len()));
        let outcome = self.pool.run(Round { requests, cycle: false, limit: None, keep_bodies: true }).await;
        if outcome.recorder.errors > 0 {
            let sample = outcome.recorder.samples.first().map(|s| format!("{:?} {}", s.status, s.body));
            bail!(
                "setting up the bench's objects failed ({} errors): {}",
                outcome.recorder.errors,
                sample.unwrap_or_default()
            );
        }
        Ok(outcome.bodies.into_iter().map(|(_, body)| body).collect())
    }

    /// `count` new one-time permissions.
    async fn permissions(&mut self, count: usize) -> anyhow::Result<Vec<String>> {
        ids(&self.setup(vec![Spec::create_permission(); count]).await?, "chargePermissionId")
    }

    /// `count` new charges, authorized (or captured), on new permissions.
    async fn charges(&mut self, count: usize, capture_now: bool) -> anyhow::Result<Vec<String>> {
        let permissions = self.permissions(permissions_for(count)).await?;
        let specs = (0..count).map(|i| Spec::create_charge(&permissions[i / per_permission()], capture_now)).collect();
        ids(&self.setup(specs).await?, "chargeId")
    }

    /// A measured round, stopped when the duration is used up.
    async fn timed_round(&mut self, requests: Vec<Prepared>, cycle: bool, keep: bool) -> anyhow::Result<Vec<Bytes>> {
        let remaining = self.duration.saturating_sub(self.timed);
        self.round(requests, cycle, Some(remaining), keep).await
    }

    async fn round(
        &mut self,
        requests: Vec<Prepared>,
        cycle: bool,
        limit: Option<Duration>,
        keep_bodies: bool,
    ) -> anyhow::Result<Vec<Bytes>> {
        self.progress.set_message("running:");
        let outcome = self.pool.run(Round { requests, cycle, limit, keep_bodies }).await;
        self.recorder.merge(&outcome.recorder);
        self.timed += outcome.elapsed;
        Ok(outcome.bodies.into_iter().map(|(_, body)| body).collect())
    }
}

fn per_permission() -> usize {
    amzpay_domain::limits::MAX_CHARGES_PER_ONE_TIME_PERMISSION as usize
}
