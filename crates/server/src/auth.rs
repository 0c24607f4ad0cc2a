//! Authentication of signed requests (spec §3, §9; product.md): the signature, the date
//! window, the host, the region, and which merchant and environment the key speaks for.
//!
//! In two phases, so that a stranger's body is never read: [`check_headers`] decides all
//! that the headers can (the `authorization` header, the key, the date, the host, the region
//! and environment) before the body is read; [`HeadersChecked::verify_signature`] then checks
//! the signature, which covers the body's hash.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use amzpay_api::format::parse_amz_date;
use amzpay_domain::{Environment, ReasonCode, Refusal, Region, Timestamp};
use amzpay_signing::{
    AuthorizationHeader, CanonicalRequestInput, PublicKey, canonical_query_from_wire, canonical_request,
    canonical_uri_from_wire, parse_public_key_pem, string_to_sign, verify,
};
use amzpay_store::{KeyRecord, Store, StoreError};

use crate::config::{MAX_CLOCK_SKEW_FUTURE_SECONDS, MAX_REQUEST_AGE_SECONDS};

/// Who is calling, once the signature verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub merchant_id: String,
    pub region: Region,
    pub environment: Environment,
}

struct CachedKey {
    record: KeyRecord,
    region: Region,
    public_key: PublicKey,
}

/// Public keys by id, parsed once. A key registered by another process (the CLI while the
/// server runs) is found in the database on its first use.
#[derive(Default)]
pub struct KeyCache {
    keys: RwLock<HashMap<String, Arc<CachedKey>>>,
}

/// The most keys kept parsed in memory; beyond it the cache starts over (a bound, not a
/// working set: real deployments have few merchants).
const KEY_CACHE_CAPACITY: usize = 10_000;

impl KeyCache {
    async fn get(&self, store: &dyn Store, public_key_id: &str) -> Result<Option<Arc<CachedKey>>, Refusal> {
        if let Some(found) = self.keys.read().expect("key cache").get(public_key_id) {
            return Ok(Some(found.clone()));
        }
        let id = public_key_id.to_owned();
        let found = store
            .read(move |tx| -> Result<_, StoreError> {
                let Some(key) = tx.key(&id)? else {
                    return Ok(None);
                };
                let merchant = tx.merchant(&key.merchant_id)?;
                Ok(merchant.map(|m| (key, m.region)))
            })
            .await
            .map_err(crate::internal_error)?;
        let Some((record, region)) = found else {
            return Ok(None);
        };
        let public_key = parse_public_key_pem(&record.public_key_pem).map_err(|e| {
            tracing::error!(key = %record.public_key_id, error = %e, "a stored public key does not parse");
            Refusal::new(ReasonCode::InvalidAuthentication, "the key for this PublicKeyId is unusable")
        })?;
        let cached = Arc::new(CachedKey { record, region, public_key });
        let mut keys = self.keys.write().expect("key cache");
        if keys.len() >= KEY_CACHE_CAPACITY {
            keys.clear();
        }
        keys.insert(public_key_id.to_owned(), cached.clone());
        Ok(Some(cached))
    }
}

/// What authentication looks at before the body: the request line and headers.
pub struct RequestHead<'a> {
    pub method: &'a str,
    /// The path exactly as received (still percent-encoded).
    pub raw_path: &'a str,
    pub raw_query: &'a str,
    pub headers: &'a [(String, String)],
    /// The `Host` the client called (header or HTTP/2 authority).
    pub host: Option<&'a str>,
    pub path_environment: Option<Environment>,
    /// The region of the Amazon host a tunneled request was sent to (`pay-api.amazon.eu`:
    /// Europe); `None` for a request sent to amzpay by its own name.
    pub host_region: Option<Region>,
}

/// A request whose headers passed (a well-formed `authorization` naming a known key, a
/// signed date in the window, the host it was sent to, the key's region and environment):
/// what is left is the signature, which covers the body's hash.
pub struct HeadersChecked {
    authorization: AuthorizationHeader,
    key: Arc<CachedKey>,
    environment: Environment,
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
}

