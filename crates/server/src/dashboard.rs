//! `/dashboard`: the operator's web page over the sandbox (product.md, "Operating the
//! server"). A developer keeps it open beside their integration: the merchants; each
//! merchant's checkout sessions, charge permissions, charges and refunds, newest first,
//! searchable by id and filterable by state; each object as the API answers it and its
//! timeline (every change of state with its time on the merchant's clock and its cause);
//! the notifications with every delivery attempt and a redeliver button; the merchant's
//! sandbox clock with freeze and advance controls; the buyer's actions; the faults in force.
//!
//! Every route is behind the admin gate (`admin::gated`: loopback, or the admin token). The
//! pages are askama templates (`templates/dashboard/`), which escape every value: a
//! merchant's text is shown as text. Their one script (`dashboard.js`, served from here, so
//! the pages' Content-Security-Policy allows no inline script) polls the page every
//! `DASHBOARD_POLL_INTERVAL_MS` and swaps what changed in place, and sends the controls'
//! forms without leaving the page; without script the forms work as plain posts.
//!
//! The controls run the test helpers' own operations (`ops::perform`) as the merchant, so
//! a clock advance from here runs the transitions due and attempts their notifications
//! exactly as `POST /v2/testHelpers/clock/advance` does. A post whose `Origin` (or
//! `Sec-Fetch-Site`) says it came from another site is refused: the gate lets every
//! loopback client in, and a page elsewhere in the developer's browser is one.

use std::sync::Arc;

use amzpay_api::format::format_timestamp;
use amzpay_domain::checkout_session::CheckoutSession;
use amzpay_domain::metadata::MerchantMetadata;
use amzpay_domain::sandbox::SUCCESS_CARDS;
use amzpay_domain::{
    Charge, ChargeId, ChargePermission, ChargePermissionId, Environment, Money, Refund, RefundId, Timestamp,
};
use amzpay_store::{
    Fault, MerchantRecord, Notification, ObjectFilter, ObjectKind, ReadTx, SandboxClock, StateChange, StoreError,
};
use askama::Template;
use axum::Router;
use axum::body::Body;
use axum::extract::{Form, Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use http::header::{CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE, HOST, ORIGIN};
use http::{HeaderMap, HeaderValue, StatusCode, Uri};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde::Deserialize;

use crate::AppState;
use crate::auth::Caller;
use crate::config::{
    DASHBOARD_FILTER_MAX_CHARS, DASHBOARD_LIST_ROWS, DASHBOARD_MAX_LIST_ROWS, DASHBOARD_MERCHANTS,
    DASHBOARD_NOTIFICATIONS, DASHBOARD_OBJECT_NOTIFICATIONS_SCANNED, DASHBOARD_POLL_INTERVAL_MS,
    DASHBOARD_TIMELINE_ENTRIES,
};
use crate::ops::{Context, origin_of, perform};
use crate::routes::{Routed, operation_named};

/// Where the dashboard is served.
pub const DASHBOARD_PATH: &str = "/dashboard";
/// The dashboard's script.
pub const SCRIPT_PATH: &str = "/dashboard/dashboard.js";
const SCRIPT: &str = include_str!("dashboard.js");

/// What the pages may load: their own script and nothing inline but their styles.
const CONTENT_POLICY: &str = "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'unsafe-inline'; img-src 'self'; \
     form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// The operations the dashboard's controls may run, by name: the sandbox test helpers a
/// developer would otherwise call by hand.
const CONTROLS: &[&str] =
    &["AdvanceClock", "FreezeClock", "UnfreezeClock", "RedeliverNotification", "BuyerAction", "ClearFaults"];

/// Characters left as they are in a path segment or query value the pages link to.
const COMPONENT: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.').remove(b'~');

pub fn router(state: Arc<AppState>) -> Router<Arc<AppState>> {
    crate::admin::gated(
        Router::new()
            .route(DASHBOARD_PATH, get(index))
            .route(SCRIPT_PATH, get(script))
            .route("/dashboard/merchants/{id}", get(merchant_page))
            .route("/dashboard/merchants/{id}/actions", post(act))
            .route("/dashboard/objects/{id}", get(object_page)),
        state,
    )
}

fn encode(text: &str) -> String {
    utf8_percent_encode(text, COMPONENT).to_string()
}

/// A page: the template's HTML with the dashboard's headers (never cached: it is live).
fn page(status: StatusCode, template: &impl Template) -> Response {
    let mut response = crate::hosted::render(status, template);
    let headers = response.headers_mut();
    headers.insert(CONTENT_SECURITY_POLICY, HeaderValue::from_static(CONTENT_POLICY));
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

#[derive(Template)]
#[template(path = "dashboard/message.html")]
struct MessagePage<'a> {
    title: &'a str,
    text: &'a str,
    poll_ms: u32,
}

fn message(status: StatusCode, title: &str, text: &str) -> Response {
    page(status, &MessagePage { title, text, poll_ms: DASHBOARD_POLL_INTERVAL_MS })
}

fn storage_failure(error: StoreError) -> Response {
    tracing::error!(%error, "dashboard");
    message(StatusCode::INTERNAL_SERVER_ERROR, "Something went wrong", "The store could not be read. Try again.")
}

async fn script() -> Response {
    let mut response = Response::new(Body::from(SCRIPT));
    response.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static("text/javascript; charset=utf-8"));
    response
}

