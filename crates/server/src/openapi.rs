//! `GET /openapi.json` (product.md, "Operating the server"): an OpenAPI 3.1 document of every
//! route, built from the code so that it cannot drift from it.
//!
//! The API's paths, methods, idempotency headers and simulation headers come from
//! [`OPERATIONS`], the table `route` dispatches on; each operation's request and response
//! bodies are the schemas `utoipa` derives from the wire types of `amzpay-api` (their serde
//! attributes included: names, `deny_unknown_fields`, Amazon's nulls). What the table does not
//! say, which types an operation reads and answers with, is `shapes`, a `match` on the
//! operation's name that a test holds to cover every entry. The unsigned routes (health,
//! this document, the hosted pages, the IPN certificate) are [`UNSIGNED_ROUTES`].
//!
//! The document is built once per process and served as bytes.

use std::collections::BTreeSet;
use std::sync::LazyLock;

use amzpay_api::error::ErrorBody;
use amzpay_api::faults::{AddFaultBody, FaultOut, FaultsOut};
use amzpay_api::ipn::{IpnEndpointBody, IpnEndpointOut, NOTIFICATIONS_MAX_LIMIT, NotificationOut, NotificationsOut};
use amzpay_api::requests::checkout::{
    CompleteSessionBody, CreateSessionBody, FinalizeSessionBody, SignInBody, UpdateSessionBody,
};
use amzpay_api::requests::{
    AdvanceClockBody, AmazonActionBody, BuyerActionBody, CancelChargeBody, CaptureChargeBody, ClosePermissionBody,
    CreateChargeBody, CreatePermissionBody, CreateRefundBody, UpdatePermissionBody,
};
use amzpay_api::responses::checkout::CheckoutSessionOut;
use amzpay_api::responses::{ChargeOut, ChargePermissionOut, ClockOut, ConfirmOut, RefundOut};
use axum::body::{Body, Bytes};
use axum::response::Response;
use http::header::CONTENT_TYPE;
use http::{HeaderValue, Method};
use utoipa::ToSchema;
use utoipa::openapi::path::{HttpMethod, OperationBuilder, ParameterBuilder, ParameterIn};
use utoipa::openapi::request_body::RequestBodyBuilder;
use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, SecurityRequirement, SecurityScheme};
use utoipa::openapi::server::Server;
use utoipa::openapi::{
    Components, ContentBuilder, InfoBuilder, OpenApi, OpenApiBuilder, Paths, Ref, RefOr, Required, ResponseBuilder,
};

use crate::http::{REQUEST_ID_HEADER, SIMULATION_CODE_HEADER};
use crate::ops::IDEMPOTENCY_KEY_MAX_CHARS;
use crate::routes::{Handler, Idempotency, OPERATIONS, Operation, Read};

/// Where the document is served.
pub const OPENAPI_PATH: &str = "/openapi.json";

/// The name of the signature's security scheme in the document.
const SIGNATURE_SCHEME: &str = "AmazonPaySignature";

/// The API's paths are `/v2/...` under these prefixes (`routes::ApiPath`): the environment
/// named in the path, or, without one, the environment of the signing key.
const API_PREFIXES: [&str; 3] = ["/sandbox", "/live", ""];

const JSON: &str = "application/json";
const HTML: &str = "text/html; charset=utf-8";

/// The document, serialized once.
static DOCUMENT: LazyLock<Bytes> =
    LazyLock::new(|| Bytes::from(serde_json::to_vec(&document()).expect("an OpenAPI document serializes")));

/// `GET /openapi.json`. Unsigned, like `/healthz`.
pub async fn serve() -> Response {
    let mut response = Response::new(Body::from(DOCUMENT.clone()));
    response.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static(JSON));
    response
}

/// What an operation reads and answers with, beyond what [`OPERATIONS`] says.
struct Shapes {
    /// The JSON body's schema; `None` when the operation reads no body.
    request: Option<RefOr<Schema>>,
    /// The success statuses and the schema they answer with; empty for an operation that is
    /// always refused.
    success: &'static [u16],
    response: Option<RefOr<Schema>>,
    /// Query parameters the operation reads.
    query: Vec<utoipa::openapi::path::Parameter>,
}

