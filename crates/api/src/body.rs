//! Reading a JSON request body into a typed shape, with Amazon's reason codes for what
//! goes wrong.

use amzpay_domain::{ReasonCode, Refusal};
use serde::de::DeserializeOwned;
use serde_json::Value;

/// The request fields that are lists (spec §5, `deliverySpecifications` included). serde
/// reads a struct from a JSON array too (its fields by position), which Amazon does not: an
/// array anywhere else is an invalid value. A new list field goes here (the field tables of
/// `crates/server/tests/fields.rs` send every field, so a missing entry fails there).
pub const LIST_FIELDS: &[&str] =
    &["scopes", "multiAddressesCheckoutMetadata", "specialRestrictions", "statesOrRegions", "zipCodes", "operations"];

/// The fields kept as raw JSON and checked on their own by [`parse_part`].
const RAW_FIELDS: &[&str] = &["deliverySpecifications"];

/// Parses a body. Malformed JSON is `InvalidRequestFormat`; an unknown field anywhere is
/// `UnrecognizedField`; a value of the wrong type (an array where no list belongs included)
/// is `InvalidParameterValue`. An empty body reads as `{}`, so that required fields are
/// reported as missing.
///
/// The syntax of the whole body is checked before its shape: a body cut short after a
/// complete field name (`{"captureNow": true, "cha`) must read as malformed, not as a body
/// naming an unknown field `cha`. JSON is UTF-8, so a body that is not UTF-8 is malformed
/// too, wherever its bad bytes stand (a syntax check alone skips over the strings it
/// ignores).
pub fn parse_body<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, Refusal> {
    let text = std::str::from_utf8(bytes).map_err(|error| {
        Refusal::new(
            ReasonCode::InvalidRequestFormat,
            format!("the request body is not valid JSON: it is not UTF-8 after byte {}", error.valid_up_to()),
        )
    })?;
    let text = if text.trim_ascii().is_empty() { "{}" } else { text };
    let tree = serde_json::from_str::<Value>(text).map_err(|error| match error.classify() {
        serde_json::error::Category::Data => classify(error, "."),
        _ => Refusal::new(ReasonCode::InvalidRequestFormat, format!("the request body is not valid JSON: {error}")),
    })?;
    shape(text, &tree, "")
}

/// Parses one part of a body kept as raw JSON (a field amzpay validates and echoes as
/// sent); `field` prefixes the paths in messages.
pub fn parse_part<T: DeserializeOwned>(field: &str, text: &str) -> Result<T, Refusal> {
    let tree = serde_json::from_str::<Value>(text).map_err(|error| classify_in(error, ".", field))?;
    shape(text, &tree, field)
}

/// Reads valid JSON `text`, whose tree is `tree`, as a `T`. An unknown field is reported
/// first, then an array where no list belongs, then whatever else serde found.
fn shape<T: DeserializeOwned>(text: &str, tree: &Value, prefix: &str) -> Result<T, Refusal> {
    let mut deserializer = serde_json::Deserializer::from_str(text);
    let result = serde_path_to_error::deserialize(&mut deserializer)
        .map_err(|error| {
            let path = error.path().to_string();
            let error = error.into_inner();
            // `text` is valid JSON (checked before), so what serde_json calls a syntax error
            // here is a value of the wrong type where an enum is read (`"scopes": [5]`: it
            // expected a string): an invalid value, not a malformed body.
            if error.is_syntax() || error.is_eof() {
                let path = if prefix.is_empty() { path } else { format!("{prefix}.{path}") };
                return Refusal::new(
                    ReasonCode::InvalidParameterValue,
                    format!("'{path}': a value of the wrong type (expected one of the names this field accepts)"),
                );
            }
            classify_in(error, &path, prefix)
        })
        .and_then(|value| deserializer.end().map(|()| value).map_err(|error| classify_in(error, ".", prefix)));
    match result {
        Err(refusal) if refusal.code == ReasonCode::UnrecognizedField => Err(refusal),
        result => refuse_misplaced_lists(tree, prefix).and(result),
    }
}