/// The environment a page shows: `sandbox` unless `live` is asked for; else the page that
/// says why not.
fn environment(text: Option<&str>) -> Result<Environment, Box<Response>> {
    match text.unwrap_or("sandbox") {
        "sandbox" | "" => Ok(Environment::Sandbox),
        "live" => Ok(Environment::Live),
        other => Err(Box::new(message(
            StatusCode::BAD_REQUEST,
            "Unknown environment",
            &format!("'{other}' is neither sandbox nor live."),
        ))),
    }
}

/// Times on the pages: the merchant's clock, to the second, in UTC.
fn time(at: Timestamp) -> String {
    let compact = format_timestamp(at);
    // `20190714T155300Z` as `2019-07-14 15:53:00 UTC`.
    match (compact.get(0..4), compact.get(4..6), compact.get(6..8), compact.get(9..11), compact.get(11..13)) {
        (Some(y), Some(mo), Some(d), Some(h), Some(mi)) => {
            format!("{y}-{mo}-{d} {h}:{mi}:{} UTC", compact.get(13..15).unwrap_or("00"))
        }
        _ => compact,
    }
}

fn millis(at_ms: i64) -> String {
    time(Timestamp::from_unix_seconds(at_ms.div_euclid(1000)))
}

/// A compact JSON document indented for reading, its keys left in the order they were
/// written (Amazon's order; a `serde_json::Value` would sort them). Only what is outside
/// strings is touched.
fn indent_json(compact: &str) -> String {
    fn newline(out: &mut String, depth: usize) {
        out.push('\n');
        out.extend(std::iter::repeat_n("  ", depth));
    }
    let mut out = String::with_capacity(compact.len() * 2);
    let (mut depth, mut in_string, mut escaped) = (0usize, false, false);
    let mut chars = compact.chars().peekable();
    while let Some(c) = chars.next() {
        if in_string {
            out.push(c);
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match c {
            '"' => {
                in_string = true;
                out.push(c);
            }
            '{' | '[' => {
                out.push(c);
                // An empty object or array stays on one line.
                match chars.peek() {
                    Some(&close @ ('}' | ']')) => {
                        out.push(close);
                        chars.next();
                    }
                    _ => {
                        depth += 1;
                        newline(&mut out, depth);
                    }
                }
            }
            '}' | ']' => {
                depth = depth.saturating_sub(1);
                newline(&mut out, depth);
                out.push(c);
            }
            ',' => {
                out.push(c);
                newline(&mut out, depth);
            }
            ':' => out.push_str(": "),
            c if c.is_whitespace() => {}
            c => out.push(c),
        }
    }
    out
}

fn amount(money: Money) -> String {
    format!("{} {}", money.to_decimal_string(), money.currency().code())
}

// ---------------------------------------------------------------------------------------
// The first page: the merchants.

struct MerchantRow {
    id: String,
    region: &'static str,
    created: String,
    href: String,
}

#[derive(Template)]
#[template(path = "dashboard/index.html")]
struct IndexPage {
    merchants: Vec<MerchantRow>,
    poll_ms: u32,
}

async fn index(State(state): State<Arc<AppState>>) -> Response {
    match state.store.read(|tx| tx.merchants(DASHBOARD_MERCHANTS)).await {
        Ok(merchants) => {
            let merchants = merchants
                .into_iter()
                .map(|m| MerchantRow {
                    href: format!("/dashboard/merchants/{}", encode(&m.merchant_id)),
                    region: m.region.code(),
                    created: time(m.created_at),
                    id: m.merchant_id,
                })
                .collect();
            page(StatusCode::OK, &IndexPage { merchants, poll_ms: DASHBOARD_POLL_INTERVAL_MS })
        }
        Err(error) => storage_failure(error),
    }
}

// ---------------------------------------------------------------------------------------
// What both a merchant's page and an object's page show at the top.

/// The merchant, the environment, and links between them.
struct Header {
    merchant_id: String,
    region: &'static str,
    environment: &'static str,
    sandbox: bool,
    /// The merchant's page in this environment, and in the other.
    home: String,
    /// The merchant's page, without the environment (a form adds it).
    home_path: String,
    other_environment: String,
    other_label: &'static str,
    /// Where the controls' forms post.
    actions: String,
}

impl Header {
    fn new(merchant: &MerchantRecord, environment: Environment) -> Header {
        let home = format!("/dashboard/merchants/{}", encode(&merchant.merchant_id));
        let (other, other_label) = match environment {
            Environment::Sandbox => ("live", "Live"),
            Environment::Live => ("sandbox", "Sandbox"),
        };
        Header {
            merchant_id: merchant.merchant_id.clone(),
            region: merchant.region.code(),
            environment: environment.path_segment(),
            sandbox: environment == Environment::Sandbox,
            other_environment: format!("{home}?env={other}"),
            other_label,
            actions: format!("{home}/actions?env={}", environment.path_segment()),
            home_path: home.clone(),
            home: format!("{home}?env={}", environment.path_segment()),
        }
    }
}

/// The merchant's clock as the page shows it.
struct ClockView {
    now: String,
    frozen: bool,
    /// How far it is from real time, in words.
    offset: String,
}

impl ClockView {
    fn new(clock: SandboxClock, real_now: Timestamp) -> ClockView {
        let now = clock.now(real_now);
        let ahead = now.seconds_since(real_now);
        let offset = match ahead {
            0 => "on real time".to_owned(),
            seconds if seconds > 0 => format!("{} ahead of real time", duration(seconds)),
            seconds => format!("{} behind real time", duration(seconds.saturating_neg())),
        };
        ClockView { now: time(now), frozen: clock.frozen_at.is_some(), offset }
    }
}

/// `93784` as `1 d 2 h 3 min 4 s`.
fn duration(seconds: i64) -> String {
    let parts =
        [(seconds / 86_400, "d"), (seconds % 86_400 / 3_600, "h"), (seconds % 3_600 / 60, "min"), (seconds % 60, "s")];
    let words: Vec<String> = parts.iter().filter(|(n, _)| *n > 0).map(|(n, unit)| format!("{n} {unit}")).collect();
    if words.is_empty() { "0 s".to_owned() } else { words.join(" ") }
}

struct FaultRow {
    reason: &'static str,
    remaining: u32,
    count: u32,
    operations: String,
    delay_ms: u32,
}

impl FaultRow {
    fn new(fault: &Fault) -> FaultRow {
        FaultRow {
            reason: fault.reason_code.map_or("(delay only)", |code| code.as_str()),
            remaining: fault.remaining,
            count: fault.count,
            operations: fault
                .operations
                .as_ref()
                .map_or_else(|| "every operation".to_owned(), |names| names.join(", ")),
            delay_ms: fault.delay_ms,
        }
    }
}

struct AttemptRow {
    at: String,
    url: String,
    outcome: String,
    latency_ms: i64,
}

struct NotificationRow {
    id: String,
    object_id: String,
    object_href: String,
    object_type: &'static str,
    kind: &'static str,
    created: String,
    status: &'static str,
    next_attempt: Option<String>,
    attempts: Vec<AttemptRow>,
}

impl NotificationRow {
    fn new(n: &Notification, merchant: &str, environment: Environment) -> NotificationRow {
        let event = &n.event;
        NotificationRow {
            id: event.notification_id.clone(),
            object_href: object_href(merchant, environment, &event.object_id),
            object_id: event.object_id.clone(),
            object_type: event.object_type.as_str(),
            kind: event.notification_type.as_str(),
            created: time(event.created_at),
            status: n.status.as_str(),
            next_attempt: n.next_attempt_ms.filter(|_| n.round_attempts > 0).map(millis),
            attempts: n
                .attempts
                .iter()
                .map(|a| AttemptRow {
                    at: millis(a.at_ms),
                    url: a.url.clone(),
                    outcome: match (a.status_code, &a.error) {
                        (Some(status), _) => format!("HTTP {status}"),
                        (None, Some(error)) => error.clone(),
                        (None, None) => "no answer".to_owned(),
                    },
                    latency_ms: a.latency_ms,
                })
                .collect(),
        }
    }
}

/// A page's own address with `rows` in place of any it had (and no control's outcome).
fn with_rows(uri: &Uri, rows: u32) -> String {
    let query = uri.query().unwrap_or("");
    let mut kept: Vec<String> = query
        .split('&')
        .filter(|p| !p.is_empty() && !["rows=", "notice=", "failed="].iter().any(|name| p.starts_with(name)))
        .map(str::to_owned)
        .collect();
    kept.push(format!("rows={rows}"));
    format!("{}?{}", uri.path(), kept.join("&"))
}

/// A page's own address (path and query), for its controls to come back to.
fn back(uri: &Uri) -> String {
    uri.path_and_query().map_or_else(|| uri.path().to_owned(), |p| p.as_str().to_owned())
}

fn object_href(merchant: &str, environment: Environment, id: &str) -> String {
    format!("/dashboard/objects/{}?merchant={}&env={}", encode(id), encode(merchant), environment.path_segment())
}

// ---------------------------------------------------------------------------------------
// A merchant's page.

#[derive(Debug, Default, Deserialize)]
struct PageQuery {
    env: Option<String>,
    /// Text the ids shown contain.
    q: Option<String>,
    /// The one state shown.
    state: Option<String>,
    /// The one kind of object shown (`checkoutSessions`, `chargePermissions`, `charges`,
    /// `refunds`).
    kind: Option<String>,
    /// Rows of each list (`DASHBOARD_LIST_ROWS` when absent, at most `DASHBOARD_MAX_LIST_ROWS`).
    rows: Option<String>,
    /// The merchant, on an object's page.
    merchant: Option<String>,
    /// What the last control did (set by `act`'s redirect).
    notice: Option<String>,
    /// Whether it failed.
    failed: Option<String>,
}

/// The line at the top of a page after a control ran.
struct Notice {
    text: String,
    failed: bool,
}

impl PageQuery {
    fn notice(&self) -> Option<Notice> {
        let text = self.notice.as_deref().filter(|t| !t.is_empty())?;
        let text: String = text.chars().take(500).collect();
        Some(Notice { text, failed: self.failed.is_some() })
    }
}

/// One kind of object, as a list and as the filter names it.
const KINDS: [(ObjectKind, &str, &str); 4] = [
    (ObjectKind::CheckoutSession, "checkoutSessions", "Checkout Sessions"),
    (ObjectKind::ChargePermission, "chargePermissions", "Charge Permissions"),
    (ObjectKind::Charge, "charges", "Charges"),
    (ObjectKind::Refund, "refunds", "Refunds"),
];

/// Every state an object can be in, for the filter.
const STATES: &[&str] = &[
    "Open",
    "Completed",
    "Canceled",
    "Chargeable",
    "NonChargeable",
    "Closed",
    "AuthorizationInitiated",
    "Authorized",
    "CaptureInitiated",
    "Captured",
    "Declined",
    "RefundInitiated",
    "Refunded",
];

struct ObjectRow {
    id: String,
    href: String,
    state: &'static str,
    reason: Option<&'static str>,
    amount: String,
    /// The merchant's reference id (`merchantMetadata.merchantReferenceId`).
    reference: String,
    /// The object it belongs to (a charge's permission, a refund's charge, a completed
    /// session's permission).
    parent: Option<(String, String)>,
    created: String,
}

struct Section {
    title: &'static str,
    rows: Vec<ObjectRow>,
    /// The same page with more rows, when this list may have more than it shows.
    more: Option<String>,
}

struct StateOption {
    name: &'static str,
    selected: bool,
}

struct KindOption {
    name: &'static str,
    title: &'static str,
    selected: bool,
}

#[derive(Template)]
#[template(path = "dashboard/merchant.html")]
struct MerchantPage {
    header: Header,
    /// This page's address, for the controls to come back to.
    back: String,
    notice: Option<Notice>,
    clock: Option<ClockView>,
    faults: Vec<FaultRow>,
    q: String,
    states: Vec<StateOption>,
    kinds: Vec<KindOption>,
    sections: Vec<Section>,
    notifications: Vec<NotificationRow>,
    poll_ms: u32,
}

/// A filter's text: trimmed, bounded; empty is none; else the page that says why not.
fn filter_text(text: Option<&str>) -> Result<Option<String>, Box<Response>> {
    let text = text.map(str::trim).filter(|t| !t.is_empty());
    match text {
        Some(t) if t.chars().count() > DASHBOARD_FILTER_MAX_CHARS => Err(Box::new(message(
            StatusCode::BAD_REQUEST,
            "Filter too long",
            &format!("A filter is at most {DASHBOARD_FILTER_MAX_CHARS} characters."),
        ))),
        other => Ok(other.map(str::to_owned)),
    }
}

/// What a merchant's page reads, in one snapshot.
struct MerchantData {
    merchant: MerchantRecord,
    clock: SandboxClock,
    faults: Vec<Fault>,
    sessions: Vec<CheckoutSession>,
    permissions: Vec<ChargePermission>,
    charges: Vec<Charge>,
    refunds: Vec<Refund>,
    notifications: Vec<Notification>,
}

fn read_merchant_page(
    tx: &mut dyn ReadTx,
    merchant_id: &str,
    environment: Environment,
    filter: &ObjectFilter,
    kind: Option<ObjectKind>,
) -> Result<Option<MerchantData>, StoreError> {
    let Some(merchant) = tx.merchant(merchant_id)? else { return Ok(None) };
    let wanted = |k: ObjectKind| kind.is_none_or(|only| only == k);
    Ok(Some(MerchantData {
        clock: tx.clock(merchant_id)?,
        faults: tx.faults(merchant_id, environment)?,
        sessions: if wanted(ObjectKind::CheckoutSession) {
            tx.list_checkout_sessions(merchant_id, environment, filter)?
        } else {
            Vec::new()
        },
        permissions: if wanted(ObjectKind::ChargePermission) {
            tx.list_permissions(merchant_id, environment, filter)?
        } else {
            Vec::new()
        },
        charges: if wanted(ObjectKind::Charge) {
            tx.list_charges(merchant_id, environment, filter)?
        } else {
            Vec::new()
        },
        refunds: if wanted(ObjectKind::Refund) {
            tx.list_refunds(merchant_id, environment, filter)?
        } else {
            Vec::new()
        },
        notifications: tx.notifications(merchant_id, environment, DASHBOARD_NOTIFICATIONS)?,
        merchant,
    }))
}

async fn merchant_page(
    State(state): State<Arc<AppState>>,
    Path(merchant_id): Path<String>,
    Query(query): Query<PageQuery>,
    uri: Uri,
) -> Response {
    let environment = match environment(query.env.as_deref()) {
        Ok(environment) => environment,
        Err(response) => return *response,
    };
    let (q, state_filter) = match (filter_text(query.q.as_deref()), filter_text(query.state.as_deref())) {
        (Ok(q), Ok(state)) => (q, state),
        (Err(response), _) | (_, Err(response)) => return *response,
    };
    let kind = KINDS.iter().find(|(_, name, _)| Some(*name) == query.kind.as_deref()).map(|(kind, _, _)| *kind);
    let limit = match query.rows.as_deref().map(str::parse::<u32>) {
        None => DASHBOARD_LIST_ROWS,
        Some(Ok(rows)) if (1..=DASHBOARD_MAX_LIST_ROWS).contains(&rows) => rows,
        Some(_) => {
            let text = format!("rows is a whole number from 1 to {DASHBOARD_MAX_LIST_ROWS}.");
            return message(StatusCode::BAD_REQUEST, "Too many rows", &text);
        }
    };
    let filter = ObjectFilter { state: state_filter.clone(), id_contains: q.clone(), limit };
    let id = merchant_id.clone();
    let real_now = crate::system_now();
    let read = state.store.read(move |tx| read_merchant_page(tx, &id, environment, &filter, kind)).await;
    let data = match read {
        Ok(Some(data)) => data,
        Ok(None) => return message(StatusCode::NOT_FOUND, "No such merchant", "There is no merchant with this id."),
        Err(error) => return storage_failure(error),
    };
    let m = merchant_id.as_str();
    let row = |id: &str,
               (state, reason),
               amount: Option<Money>,
               reference: Option<&MerchantMetadata>,
               parent: Option<&str>,
               created| ObjectRow {
        href: object_href(m, environment, id),
        id: id.to_owned(),
        state,
        reason,
        amount: amount.map(self::amount).unwrap_or_default(),
        reference: reference.and_then(|r| r.merchant_reference_id.clone()).unwrap_or_default(),
        parent: parent.map(|p| (p.to_owned(), object_href(m, environment, p))),
        created: time(created),
    };
    // One list of rows per kind, in the order of `KINDS`.
    let lists: [Vec<ObjectRow>; 4] = [
        data.sessions
            .iter()
            .map(|s| {
                let amount = s.payment.charge_amount.or(s.payment.total_order_amount);
                let parent = s.charge_permission_id.as_ref().map(ChargePermissionId::as_str);
                let status = (s.state.name(), s.state.reason_code());
                row(&s.id, status, amount, s.merchant_metadata.as_ref(), parent, s.created_at)
            })
            .collect(),
        data.permissions
            .iter()
            .map(|p| {
                let limit = (p.amount_limit.minor() > 0).then_some(p.amount_limit);
                let status = (p.state.name(), p.state.reason_code());
                row(p.id.as_str(), status, limit, p.merchant_metadata.as_ref(), None, p.created_at)
            })
            .collect(),
        data.charges
            .iter()
            .map(|c| {
                let (status, parent) = ((c.state.name(), c.state.reason_code()), Some(c.permission_id.as_str()));
                row(c.id.as_str(), status, Some(c.amount), c.merchant_metadata.as_ref(), parent, c.created_at)
            })
            .collect(),
        data.refunds
            .iter()
            .map(|r| {
                let (status, parent) = ((r.state.name(), r.state.reason_code()), Some(r.charge_id.as_str()));
                row(r.id.as_str(), status, Some(r.amount), None, parent, r.created_at)
            })
            .collect(),
    ];
    let sections = lists
        .into_iter()
        .zip(KINDS)
        .filter(|(_, (k, _, _))| kind.is_none_or(|only| only == *k))
        .map(|(rows, (_, _, title))| {
            // A full list may have more: the same page, with four times the rows.
            let full = rows.len() as u32 == limit && limit < DASHBOARD_MAX_LIST_ROWS;
            let more = full.then(|| with_rows(&uri, limit.saturating_mul(4).min(DASHBOARD_MAX_LIST_ROWS)));
            Section { title, rows, more }
        })
        .collect();
    let selected_state = state_filter.as_deref().unwrap_or("");
    let page_data = MerchantPage {
        back: back(&uri),
        header: Header::new(&data.merchant, environment),
        notice: query.notice(),
        clock: (environment == Environment::Sandbox).then(|| ClockView::new(data.clock, real_now)),
        faults: data.faults.iter().map(FaultRow::new).collect(),
        q: q.unwrap_or_default(),
        states: STATES.iter().map(|&name| StateOption { name, selected: name == selected_state }).collect(),
        kinds: KINDS.iter().map(|&(k, name, title)| KindOption { name, title, selected: kind == Some(k) }).collect(),
        sections,
        notifications: data.notifications.iter().map(|n| NotificationRow::new(n, m, environment)).collect(),
        poll_ms: DASHBOARD_POLL_INTERVAL_MS,
    };
    page(StatusCode::OK, &page_data)
}

// ---------------------------------------------------------------------------------------
// An object's page.

struct TimelineRow {
    at: String,
    state: String,
    reason: Option<String>,
    cause: &'static str,
    detail: String,
}

impl TimelineRow {
    fn new(change: &StateChange) -> TimelineRow {
        TimelineRow {
            at: time(change.at),
            state: change.state.clone(),
            reason: change.reason_code.clone(),
            cause: match change.cause {
                amzpay_store::Cause::Api => "API call",
                amzpay_store::Cause::Simulation => "Simulation",
                amzpay_store::Cause::Clock => "Clock",
                amzpay_store::Cause::Buyer => "Buyer",
                amzpay_store::Cause::Amazon => "Amazon",
            },
            detail: change.detail.clone(),
        }
    }
}

/// The buyer's controls on a permission.
struct BuyerControls {
    permission_id: String,
    cards: &'static [&'static str],
    closed: bool,
    page: String,
}