/// A reference to `T`'s schema, with `T`'s schema and every schema it refers to added to
/// `components`.
fn schema<T: ToSchema>(components: &mut Components) -> RefOr<Schema> {
    let mut nested = Vec::new();
    T::schemas(&mut nested);
    nested.push((T::name().into_owned(), T::schema()));
    for (name, schema) in nested {
        components.schemas.entry(name).or_insert(schema);
    }
    RefOr::Ref(Ref::from_schema_name(T::name()))
}

/// The bodies and success statuses of each operation, by name. `None` for a name this does
/// not know: `every_operation_is_in_the_document` fails on it, so a new operation in
/// [`OPERATIONS`] cannot be left out.
fn shapes(operation: &Operation, components: &mut Components) -> Option<Shapes> {
    let c = components;
    let none = || Vec::new();
    let (request, success, response, query): (Option<RefOr<Schema>>, &'static [u16], _, _) = match operation.name {
        "CreateCheckoutSession" => {
            (Some(schema::<CreateSessionBody>(c)), &[201], Some(schema::<CheckoutSessionOut>(c)), none())
        }
        "GetCheckoutSession" => (None, &[200], Some(schema::<CheckoutSessionOut>(c)), none()),
        "UpdateCheckoutSession" => {
            (Some(schema::<UpdateSessionBody>(c)), &[200], Some(schema::<CheckoutSessionOut>(c)), none())
        }
        // 202: the authorization is pending (`canHandlePendingAuthorization`).
        "CompleteCheckoutSession" => {
            (Some(schema::<CompleteSessionBody>(c)), &[200, 202], Some(schema::<CheckoutSessionOut>(c)), none())
        }
        "FinalizeCheckoutSession" => {
            (Some(schema::<FinalizeSessionBody>(c)), &[200, 202], Some(schema::<CheckoutSessionOut>(c)), none())
        }
        "GetChargePermission" => (None, &[200], Some(schema::<ChargePermissionOut>(c)), none()),
        "UpdateChargePermission" => {
            (Some(schema::<UpdatePermissionBody>(c)), &[200], Some(schema::<ChargePermissionOut>(c)), none())
        }
        "CloseChargePermission" => {
            (Some(schema::<ClosePermissionBody>(c)), &[200], Some(schema::<ChargePermissionOut>(c)), none())
        }
        "CreateCharge" => (Some(schema::<CreateChargeBody>(c)), &[201], Some(schema::<ChargeOut>(c)), none()),
        "GetCharge" => (None, &[200], Some(schema::<ChargeOut>(c)), none()),
        "UpdateCharge" => (None, &[], None, none()),
        "CaptureCharge" => (Some(schema::<CaptureChargeBody>(c)), &[200], Some(schema::<ChargeOut>(c)), none()),
        "CancelCharge" => (Some(schema::<CancelChargeBody>(c)), &[200], Some(schema::<ChargeOut>(c)), none()),
        "CreateRefund" => (Some(schema::<CreateRefundBody>(c)), &[201], Some(schema::<RefundOut>(c)), none()),
        "GetRefund" => (None, &[200], Some(schema::<RefundOut>(c)), none()),
        "CreateTestChargePermission" => {
            (Some(schema::<CreatePermissionBody>(c)), &[201], Some(schema::<ChargePermissionOut>(c)), none())
        }
        "BuyerAction" => (Some(schema::<BuyerActionBody>(c)), &[200], Some(schema::<ChargePermissionOut>(c)), none()),
        "AmazonAction" => (Some(schema::<AmazonActionBody>(c)), &[200], Some(schema::<ChargeOut>(c)), none()),
        "SignIn" => (Some(schema::<SignInBody>(c)), &[200], Some(schema::<CheckoutSessionOut>(c)), none()),
        "ConfirmCheckout" => (None, &[200], Some(schema::<ConfirmOut>(c)), none()),
        "GetClock" | "FreezeClock" | "UnfreezeClock" => (None, &[200], Some(schema::<ClockOut>(c)), none()),
        "AdvanceClock" => (Some(schema::<AdvanceClockBody>(c)), &[200], Some(schema::<ClockOut>(c)), none()),
        "GetIpnEndpoint" => (None, &[200], Some(schema::<IpnEndpointOut>(c)), none()),
        "SetIpnEndpoint" => (Some(schema::<IpnEndpointBody>(c)), &[200], Some(schema::<IpnEndpointOut>(c)), none()),
        "ListNotifications" => (None, &[200], Some(schema::<NotificationsOut>(c)), vec![limit_parameter()]),
        "RedeliverNotification" => (None, &[200], Some(schema::<NotificationOut>(c)), none()),
        "AddFault" => (Some(schema::<AddFaultBody>(c)), &[201], Some(schema::<FaultOut>(c)), none()),
        "ListFaults" | "ClearFaults" => (None, &[200], Some(schema::<FaultsOut>(c)), none()),
        _ => return None,
    };
    Some(Shapes { request, success, response, query })
}

