//! amzpay's fault injection test helper (product.md, "Fault injection"): the body of
//! `POST /v2/testHelpers/faults` and the fault objects it, `GET` and `DELETE` answer with.
//!
//! Only shapes and value checks live here: which operation names exist, and what a fault
//! does to a request, are the server's.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::requests::{invalid, missing};
use crate::{ReasonCode, Refusal};

/// The reason codes a fault may answer with, and their statuses: 429, 503, 500.
pub const FAULT_REASON_CODES: [ReasonCode; 3] =
    [ReasonCode::TooManyRequests, ReasonCode::ServiceUnavailable, ReasonCode::InternalServerError];

/// `POST /v2/testHelpers/faults`: `{"reasonCode": "ServiceUnavailable" | ... | null,
/// "count": N, "operations": ["CreateCharge", ...]?, "delayMs": M?}`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[schema(example = json!({"reasonCode": "ServiceUnavailable", "count": 1, "operations": ["GetCharge"]}))]
pub struct AddFaultBody {
    pub reason_code: Option<String>,
    #[schema(required, value_type = u32)]
    pub count: Option<serde_json::Number>,
    pub operations: Option<Vec<String>>,
    #[schema(value_type = Option<u32>)]
    pub delay_ms: Option<serde_json::Number>,
}

/// The bounds a fault is held to (the server's limits).
#[derive(Debug, Clone, Copy)]
pub struct FaultLimits {
    pub max_count: u32,
    pub max_delay_ms: u32,
}

/// A fault as asked for, its values checked. The operation names are checked by the
/// server, which knows them; here they are only deduplicated, in the order given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewFault {
    /// `None`: the requests are only delayed, then run.
    pub reason_code: Option<ReasonCode>,
    pub count: u32,
    /// `None`: every operation.
    pub operations: Option<Vec<String>>,
    pub delay_ms: u32,
}

fn whole_number(
    field: &str,
    number: &serde_json::Number,
    range: std::ops::RangeInclusive<u32>,
) -> Result<u32, Refusal> {
    let value: u32 = number.to_string().parse().map_err(|_| {
        invalid(format!("{field} '{number}' is not a whole number from {} to {}", range.start(), range.end()))
    })?;
    if !range.contains(&value) {
        return Err(invalid(format!("{field} must be from {} to {}", range.start(), range.end())));
    }
    Ok(value)
}

impl AddFaultBody {
    pub fn into_fault(self, limits: FaultLimits) -> Result<NewFault, Refusal> {
        let reason_code = match self.reason_code {
            None => None,
            Some(text) => Some(FAULT_REASON_CODES.into_iter().find(|code| code.as_str() == text).ok_or_else(|| {
                invalid(format!(
                    "reasonCode '{text}' is not TooManyRequests, ServiceUnavailable or InternalServerError \
                         (or null, to only delay)"
                ))
            })?),
        };
        let count = whole_number("count", self.count.as_ref().ok_or_else(|| missing("count"))?, 1..=limits.max_count)?;
        let delay_ms = match &self.delay_ms {
            None => None,
            Some(number) => Some(whole_number("delayMs", number, 0..=limits.max_delay_ms)?),
        };
        match (reason_code, delay_ms) {
            (None, None) => return Err(missing("reasonCode or delayMs")),
            (None, Some(0)) => {
                return Err(invalid("a fault without a reasonCode only delays: delayMs must be at least 1"));
            }
            _ => {}
        }
        let operations = match self.operations {
            None => None,
            Some(names) if names.is_empty() => {
                return Err(invalid("operations must name at least one operation; leave it out for every operation"));
            }
            Some(names) => {
                let mut unique: Vec<String> = Vec::with_capacity(names.len());
                for name in names {
                    if !unique.contains(&name) {
                        unique.push(name);
                    }
                }
                Some(unique)
            }
        };
        Ok(NewFault { reason_code, count, operations, delay_ms: delay_ms.unwrap_or(0) })
    }
}