/// Refuses an array that is not the value of one of the [`LIST_FIELDS`]; `path` is where
/// `value` stands (empty for the body), written as serde's paths are.
fn refuse_misplaced_lists(value: &Value, path: &str) -> Result<(), Refusal> {
    match value {
        Value::Array(_) => Err(Refusal::new(
            ReasonCode::InvalidParameterValue,
            format!("'{}': a list where none is expected", if path.is_empty() { "." } else { path }),
        )),
        Value::Object(fields) => fields.iter().try_for_each(|(name, field)| {
            let path = if path.is_empty() { name.clone() } else { format!("{path}.{name}") };
            match field {
                _ if RAW_FIELDS.contains(&name.as_str()) => Ok(()),
                Value::Array(items) if LIST_FIELDS.contains(&name.as_str()) => items
                    .iter()
                    .enumerate()
                    .try_for_each(|(index, item)| refuse_misplaced_lists(item, &format!("{path}[{index}]"))),
                other => refuse_misplaced_lists(other, &path),
            }
        }),
        _ => Ok(()),
    }
}

fn classify(error: serde_json::Error, path: &str) -> Refusal {
    classify_in(error, path, "")
}

/// `path` is serde's path within the part that failed; `prefix` names that part in the whole
/// body (empty for the body itself).
fn classify_in(error: serde_json::Error, path: &str, prefix: &str) -> Refusal {
    use serde_json::error::Category;
    let top = path == "." || path.is_empty();
    let path = match (prefix.is_empty(), top) {
        (true, _) => path.to_owned(),
        (false, true) => prefix.to_owned(),
        (false, false) => format!("{prefix}.{path}"),
    };
    let path = path.as_str();
    match error.classify() {
        Category::Syntax | Category::Eof | Category::Io => {
            Refusal::new(ReasonCode::InvalidRequestFormat, format!("the request body is not valid JSON: {error}"))
        }
        Category::Data => {
            let text = error.to_string();
            if let Some(rest) = text.strip_prefix("unknown field `") {
                let field = rest.split('`').next().unwrap_or_default();
                let full = match (top, prefix.is_empty()) {
                    (true, true) => field.to_owned(),
                    (true, false) => format!("{prefix}.{field}"),
                    // The path already names the unknown field's parent chain plus the field.
                    (false, _) => path.to_owned(),
                };
                Refusal::new(ReasonCode::UnrecognizedField, format!("unrecognized field '{full}'"))
            } else if text.starts_with("missing field") {
                Refusal::new(ReasonCode::MissingParameterValue, format!("{text} at '{path}'"))
            } else {
                let text = text.split(" at line ").next().unwrap_or(&text);
                Refusal::new(ReasonCode::InvalidParameterValue, format!("'{path}': {text}"))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields, rename_all = "camelCase")]
    #[allow(dead_code)]
    struct Inner {
        amount: Option<String>,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields, rename_all = "camelCase")]
    #[allow(dead_code)]
    struct Outer {
        capture_now: Option<bool>,
        charge_amount: Option<Inner>,
        scopes: Option<Vec<String>>,
    }

    #[test]
    fn errors_carry_amazons_reason_codes() {
        let cases = [
            (r#"{"captureNow": true"#, ReasonCode::InvalidRequestFormat),
            (r#"{"captureNow": true, "cha"#, ReasonCode::InvalidRequestFormat),
            (r#"{"chargeAmount": {"amount": "1", "bogus": 2"#, ReasonCode::InvalidRequestFormat),
            (r#"{"bogus": 1"#, ReasonCode::InvalidRequestFormat),
            (r#"not json"#, ReasonCode::InvalidRequestFormat),
            (r#"{} {}"#, ReasonCode::InvalidRequestFormat),
            (r#"{"bogus": 1}"#, ReasonCode::UnrecognizedField),
            (r#"{"chargeAmount": {"amount": "1", "extra": 2}}"#, ReasonCode::UnrecognizedField),
            (r#"{"captureNow": "yes"}"#, ReasonCode::InvalidParameterValue),
            (r#"[1]"#, ReasonCode::InvalidParameterValue),
        ];
        for (json, code) in cases {
            assert_eq!(parse_body::<Outer>(json.as_bytes()).unwrap_err().code, code, "{json}");
        }
        let nested = parse_body::<Outer>(br#"{"chargeAmount": {"amount": "1", "extra": 2}}"#).unwrap_err();
        assert!(nested.message.contains("chargeAmount.extra"), "{}", nested.message);
        assert!(parse_body::<Outer>(b"").is_ok());
        assert!(parse_body::<Outer>(br#"{"captureNow": null}"#).is_ok());
    }

    /// Found by the `request_bodies` fuzz target: serde reads a struct from a JSON array too
    /// (its fields by position), so `[true, null, null]` was a body with `captureNow: true`, and an array
    /// longer than the struct answered `InvalidRequestFormat` although it is valid JSON.
    /// Amazon's bodies have arrays only where a field is a list.
    #[test]
    fn an_array_where_an_object_or_a_value_belongs_is_an_invalid_value() {
        let cases = [
            ("[true, null, null]", "."),
            (r#"[true, {"amount": "1"}, 3]"#, "."),
            (r#"{"chargeAmount": ["1"]}"#, "chargeAmount"),
            (r#"{"chargeAmount": {"amount": ["1"]}}"#, "chargeAmount.amount"),
            (r#"{"scopes": [["name"]]}"#, "scopes[0]"),
        ];
        for (json, path) in cases {
            let refusal = parse_body::<Outer>(json.as_bytes()).unwrap_err();
            assert_eq!(refusal.code, ReasonCode::InvalidParameterValue, "{json}: {refusal:?}");
            assert!(refusal.message.contains(&format!("'{path}'")), "{json}: {refusal:?}");
        }
        let listed = parse_body::<Outer>(br#"{"scopes": ["name", "email"]}"#).unwrap();
        assert_eq!(listed.scopes.unwrap(), ["name", "email"]);
    }

    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    enum Colour {
        Red,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct WithEnums {
        // A list field (`LIST_FIELDS`).
        scopes: Option<Vec<Colour>>,
        colour: Option<Colour>,
    }

    /// Found by schemathesis (scripts/schemathesis): serde_json reports an enum read from a
    /// number or a boolean as a syntax error ("expected value"), so `{"scopes": [5]}`, valid
    /// JSON, was answered `InvalidRequestFormat`. A value of the wrong type is an invalid value.
    #[test]
    fn an_enum_given_a_number_or_a_boolean_is_an_invalid_value_not_malformed_json() {
        let cases = [
            (r#"{"scopes": [5]}"#, "'scopes[0]'"),
            (r#"{"scopes": [true]}"#, "'scopes[0]'"),
            (r#"{"colour": -58800}"#, "'colour'"),
            (r#"{"colour": {}}"#, "'colour'"),
        ];
        for (json, path) in cases {
            let refusal = parse_body::<WithEnums>(json.as_bytes()).unwrap_err();
            assert_eq!(refusal.code, ReasonCode::InvalidParameterValue, "{json}: {refusal:?}");
            assert!(refusal.message.contains(path), "{json}: {refusal:?}");
        }
        assert!(parse_body::<WithEnums>(br#"{"scopes": ["Red"], "colour": "Red"}"#).is_ok());
        assert_eq!(parse_body::<WithEnums>(br#"{"colour": 5"#).unwrap_err().code, ReasonCode::InvalidRequestFormat);
    }

    /// Found by the `request_bodies` fuzz target: bytes that are not UTF-8 inside a string
    /// passed the syntax check (which skips over strings it ignores), so the answer depended
    /// on where they stood. JSON is UTF-8: such a body is malformed wherever they are.
    #[test]
    fn a_body_that_is_not_utf8_is_malformed_wherever_the_bad_bytes_are() {
        let cases: [&[u8]; 4] = [
            b"{\"bogus\": \"\xff\"}",
            b"{\"\xff\": 1}",
            b"{\"chargeAmount\": {\"amount\": \"1\xe2\x82\"}}",
            b"{\"captureNow\": true} \xff",
        ];
        for bytes in cases {
            let refusal = parse_body::<Outer>(bytes).unwrap_err();
            assert_eq!(refusal.code, ReasonCode::InvalidRequestFormat, "{bytes:?}: {refusal:?}");
        }
    }
}