/// Which operation answers with an id that others take in their path (`{id}`): OpenAPI links,
/// which a client, and schemathesis's stateful phase, follow from one call to the next. The
/// source is a JSON pointer into the success body.
const PATH_LINKS: &[(&str, &str, &[&str])] = &[
    (
        "CreateTestChargePermission",
        "/chargePermissionId",
        &["GetChargePermission", "UpdateChargePermission", "CloseChargePermission", "BuyerAction"],
    ),
    ("CreateCharge", "/chargeId", &["GetCharge", "CaptureCharge", "CancelCharge", "AmazonAction"]),
    ("CaptureCharge", "/chargeId", &["GetCharge", "CancelCharge", "AmazonAction"]),
    ("CreateRefund", "/refundId", &["GetRefund"]),
    (
        "CreateCheckoutSession",
        "/checkoutSessionId",
        &["GetCheckoutSession", "UpdateCheckoutSession", "SignIn", "ConfirmCheckout", "FinalizeCheckoutSession"],
    ),
    ("SignIn", "/checkoutSessionId", &["ConfirmCheckout", "UpdateCheckoutSession", "GetCheckoutSession"]),
    ("CompleteCheckoutSession", "/chargePermissionId", &["GetChargePermission", "CloseChargePermission"]),
    ("CompleteCheckoutSession", "/chargeId", &["GetCharge", "CaptureCharge"]),
    ("ListNotifications", "/notifications/0/notificationId", &["RedeliverNotification"]),
];