#[derive(Template)]
#[template(path = "dashboard/object.html")]
struct ObjectPage {
    header: Header,
    /// This page's address, for the controls to come back to.
    back: String,
    notice: Option<Notice>,
    clock: Option<ClockView>,
    title: &'static str,
    id: String,
    /// The object as the API's Get answers it, indented.
    json: String,
    links: Vec<(String, String)>,
    timeline: Vec<TimelineRow>,
    notifications: Vec<NotificationRow>,
    buyer: Option<BuyerControls>,
    /// The hosted sign-in page of an Open sandbox session.
    checkout_page: Option<String>,
    poll_ms: u32,
}

/// Which object an id is, found in the merchant's objects of the environment (boxed: the
/// objects differ much in size).
enum Found {
    Session(Box<CheckoutSession>),
    Permission(Box<ChargePermission>),
    Charge(Box<Charge>),
    Refund(Refund),
}

struct ObjectData {
    merchant: MerchantRecord,
    clock: SandboxClock,
    found: Found,
    timeline: Vec<StateChange>,
    notifications: Vec<Notification>,
}

fn find_object(
    tx: &mut dyn ReadTx,
    merchant_id: &str,
    environment: Environment,
    id: &str,
) -> Result<Option<Found>, StoreError> {
    if let Some(session) = tx.checkout_session(merchant_id, environment, id)? {
        return Ok(Some(Found::Session(Box::new(session))));
    }
    if let Some(permission_id) = ChargePermissionId::parse(id)
        && let Some(permission) = tx.permission(merchant_id, environment, &permission_id)?
    {
        return Ok(Some(Found::Permission(Box::new(permission))));
    }
    if let Some(charge_id) = ChargeId::parse(id)
        && let Some(charge) = tx.charge(merchant_id, environment, &charge_id)?
    {
        return Ok(Some(Found::Charge(Box::new(charge))));
    }
    if let Some(refund_id) = RefundId::parse(id)
        && let Some(refund) = tx.refund(merchant_id, environment, &refund_id)?
    {
        return Ok(Some(Found::Refund(refund)));
    }
    Ok(None)
}