fn required_header<'a>(headers: &'a [(String, String)], name: &str) -> Result<&'a str, Refusal> {
    match header(headers, name) {
        None => Err(Refusal::new(ReasonCode::MissingHeader, format!("the {name} header is required"))),
        Some(value) if value.trim().is_empty() => {
            Err(Refusal::new(ReasonCode::MissingHeaderValue, format!("the {name} header is empty")))
        }
        Some(value) => Ok(value.trim()),
    }
}

fn bad_header(message: impl Into<String>) -> Refusal {
    Refusal::new(ReasonCode::InvalidHeaderValue, message)
}

/// Splits `name:port` (or `[v6]:port`) into the name and the port, if any.
fn split_host(authority: &str) -> (&str, Option<&str>) {
    if let Some(rest) = authority.strip_prefix('[') {
        return match rest.split_once(']') {
            Some((name, tail)) => (name, tail.strip_prefix(':')),
            None => (authority, None),
        };
    }
    match authority.rsplit_once(':') {
        Some((name, port)) if !name.contains(':') => (name, Some(port)),
        _ => (authority, None),
    }
}

/// Whether `x-amz-pay-host` names the host the request was sent to (product.md): the same
/// host and port, or the same host name without a port. The official Ruby SDK signs the host
/// name alone while its HTTP library sends `Host: name:port`; against Amazon (port 443) the
/// two agree, against a server on another port only this rule lets it in.
pub fn pay_host_matches(pay_host: &str, host: &str) -> bool {
    let (pay_name, pay_port) = split_host(pay_host);
    let (name, port) = split_host(host);
    pay_name.eq_ignore_ascii_case(name) && (pay_port.is_none() || pay_port == port)
}

/// Checks what can be checked before the body is read (product.md: a request whose
/// `authorization` is missing or malformed or names an unknown key, or whose date or host is
/// wrong, is refused before its body is read), in the order Amazon reports them; `now` is
/// the server's real time (the date window is about the client's clock, never the sandbox
/// clock).
pub async fn check_headers(
    cache: &KeyCache,
    store: &dyn Store,
    request: &RequestHead<'_>,
    now: Timestamp,
) -> Result<HeadersChecked, Refusal> {
    let authorization_text = required_header(request.headers, "authorization")?;
    let authorization = AuthorizationHeader::parse(authorization_text).map_err(|e| bad_header(e.to_string()))?;

    let date_text = required_header(request.headers, "x-amz-pay-date")?;
    let date = parse_amz_date(date_text).ok_or_else(|| {
        bad_header(format!("x-amz-pay-date '{date_text}' is not yyyyMMddTHHmmssZ or yyyy-MM-ddTHH:mm:ssZ"))
    })?;
    if date.seconds_since(now) > MAX_CLOCK_SKEW_FUTURE_SECONDS {
        return Err(bad_header(format!(
            "x-amz-pay-date '{date_text}' is more than {MAX_CLOCK_SKEW_FUTURE_SECONDS} seconds in the future; check the client's clock"
        )));
    }
    if now.seconds_since(date) > MAX_REQUEST_AGE_SECONDS {
        return Err(bad_header(format!(
            "x-amz-pay-date '{date_text}' is more than {MAX_REQUEST_AGE_SECONDS} seconds old"
        )));
    }
    if !authorization.signed_headers.iter().any(|h| h == "x-amz-pay-date") {
        return Err(bad_header("x-amz-pay-date must be among the SignedHeaders"));
    }

    let pay_host = required_header(request.headers, "x-amz-pay-host")?;
    match request.host {
        Some(host) if pay_host_matches(pay_host, host) => {}
        Some(host) => {
            return Err(bad_header(format!(
                "x-amz-pay-host '{pay_host}' does not match the Host '{host}' the request was sent to"
            )));
        }
        None => {
            return Err(Refusal::new(ReasonCode::MissingHeader, "the Host header is required"));
        }
    }

    let Some(key) = cache.get(store, &authorization.public_key_id).await? else {
        return Err(Refusal::new(
            ReasonCode::InvalidAuthentication,
            format!("PublicKeyId '{}' is not registered", authorization.public_key_id),
        ));
    };

    if let Some(region) = request.host_region
        && region != key.region
    {
        return Err(Refusal::new(
            ReasonCode::InvalidAuthentication,
            format!(
                "PublicKeyId '{}' belongs to region {}, not to {}",
                authorization.public_key_id,
                key.region.code(),
                region.host()
            ),
        ));
    }

    if let Some(alias) = header(request.headers, "x-amz-pay-region") {
        let region = Region::from_alias(alias.trim())
            .ok_or_else(|| bad_header(format!("x-amz-pay-region '{alias}' is not a region")))?;
        if region != key.region {
            return Err(bad_header(format!(
                "x-amz-pay-region '{alias}' is not this merchant's region ({})",
                key.region.code()
            )));
        }
    }

    let environment = match (key.record.environment, request.path_environment) {
        (Some(key_env), Some(path_env)) if key_env != path_env => {
            return Err(Refusal::new(
                ReasonCode::UnauthorizedAccess,
                format!("a {} key cannot call /{}/", key_env.release_name(), path_env.path_segment()),
            ));
        }
        (Some(key_env), _) => key_env,
        (None, Some(path_env)) => path_env,
        (None, None) => {
            return Err(Refusal::new(
                ReasonCode::InvalidRequest,
                "keys without a SANDBOX- or LIVE- prefix must call /sandbox/v2/... or /live/v2/...",
            ));
        }
    };

    Ok(HeadersChecked { authorization, key, environment })
}