/// Which operation answers with what another takes in its body: (from, to, the pointer to the
/// target's `{id}` if it takes one, the body, whose runtime expressions are replaced).
type BodyLink = (&'static str, &'static str, Option<&'static str>, serde_json::Value);

fn body_links() -> Vec<BodyLink> {
    vec![
        (
            "CreateTestChargePermission",
            "CreateCharge",
            None,
            serde_json::json!({
                "chargePermissionId": "$response.body#/chargePermissionId",
                "chargeAmount": { "amount": "1", "currencyCode": "$response.body#/presentmentCurrency" },
            }),
        ),
        (
            "CreateCharge",
            "CaptureCharge",
            Some("/chargeId"),
            serde_json::json!({ "captureAmount": "$response.body#/chargeAmount" }),
        ),
        (
            "CaptureCharge",
            "CreateRefund",
            None,
            serde_json::json!({
                "chargeId": "$response.body#/chargeId",
                "refundAmount": "$response.body#/captureAmount",
            }),
        ),
    ]
}

/// The links of an operation's success responses: their names in `components.links`, and
/// each link as JSON. Written as JSON, not as utoipa's `Link`: utoipa 5.5 serializes that
/// type's fields in snake case (`operation_id`), which no OpenAPI reader understands.
fn links(operation: &Operation) -> Vec<(String, serde_json::Value)> {
    let mut links = Vec::new();
    for (from, pointer, targets) in PATH_LINKS {
        if *from != operation.name {
            continue;
        }
        for target in *targets {
            let link = serde_json::json!({
                "operationId": target,
                "parameters": { "id": format!("$response.body#{pointer}") },
            });
            links.push((format!("{from}To{target}"), link));
        }
    }
    for (from, target, id, body) in body_links() {
        if from == operation.name {
            let mut link = serde_json::json!({ "operationId": target, "requestBody": body });
            if let Some(pointer) = id {
                link["parameters"] = serde_json::json!({ "id": format!("$response.body#{pointer}") });
            }
            links.push((format!("{from}To{target}WithBody"), link));
        }
    }
    links
}

fn limit_parameter() -> utoipa::openapi::path::Parameter {
    ParameterBuilder::new()
        .name("limit")
        .parameter_in(ParameterIn::Query)
        .required(Required::False)
        .description(Some("How many notifications, newest first."))
        .schema(Some(
            ObjectBuilder::new()
                .schema_type(Type::Integer)
                .minimum(Some(1))
                .maximum(Some(NOTIFICATIONS_MAX_LIMIT))
                .default(Some(amzpay_api::ipn::NOTIFICATIONS_DEFAULT_LIMIT.into())),
        ))
        .build()
}

/// The error statuses an operation can answer with, each with Amazon's error envelope.
/// Every signed request can be refused for its headers or body (400), its key's environment
/// (401), its signature (403), an id that names nothing (404), a body that arrives too late
/// (408), a storage failure (500) or load (503); operations that change something can be
/// refused by the rules (422), completing a checkout by its amounts (409); Amazon's
/// operations (not the test helpers) can meet a fault (429, and 500 and 503).
fn error_statuses(operation: &Operation) -> BTreeSet<u16> {
    let mut statuses = BTreeSet::from([400, 401, 403, 404, 408, 500, 503]);
    if !matches!(operation.handler, Handler::Read(_)) {
        statuses.insert(422);
    }
    if matches!(operation.name, "CompleteCheckoutSession" | "FinalizeCheckoutSession") {
        statuses.insert(409);
    }
    if !operation.is_test_helper() {
        statuses.insert(429);
    }
    statuses
}

fn string_schema() -> ObjectBuilder {
    ObjectBuilder::new().schema_type(Type::String)
}

fn header(name: &str, required: bool, description: &str, schema: ObjectBuilder) -> utoipa::openapi::path::Parameter {
    ParameterBuilder::new()
        .name(name)
        .parameter_in(ParameterIn::Header)
        .required(if required { Required::True } else { Required::False })
        .description(Some(description))
        .schema(Some(schema))
        .build()
}

/// The headers a signed request carries besides `authorization` (spec §3).
fn signing_headers(operation: &Operation) -> Vec<utoipa::openapi::path::Parameter> {
    let mut headers = vec![
        header(
            "x-amz-pay-date",
            true,
            "When the request was signed, UTC: `20180524T223710Z` or `2018-05-24T22:37:10Z`. Signed.",
            string_schema(),
        ),
        header(
            "x-amz-pay-host",
            true,
            "The host the request is sent to, with or without its port. Signed.",
            string_schema(),
        ),
        header(
            "x-amz-pay-region",
            false,
            "The key's region: `na`, `eu` or `jp` (any case; `us` and `de` too).",
            string_schema(),
        ),
    ];
    let key_description = "Makes a retry with the same key and body answer as the first request did (spec §8).";
    let key_schema = || string_schema().pattern(Some(format!("^[A-Za-z0-9_-]{{1,{IDEMPOTENCY_KEY_MAX_CHARS}}}$")));
    match operation.idempotency {
        Idempotency::Required => headers.push(header("x-amz-pay-idempotency-key", true, key_description, key_schema())),
        Idempotency::Optional => {
            headers.push(header("x-amz-pay-idempotency-key", false, key_description, key_schema()))
        }
        Idempotency::Ignored => {}
    }
    if operation.simulated.is_some() {
        headers.push(header(
            SIMULATION_CODE_HEADER,
            false,
            "Sandbox only: a simulation code that applies to this operation (spec §11), e.g. `HardDeclined`.",
            string_schema(),
        ));
    }
    headers
}

fn id_parameter(operation: &Operation) -> Option<utoipa::openapi::path::Parameter> {
    let what = match operation.handler {
        Handler::Read(Read::Charge(_)) | Handler::Write(crate::routes::Write::Charge(_)) => "a charge id",
        Handler::Read(Read::ChargePermission(_)) | Handler::Write(crate::routes::Write::ChargePermission(_)) => {
            "a charge permission id"
        }
        Handler::Read(Read::Refund(_)) => "a refund id",
        Handler::Read(Read::CheckoutSession(_)) | Handler::Write(crate::routes::Write::CheckoutSession(_)) => {
            "a checkout session id"
        }
        Handler::Write(crate::routes::Write::Notification(_)) => "a notification id",
        _ if operation.path.contains("{id}") => "an id",
        _ => return None,
    };
    Some(
        ParameterBuilder::new()
            .name("id")
            .parameter_in(ParameterIn::Path)
            .required(Required::True)
            .description(Some(what))
            .schema(Some(string_schema()))
            .build(),
    )
}

fn request_id_header() -> utoipa::openapi::header::Header {
    utoipa::openapi::header::HeaderBuilder::new()
        .schema(string_schema())
        .description(Some("A unique id of this answer."))
        .build()
}

fn error_response(error: &RefOr<Schema>, status: u16) -> utoipa::openapi::Response {
    ResponseBuilder::new()
        .description(format!("{status}: refused, with Amazon's reason code"))
        .header(REQUEST_ID_HEADER, request_id_header())
        .content(JSON, ContentBuilder::new().schema(Some(error.clone())).build())
        .build()
}

fn http_method(method: &Method) -> HttpMethod {
    match *method {
        Method::GET => HttpMethod::Get,
        Method::POST => HttpMethod::Post,
        Method::PUT => HttpMethod::Put,
        Method::PATCH => HttpMethod::Patch,
        Method::DELETE => HttpMethod::Delete,
        Method::HEAD => HttpMethod::Head,
        Method::OPTIONS => HttpMethod::Options,
        _ => HttpMethod::Trace,
    }
}

/// The tag an operation is listed under: the object its path names.
fn tag(operation: &Operation) -> &'static str {
    if operation.is_test_helper() {
        return "Test helpers";
    }
    match operation.path.split('/').next() {
        Some("checkoutSessions") => "Checkout Sessions",
        Some("chargePermissions") => "Charge Permissions",
        Some("charges") => "Charges",
        Some("refunds") => "Refunds",
        _ => "Other",
    }
}