fn read_object_page(
    tx: &mut dyn ReadTx,
    merchant_id: &str,
    environment: Environment,
    id: &str,
) -> Result<Option<ObjectData>, StoreError> {
    let Some(merchant) = tx.merchant(merchant_id)? else { return Ok(None) };
    let Some(found) = find_object(tx, merchant_id, environment, id)? else { return Ok(None) };
    let notifications =
        tx.object_notifications(merchant_id, environment, id, DASHBOARD_OBJECT_NOTIFICATIONS_SCANNED)?;
    Ok(Some(ObjectData {
        clock: tx.clock(merchant_id)?,
        timeline: tx.state_changes(merchant_id, environment, id, DASHBOARD_TIMELINE_ENTRIES)?,
        found,
        notifications,
        merchant,
    }))
}

/// A signed caller standing for the merchant, for the operations the dashboard runs.
fn context_for(state: &AppState, merchant: &MerchantRecord, environment: Environment, operation: &str) -> Context {
    let operation = operation_named(operation).expect("the dashboard runs operations of the table");
    Context {
        caller: Caller { merchant_id: merchant.merchant_id.clone(), region: merchant.region, environment },
        real_now: crate::system_now(),
        delays: state.delays,
        simulation: None,
        origin: origin_of(operation, None),
        public_url: state.public_url.clone(),
        query: String::new(),
    }
}