impl HeadersChecked {
    /// Checks the signature over the request as received, its body included.
    pub fn verify_signature(self, request: &RequestHead<'_>, body: &[u8]) -> Result<Caller, Refusal> {
        let HeadersChecked { authorization, key, environment } = self;
        let canonical_uri = canonical_uri_from_wire(request.raw_path);
        let canonical_query = canonical_query_from_wire(request.raw_query);
        let canonical = canonical_request(&CanonicalRequestInput {
            method: request.method,
            canonical_uri: &canonical_uri,
            canonical_query: &canonical_query,
            headers: request.headers,
            signed_headers: &authorization.signed_headers,
            body,
        });
        let to_sign = string_to_sign(authorization.algorithm, &canonical);
        if verify(&key.public_key, authorization.algorithm, &to_sign, &authorization.signature).is_err() {
            return Err(Refusal::new(
                ReasonCode::InvalidRequestSignature,
                format!(
                    "The request signature does not match. The canonical request was:\n{canonical}\n\nThe string to sign was:\n{to_sign}"
                ),
            ));
        }
        Ok(Caller { merchant_id: key.record.merchant_id.clone(), region: key.region, environment })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pay_host_is_the_host_called_with_or_without_its_port() {
        let table = [
            ("127.0.0.1:8443", "127.0.0.1:8443", true),
            ("localhost", "localhost:8443", true),
            ("LOCALHOST", "localhost:8443", true),
            ("pay-api.amazon.com", "pay-api.amazon.com", true),
            ("[::1]", "[::1]:8443", true),
            ("[::1]:8443", "[::1]:8443", true),
            ("localhost:8080", "localhost:8443", false),
            ("example.com", "localhost:8443", false),
            ("localhost:8443", "localhost", false),
            ("[::2]", "[::1]:8443", false),
            ("localhost.evil", "localhost:8443", false),
        ];
        for (pay_host, host, matches) in table {
            assert_eq!(pay_host_matches(pay_host, host), matches, "{pay_host} vs {host}");
        }
    }
}