fn api_operation(operation: &Operation, components: &mut Components) -> utoipa::openapi::path::Operation {
    let shapes = shapes(operation, components)
        .unwrap_or_else(|| panic!("{operation:?} has no request and response shapes in openapi::shapes"));
    let error = schema::<ErrorBody>(components);
    let mut builder = OperationBuilder::new()
        .operation_id(Some(operation.name))
        .tag(tag(operation))
        .security(SecurityRequirement::new(SIGNATURE_SCHEME, Vec::<String>::new()));
    builder = builder.parameters(Some(id_parameter(operation).into_iter().chain(signing_headers(operation))));
    builder = builder.parameters(Some(shapes.query));
    if let Some(request) = shapes.request {
        builder = builder.request_body(Some(
            RequestBodyBuilder::new()
                .description(Some("JSON; an empty body reads as `{}`."))
                .content(JSON, ContentBuilder::new().schema(Some(request)).build())
                .build(),
        ));
    }
    for &status in shapes.success {
        let mut response = ResponseBuilder::new().description("Done").header(REQUEST_ID_HEADER, request_id_header());
        if let Some(schema) = &shapes.response {
            response = response.content(JSON, ContentBuilder::new().schema(Some(schema.clone())).build());
        }
        for (name, _) in links(operation) {
            response = response.link(&name, RefOr::Ref(Ref::new(format!("#/components/links/{name}"))));
        }
        builder = builder.response(status.to_string(), response.build());
    }
    for status in error_statuses(operation) {
        builder = builder.response(status.to_string(), error_response(&error, status));
    }
    if let Handler::Refused(code, message) = operation.handler {
        builder = builder.description(Some(format!("Always refused: {code}, \"{message}\".")));
    }
    builder.build()
}

/// A route outside the signed API: no signature, and HTML, JavaScript, PEM or JSON answers.
pub struct UnsignedRoute {
    pub method: Method,
    /// As axum writes it: `{id}` is a path parameter.
    pub path: &'static str,
    pub summary: &'static str,
    /// The success statuses, answered with this content type.
    pub success: &'static [u16],
    pub content_type: &'static str,
    /// The error statuses (a page's own, or axum's refusal of a form: 415, 422).
    pub errors: &'static [u16],
    /// A form body (`application/x-www-form-urlencoded`): its fields, all strings, and whether
    /// each is required.
    pub form: &'static [(&'static str, bool)],
}