async fn object_page(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    Query(query): Query<PageQuery>,
    uri: Uri,
) -> Response {
    let environment = match environment(query.env.as_deref()) {
        Ok(environment) => environment,
        Err(response) => return *response,
    };
    let not_found = || message(StatusCode::NOT_FOUND, "Not found", "This merchant has no such object here.");
    let Some(merchant_id) = query.merchant.clone() else { return not_found() };
    let (m, object_id) = (merchant_id.clone(), id.clone());
    let read = state.store.read(move |tx| read_object_page(tx, &m, environment, &object_id)).await;
    let data = match read {
        Ok(Some(data)) => data,
        Ok(None) => return not_found(),
        Err(error) => return storage_failure(error),
    };
    let m = merchant_id.as_str();
    let (title, get, mut links) = match &data.found {
        Found::Session(s) => {
            let mut links = Vec::new();
            if let Some(p) = &s.charge_permission_id {
                links.push(("Charge Permission".to_owned(), object_href(m, environment, p.as_str())));
            }
            if let Some(c) = &s.charge_id {
                links.push(("Charge".to_owned(), object_href(m, environment, c.as_str())));
            }
            ("Checkout Session", "GetCheckoutSession", links)
        }
        Found::Permission(_) => ("Charge Permission", "GetChargePermission", Vec::new()),
        Found::Charge(c) => (
            "Charge",
            "GetCharge",
            vec![("Charge Permission".to_owned(), object_href(m, environment, c.permission_id.as_str()))],
        ),
        Found::Refund(r) => {
            ("Refund", "GetRefund", vec![("Charge".to_owned(), object_href(m, environment, r.charge_id.as_str()))])
        }
    };
    links.push(("All of this merchant's objects".to_owned(), Header::new(&data.merchant, environment).home));
    // The object as the API answers a Get of it, time's effects shown as they are there.
    let context = context_for(&state, &data.merchant, environment, get);
    let routed = Routed { operation: operation_named(get).expect("a Get of the table"), id: Some(id.clone()) };
    let reply = perform(&state, context, routed, Vec::new()).await;
    let json = indent_json(&String::from_utf8_lossy(&reply.body));
    let sandbox = environment == Environment::Sandbox;
    let buyer = match &data.found {
        Found::Permission(p) if sandbox => Some(BuyerControls {
            permission_id: p.id.to_string(),
            cards: &SUCCESS_CARDS,
            closed: p.state.is_closed(),
            page: format!("/jr/your-account/ba/{}", encode(p.id.as_str())),
        }),
        _ => None,
    };
    let checkout_page = match &data.found {
        Found::Session(s) if sandbox && s.state.name() == "Open" => Some(format!("/checkout/{}/signin", encode(&s.id))),
        _ => None,
    };
    let object = ObjectPage {
        back: back(&uri),
        header: Header::new(&data.merchant, environment),
        notice: query.notice(),
        clock: sandbox.then(|| ClockView::new(data.clock, crate::system_now())),
        title,
        id,
        json,
        links,
        timeline: data.timeline.iter().map(TimelineRow::new).collect(),
        notifications: data.notifications.iter().map(|n| NotificationRow::new(n, m, environment)).collect(),
        buyer,
        checkout_page,
        poll_ms: DASHBOARD_POLL_INTERVAL_MS,
    };
    page(StatusCode::OK, &object)
}