/// A fault, as the test helpers answer with it.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct FaultOut<'a> {
    pub fault_id: &'a str,
    /// `null` for a fault that only delays.
    #[schema(required)]
    pub reason_code: Option<&'static str>,
    /// How many requests it was asked for.
    pub count: u32,
    /// How many it still applies to.
    pub remaining_count: u32,
    /// `null` for every operation.
    #[schema(required)]
    pub operations: Option<&'a [String]>,
    pub delay_ms: u32,
    pub creation_timestamp: String,
}

/// `{"faults": [...]}`, oldest first.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FaultsOut<'a> {
    pub faults: Vec<FaultOut<'a>>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::body::parse_body;

    const LIMITS: FaultLimits = FaultLimits { max_count: 100, max_delay_ms: 60_000 };

    fn fault(json: &str) -> Result<NewFault, Refusal> {
        parse_body::<AddFaultBody>(json.as_bytes()).and_then(|body| body.into_fault(LIMITS))
    }

    #[test]
    fn a_fault_names_an_error_or_a_delay_or_both() {
        let error = fault(r#"{"reasonCode":"ServiceUnavailable","count":2}"#).unwrap();
        assert_eq!(
            error,
            NewFault { reason_code: Some(ReasonCode::ServiceUnavailable), count: 2, operations: None, delay_ms: 0 }
        );
        let delay = fault(r#"{"reasonCode":null,"count":1,"delayMs":200,"operations":["GetCharge","GetCharge"]}"#);
        assert_eq!(
            delay.unwrap(),
            NewFault { reason_code: None, count: 1, operations: Some(vec!["GetCharge".to_owned()]), delay_ms: 200 }
        );
        for code in FAULT_REASON_CODES {
            let json = format!(r#"{{"reasonCode":"{code}","count":100,"delayMs":60000}}"#);
            assert_eq!(fault(&json).unwrap().reason_code, Some(code));
        }
    }

    #[test]
    fn bad_faults_are_refused_with_amazons_reason_codes() {
        let cases = [
            (r#"{"reasonCode":"ServiceUnavailable"}"#, ReasonCode::MissingParameterValue),
            (r#"{"count":1}"#, ReasonCode::MissingParameterValue),
            (r#"{"reasonCode":null,"count":1}"#, ReasonCode::MissingParameterValue),
            (r#"{"reasonCode":null,"count":1,"delayMs":0}"#, ReasonCode::InvalidParameterValue),
            (r#"{"reasonCode":"HardDeclined","count":1}"#, ReasonCode::InvalidParameterValue),
            (r#"{"reasonCode":"ServiceUnavailable","count":0}"#, ReasonCode::InvalidParameterValue),
            (r#"{"reasonCode":"ServiceUnavailable","count":101}"#, ReasonCode::InvalidParameterValue),
            (r#"{"reasonCode":"ServiceUnavailable","count":-1}"#, ReasonCode::InvalidParameterValue),
            (r#"{"reasonCode":"ServiceUnavailable","count":1.5}"#, ReasonCode::InvalidParameterValue),
            (r#"{"reasonCode":"ServiceUnavailable","count":"2"}"#, ReasonCode::InvalidParameterValue),
            (r#"{"reasonCode":"ServiceUnavailable","count":1,"delayMs":60001}"#, ReasonCode::InvalidParameterValue),
            (r#"{"reasonCode":"ServiceUnavailable","count":1,"operations":[]}"#, ReasonCode::InvalidParameterValue),
            (
                r#"{"reasonCode":"ServiceUnavailable","count":1,"operations":"CreateCharge"}"#,
                ReasonCode::InvalidParameterValue,
            ),
            (r#"{"reasonCode":"ServiceUnavailable","count":1,"bogus":1}"#, ReasonCode::UnrecognizedField),
            (r#"{"reasonCode":"ServiceUnavailable","count":1"#, ReasonCode::InvalidRequestFormat),
        ];
        for (json, code) in cases {
            assert_eq!(fault(json).unwrap_err().code, code, "{json}");
        }
    }
}