/// Every route the router serves besides the API (`http::router`), in the router's order.
#[rustfmt::skip]
pub static UNSIGNED_ROUTES: &[UnsignedRoute] = &[
    UnsignedRoute { method: Method::GET, path: "/healthz", summary: "The process answers.", success: &[200], content_type: JSON, errors: &[], form: &[] },
    UnsignedRoute { method: Method::GET, path: "/readyz", summary: "The database answers.", success: &[200], content_type: JSON, errors: &[503], form: &[] },
    UnsignedRoute { method: Method::GET, path: crate::admin::METRICS_PATH, summary: "The process's metrics, Prometheus text format; loopback clients only, or the bearer token of `--admin-token`.", success: &[200], content_type: crate::admin::PROMETHEUS_TEXT, errors: &[401, 403, 503], form: &[] },
    UnsignedRoute { method: Method::GET, path: OPENAPI_PATH, summary: "This document.", success: &[200], content_type: JSON, errors: &[], form: &[] },
    UnsignedRoute { method: Method::GET, path: "/jr/your-account/ba/{id}", summary: "The sandbox buyer's page of a charge permission.", success: &[200], content_type: HTML, errors: &[404, 500], form: &[] },
    UnsignedRoute { method: Method::POST, path: "/jr/your-account/ba/{id}", summary: "The buyer changes the payment method or closes the permission.", success: &[200], content_type: HTML, errors: &[400, 404, 415, 422, 500], form: &[("action", true), ("paymentMethod", false)] },
    UnsignedRoute { method: Method::GET, path: "/checkout.js", summary: "The hosted checkout's button script.", success: &[200], content_type: "application/javascript; charset=utf-8", errors: &[], form: &[] },
    UnsignedRoute { method: Method::POST, path: "/checkout/button", summary: "The button's form target: checks the button signature, creates the session.", success: &[303], content_type: HTML, errors: &[400, 403, 415, 422, 500], form: &[("payloadJSON", true), ("signature", true), ("publicKeyId", true), ("algorithm", false), ("sandbox", false)] },
    UnsignedRoute { method: Method::GET, path: "/checkout/{id}/signin", summary: "The hosted sign-in page.", success: &[200], content_type: HTML, errors: &[404, 409, 500], form: &[] },
    UnsignedRoute { method: Method::POST, path: "/checkout/{id}/signin", summary: "The buyer signs in.", success: &[200, 303], content_type: HTML, errors: &[400, 404, 409, 415, 422, 500], form: &[("buyer", false), ("paymentMethod", true)] },
    UnsignedRoute { method: Method::GET, path: "/checkout/{id}/confirm", summary: "The hosted confirm page (`amazonPayRedirectUrl`).", success: &[200], content_type: HTML, errors: &[404, 409, 500], form: &[] },
    UnsignedRoute { method: Method::POST, path: "/checkout/{id}/confirm", summary: "The buyer confirms.", success: &[200, 303], content_type: HTML, errors: &[404, 409, 500], form: &[] },
    UnsignedRoute { method: Method::GET, path: crate::dashboard::DASHBOARD_PATH, summary: "The dashboard: the merchants. Loopback clients only, or the admin token (bearer, or the HTTP Basic password).", success: &[200], content_type: HTML, errors: &[401, 403, 500], form: &[] },
    UnsignedRoute { method: Method::GET, path: crate::dashboard::SCRIPT_PATH, summary: "The dashboard's script: live updates and the controls.", success: &[200], content_type: "text/javascript; charset=utf-8", errors: &[401, 403], form: &[] },
    UnsignedRoute { method: Method::GET, path: "/dashboard/merchants/{id}", summary: "A merchant's dashboard: clock, faults, checkout sessions, charge permissions, charges and refunds (newest first; query `q` for text the ids contain, `state`, `kind`, `rows`, `env`), notifications.", success: &[200], content_type: HTML, errors: &[400, 401, 403, 404, 500], form: &[] },
    UnsignedRoute { method: Method::POST, path: "/dashboard/merchants/{id}/actions", summary: "A dashboard control, run as the merchant's test helper (AdvanceClock, FreezeClock, UnfreezeClock, RedeliverNotification, BuyerAction, ClearFaults); back to the page with the outcome. Refused from another site's page.", success: &[303], content_type: HTML, errors: &[400, 401, 403, 404, 415, 422, 500], form: &[("operation", true), ("id", false), ("seconds", false), ("action", false), ("paymentMethod", false), ("back", false)] },
    UnsignedRoute { method: Method::GET, path: "/dashboard/objects/{id}", summary: "An object's dashboard page (query `merchant`, `env`): as the API answers it, its timeline, its notifications, the buyer's controls.", success: &[200], content_type: HTML, errors: &[400, 401, 403, 404, 500], form: &[] },
    UnsignedRoute { method: Method::GET, path: crate::ipn::signer::CERTIFICATE_PATH, summary: "The IPN signing certificate (PEM).", success: &[200], content_type: "application/x-pem-file", errors: &[503], form: &[] },
    UnsignedRoute { method: Method::GET, path: crate::ipn::signer::UNSUBSCRIBE_PATH, summary: "SNS's unsubscribe link: it changes nothing (endpoints are the merchant's to change).", success: &[200], content_type: "text/plain; charset=utf-8", errors: &[], form: &[] },
];