// ---------------------------------------------------------------------------------------
// The controls.

#[derive(Debug, Deserialize)]
struct ActionForm {
    /// The operation to run, one of `CONTROLS`.
    operation: String,
    /// The notification or permission it acts on.
    id: Option<String>,
    /// How far to advance the clock.
    seconds: Option<String>,
    /// The buyer's action (`Close`, `UpdatePaymentMethod`).
    action: Option<String>,
    #[serde(rename = "paymentMethod")]
    payment_method: Option<String>,
    /// The dashboard page to go back to (a path under `/dashboard`).
    back: Option<String>,
}

#[derive(Debug, Deserialize)]
struct ActionQuery {
    env: Option<String>,
}

/// Whether a post came from the dashboard's own pages: a browser says where a request came
/// from (`Sec-Fetch-Site`, `Origin`); a client that says nothing (curl, a test) is not a
/// page in a browser, and the gate already let it in.
fn same_origin(headers: &HeaderMap) -> bool {
    if let Some(site) = headers.get("sec-fetch-site")
        && !matches!(site.as_bytes(), b"same-origin" | b"none")
    {
        return false;
    }
    match (headers.get(ORIGIN), headers.get(HOST)) {
        (None, _) => true,
        (Some(origin), Some(host)) => {
            let (origin, host) = (origin.as_bytes(), host.as_bytes());
            [&b"http://"[..], b"https://"].iter().any(|scheme| origin.strip_prefix(*scheme) == Some(host))
        }
        (Some(_), None) => false,
    }
}

