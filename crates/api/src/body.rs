//! Reading a JSON request body into a typed shape, with Amazon's reason codes for what
//! goes wrong.

use amzpay_domain::{ReasonCode, Refusal};
use serde::de::DeserializeOwned;

/// Parses a body. Malformed JSON is `InvalidRequestFormat`; an unknown field anywhere is
/// `UnrecognizedField`; a value of the wrong type is `InvalidParameterValue`. An empty body
/// reads as `{}`, so that required fields are reported as missing.
///
/// The syntax of the whole body is checked before its shape: a body cut short after a
/// complete field name (`{"captureNow": true, "cha`) must read as malformed, not as a body
/// naming an unknown field `cha`.
pub fn parse_body<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, Refusal> {
    let bytes = if bytes.iter().all(u8::is_ascii_whitespace) { b"{}".as_slice() } else { bytes };
    serde_json::from_slice::<serde::de::IgnoredAny>(bytes).map_err(|error| match error.classify() {
        serde_json::error::Category::Data => classify(error, "."),
        _ => Refusal::new(ReasonCode::InvalidRequestFormat, format!("the request body is not valid JSON: {error}")),
    })?;
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut deserializer).map_err(|error| {
        let path = error.path().to_string();
        classify(error.into_inner(), &path)
    })?;
    deserializer.end().map_err(|error| classify(error, "."))?;
    Ok(value)
}

/// Parses one part of a body kept as raw JSON (a field amzpay validates and echoes as
/// sent); `field` prefixes the paths in messages.
pub fn parse_part<T: DeserializeOwned>(field: &str, text: &str) -> Result<T, Refusal> {
    let mut deserializer = serde_json::Deserializer::from_str(text);
    serde_path_to_error::deserialize(&mut deserializer).map_err(|error| {
        let path = error.path().to_string();
        classify_in(error.into_inner(), &path, field)
    })
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
}