fn unsigned_operation(route: &UnsignedRoute) -> utoipa::openapi::path::Operation {
    let mut builder = OperationBuilder::new().summary(Some(route.summary)).tag("Unsigned");
    if route.path.contains("{id}") {
        builder = builder.parameter(
            ParameterBuilder::new()
                .name("id")
                .parameter_in(ParameterIn::Path)
                .required(Required::True)
                .schema(Some(string_schema())),
        );
    }
    if !route.form.is_empty() {
        let mut form = ObjectBuilder::new().schema_type(Type::Object);
        for (field, required) in route.form {
            form = form.property(*field, string_schema());
            if *required {
                form = form.required(*field);
            }
        }
        builder = builder.request_body(Some(
            RequestBodyBuilder::new()
                .content("application/x-www-form-urlencoded", ContentBuilder::new().schema(Some(form)).build())
                .required(Some(Required::True))
                .build(),
        ));
    }
    for status in route.success {
        builder = builder.response(
            status.to_string(),
            ResponseBuilder::new()
                .description("Done")
                .content(route.content_type, ContentBuilder::new().build())
                .build(),
        );
    }
    for status in route.errors {
        builder = builder.response(status.to_string(), ResponseBuilder::new().description("Refused").build());
    }
    builder.build()
}

/// The whole document.
pub fn document() -> OpenApi {
    let mut components = Components::new();
    components.security_schemes.insert(
        SIGNATURE_SCHEME.to_owned(),
        SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
            "authorization",
            "`AMZN-PAY-RSASSA-PSS-V2 PublicKeyId=..., SignedHeaders=..., Signature=...` (or \
             `AMZN-PAY-RSASSA-PSS`): RSASSA-PSS with SHA-256 (salt 32, or 20) over the canonical \
             request, spec §9. SignedHeaders must include x-amz-pay-date and x-amz-pay-host.",
        ))),
    );
    let mut paths = Paths::new();
    let api_servers: Vec<Server> = API_PREFIXES
        .iter()
        .map(|prefix| {
            let mut server = Server::new(if prefix.is_empty() { "/" } else { prefix });
            server.description = Some(match *prefix {
                "/sandbox" => "Sandbox".to_owned(),
                "/live" => "Live".to_owned(),
                _ => "The environment of the signing key".to_owned(),
            });
            server
        })
        .collect();
    let mut all_links = serde_json::Map::new();
    for operation in OPERATIONS {
        all_links.extend(links(operation));
        let path = format!("/{}/{}", crate::routes::API_VERSION, operation.path);
        let built = api_operation(operation, &mut components);
        paths.add_path_operation(&path, vec![http_method(&operation.method)], built);
    }
    for path in paths.paths.values_mut() {
        path.servers = Some(api_servers.clone());
    }
    for route in UNSIGNED_ROUTES {
        paths.add_path_operation(route.path, vec![http_method(&route.method)], unsigned_operation(route));
    }
    // utoipa's `Components` has no `links`: they go in through its flattened extensions.
    components.extensions.get_or_insert_with(Default::default).insert("links".to_owned(), all_links.into());
    let info = InfoBuilder::new()
        .title("amzpay")
        .version(env!("CARGO_PKG_VERSION"))
        .description(Some(
            "Amazon Pay API v2 as amzpay serves it, with amzpay's sandbox test helpers and the \
             unsigned routes. Generated from the server's operation table and wire types.",
        ))
        .build();
    let mut document = OpenApiBuilder::new().info(info).paths(paths).components(Some(components)).build();
    document.servers = Some(vec![Server::new("/")]);
    document
}

#[cfg(test)]
mod tests {
    use super::*;

    fn json() -> serde_json::Value {
        serde_json::from_slice(&DOCUMENT).unwrap()
    }

    #[test]
    fn the_document_is_openapi_3_1() {
        let document = json();
        assert_eq!(document["openapi"], "3.1.0", "{}", document["openapi"]);
        assert!(document["info"]["title"].is_string());
    }