/// The JSON body of the operation a control runs.
fn control_body(form: &ActionForm) -> Result<Vec<u8>, String> {
    let body = match form.operation.as_str() {
        "AdvanceClock" => {
            let text = form.seconds.as_deref().unwrap_or("").trim();
            let seconds: i64 = text.parse().map_err(|_| format!("'{text}' is not a whole number of seconds"))?;
            serde_json::json!({ "seconds": seconds })
        }
        "BuyerAction" => match form.action.as_deref() {
            Some("Close") => serde_json::json!({ "action": "Close" }),
            Some("UpdatePaymentMethod") => serde_json::json!({
                "action": "UpdatePaymentMethod",
                "paymentMethod": form.payment_method.as_deref().unwrap_or(""),
            }),
            _ => return Err("the buyer's action is Close or UpdatePaymentMethod".to_owned()),
        },
        _ => return Ok(Vec::new()),
    };
    Ok(body.to_string().into_bytes())
}

/// Where a control's redirect goes: the page it was sent from (under `/dashboard` only,
/// so the form cannot send the browser elsewhere), with the outcome.
fn back_to(back: Option<&str>, fallback: &str, notice: &str, failed: bool) -> String {
    let back = back.filter(|b| b.starts_with("/dashboard") && !b.starts_with("//")).unwrap_or(fallback);
    // Drop an earlier outcome from the page's address.
    let (path, query) = back.split_once('?').unwrap_or((back, ""));
    let kept: Vec<&str> =
        query.split('&').filter(|p| !p.is_empty() && !p.starts_with("notice=") && !p.starts_with("failed=")).collect();
    let mut url = path.to_owned();
    url.push('?');
    for part in kept {
        url.push_str(part);
        url.push('&');
    }
    url.push_str("notice=");
    url.push_str(&encode(notice));
    if failed {
        url.push_str("&failed=1");
    }
    url
}