    #[test]
    fn every_operation_is_in_the_document() {
        let document = json();
        for operation in OPERATIONS {
            let path = format!("/v2/{}", operation.path);
            let method = operation.method.as_str().to_ascii_lowercase();
            let item = &document["paths"][&path][&method];
            assert_eq!(item["operationId"], operation.name, "{operation:?} at {path} {method}");
            let headers: Vec<&str> = item["parameters"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|p| p["in"] == "header")
                .map(|p| p["name"].as_str().unwrap())
                .collect();
            assert_eq!(
                headers.contains(&"x-amz-pay-idempotency-key"),
                operation.idempotency != Idempotency::Ignored,
                "{operation:?}"
            );
            assert!(!item["responses"]["400"].is_null(), "{operation:?}");
        }
        for route in UNSIGNED_ROUTES {
            let method = route.method.as_str().to_ascii_lowercase();
            assert!(document["paths"][route.path][&method].is_object(), "{} {}", route.method, route.path);
        }
    }

    #[test]
    fn links_join_operations_that_exist_with_ids_they_take() {
        let named = |name: &str| OPERATIONS.iter().find(|o| o.name == name).unwrap_or_else(|| panic!("{name}"));
        for (from, _, targets) in PATH_LINKS {
            named(from);
            for target in *targets {
                assert!(named(target).path.contains("{id}"), "{target}");
            }
        }
        for (from, target, id, _) in body_links() {
            named(from);
            assert_eq!(named(target).path.contains("{id}"), id.is_some(), "{target}");
        }
    }

    /// Every `$ref` names a schema the document holds.
    #[test]
    fn every_reference_resolves() {
        fn walk(value: &serde_json::Value, document: &serde_json::Value, seen: &mut usize) {
            match value {
                serde_json::Value::Object(map) => {
                    if let Some(reference) = map.get("$ref").and_then(|r| r.as_str()) {
                        let (kind, name) =
                            reference.strip_prefix("#/components/").and_then(|r| r.split_once('/')).expect(reference);
                        assert!(document["components"][kind][name].is_object(), "{reference}");
                        *seen += 1;
                    }
                    map.values().for_each(|v| walk(v, document, seen));
                }
                serde_json::Value::Array(items) => items.iter().for_each(|v| walk(v, document, seen)),
                _ => {}
            }
        }
        let document = json();
        let mut seen = 0;
        walk(&document, &document, &mut seen);
        assert!(seen > 50, "{seen} references");
    }

    /// Response objects carry every key, `null` or not, in Amazon's order: the schema says so.
    #[test]
    fn response_schemas_require_amazons_nulls_and_keep_their_order() {
        let document = json();
        let charge = &document["components"]["schemas"]["ChargeOut"];
        let required: Vec<&str> = charge["required"].as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
        let mut properties: Vec<&str> = charge["properties"].as_object().unwrap().keys().map(String::as_str).collect();
        let mut sorted = required.clone();
        sorted.sort();
        properties.sort();
        assert_eq!(sorted, properties);
        // `serde_json::Value` sorts keys; the bytes served keep the struct's order.
        let text = std::str::from_utf8(&DOCUMENT).unwrap();
        let charge_text = &text[text.find(r#""ChargeOut":{"#).unwrap()..];
        let positions: Vec<usize> =
            required.iter().map(|key| charge_text.find(&format!(r#""{key}":{{"#)).unwrap()).collect();
        assert!(positions.windows(2).all(|pair| pair[0] < pair[1]), "{required:?} in {positions:?}");
        assert_eq!(&required[..3], ["chargeId", "chargeAmount", "chargePermissionId"]);
        let soft_descriptor = &charge["properties"]["softDescriptor"];
        assert_eq!(soft_descriptor["type"], serde_json::json!(["string", "null"]), "{soft_descriptor}");
        let session = &document["components"]["schemas"]["CheckoutSessionOut"];
        let required = session["required"].as_array().unwrap();
        assert!(!required.contains(&"cartDetails".into()), "Finalize only");
        assert_eq!(session["properties"]["tokens"]["type"], "null");
    }

    #[test]
    fn request_schemas_refuse_unknown_fields() {
        let document = json();
        let create = &document["components"]["schemas"]["CreateChargeBody"];
        assert_eq!(create["additionalProperties"], false, "{create}");
        // serde lets every field be left out; the ones the rules always need are required.
        assert_eq!(create["required"], serde_json::json!(["chargePermissionId", "chargeAmount"]), "{create}");
        assert_eq!(create["properties"]["chargePermissionId"]["type"], "string");
    }
}