async fn act(
    State(state): State<Arc<AppState>>,
    Path(merchant_id): Path<String>,
    Query(query): Query<ActionQuery>,
    headers: HeaderMap,
    Form(form): Form<ActionForm>,
) -> Response {
    if !same_origin(&headers) {
        return message(
            StatusCode::FORBIDDEN,
            "Refused",
            "The dashboard's controls answer only its own pages; this request came from another site.",
        );
    }
    let environment = match environment(query.env.as_deref()) {
        Ok(environment) => environment,
        Err(response) => return *response,
    };
    let Some(&operation) = CONTROLS.iter().find(|&&name| name == form.operation) else {
        return message(StatusCode::BAD_REQUEST, "Unknown control", "The dashboard has no such control.");
    };
    let id = merchant_id.clone();
    let merchant = match state.store.read(move |tx| tx.merchant(&id)).await {
        Ok(Some(merchant)) => merchant,
        Ok(None) => return message(StatusCode::NOT_FOUND, "No such merchant", "There is no merchant with this id."),
        Err(error) => return storage_failure(error),
    };
    let home = Header::new(&merchant, environment).home;
    let (notice, failed) = match control_body(&form) {
        Err(problem) => (problem, true),
        Ok(body) => {
            let context = context_for(&state, &merchant, environment, operation);
            let routed = Routed {
                operation: operation_named(operation).expect("CONTROLS are operations of the table"),
                id: form.id.clone(),
            };
            let reply = perform(&state, context, routed, body).await;
            if (200..300).contains(&reply.status) {
                (format!("Done: {operation}."), false)
            } else {
                let error: serde_json::Value = serde_json::from_slice(&reply.body).unwrap_or_default();
                let text = format!(
                    "{operation} was refused: {} {}",
                    error["reasonCode"].as_str().unwrap_or("error"),
                    error["message"].as_str().unwrap_or("")
                );
                (text, true)
            }
        }
    };
    Redirect::to(&back_to(form.back.as_deref(), &home, &notice, failed)).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, HeaderValue::from_static(value));
        }
        map
    }

    #[test]
    fn a_post_from_another_site_is_told_apart_from_the_dashboards_own() {
        assert!(same_origin(&headers(&[])));
        assert!(same_origin(&headers(&[("host", "127.0.0.1:8080"), ("origin", "http://127.0.0.1:8080")])));
        assert!(same_origin(&headers(&[("host", "localhost:8443"), ("origin", "https://localhost:8443")])));
        assert!(same_origin(&headers(&[("sec-fetch-site", "same-origin")])));
        assert!(!same_origin(&headers(&[("host", "127.0.0.1:8080"), ("origin", "http://evil.example")])));
        assert!(!same_origin(&headers(&[("host", "127.0.0.1:8080"), ("origin", "http://127.0.0.1:8080.evil")])));
        assert!(!same_origin(&headers(&[("host", "127.0.0.1:8080"), ("origin", "null")])));
        assert!(!same_origin(&headers(&[("sec-fetch-site", "cross-site")])));
        assert!(!same_origin(&headers(&[("sec-fetch-site", "same-site")])));
        assert!(!same_origin(&headers(&[("origin", "http://127.0.0.1:8080")])));
    }

    #[test]
    fn a_control_goes_back_to_a_dashboard_page_only_with_its_outcome() {
        let home = "/dashboard/merchants/M1?env=sandbox";
        assert_eq!(
            back_to(Some("/dashboard/objects/C1?merchant=M1&notice=old&failed=1"), home, "Done: <b>", false),
            "/dashboard/objects/C1?merchant=M1&notice=Done%3A%20%3Cb%3E"
        );
        for elsewhere in [None, Some("https://evil.example/"), Some("//evil.example/dashboard"), Some("/v2/charges")] {
            assert_eq!(back_to(elsewhere, home, "x", true), format!("{home}&notice=x&failed=1"), "{elsewhere:?}");
        }
    }

    #[test]
    fn json_is_indented_in_its_own_key_order_and_strings_are_left_alone() {
        let compact = r#"{"z":1,"a":{"s":"a,b:{c}\"]","e":[],"o":{}},"l":[1,null]}"#;
        let expected = "{\n  \"z\": 1,\n  \"a\": {\n    \"s\": \"a,b:{c}\\\"]\",\n    \"e\": [],\n    \"o\": {}\n  },\n  \"l\": [\n    1,\n    null\n  ]\n}";
        assert_eq!(indent_json(compact), expected);
        let reparsed: serde_json::Value = serde_json::from_str(&indent_json(compact)).unwrap();
        assert_eq!(reparsed, serde_json::from_str::<serde_json::Value>(compact).unwrap());
    }

    #[test]
    fn times_and_durations_read_as_people_write_them() {
        assert_eq!(time(Timestamp::from_unix_seconds(1_563_119_580)), "2019-07-14 15:53:00 UTC");
        assert_eq!(duration(93_784), "1 d 2 h 3 min 4 s");
        assert_eq!(duration(3_600), "1 h");
        assert_eq!(duration(0), "0 s");
    }

    #[test]
    fn a_controls_body_is_the_test_helpers_body() {
        let form = |operation: &str, seconds: Option<&str>, action: Option<&str>, card: Option<&str>| ActionForm {
            operation: operation.to_owned(),
            id: None,
            seconds: seconds.map(str::to_owned),
            action: action.map(str::to_owned),
            payment_method: card.map(str::to_owned),
            back: None,
        };
        assert_eq!(control_body(&form("AdvanceClock", Some(" 3600 "), None, None)).unwrap(), br#"{"seconds":3600}"#);
        assert!(control_body(&form("AdvanceClock", Some("1.5"), None, None)).is_err());
        assert!(control_body(&form("AdvanceClock", None, None, None)).is_err());
        assert_eq!(
            control_body(&form("BuyerAction", None, Some("UpdatePaymentMethod"), Some("4444"))).unwrap(),
            br#"{"action":"UpdatePaymentMethod","paymentMethod":"4444"}"#
        );
        assert!(control_body(&form("BuyerAction", None, Some("Pay"), None)).is_err());
        assert_eq!(control_body(&form("FreezeClock", None, None, None)).unwrap(), b"");
    }
}
