//! The Amazon Pay v2 wire format: request bodies in, response objects out, the error
//! envelope, and the amount and timestamp formats (spec §4, §5, §7).
//!
//! Request bodies are parsed in two steps: serde reads the JSON shape (unknown fields are
//! refused), then `into_*` methods turn it into a domain command, checking values. Every
//! failure is a [`Refusal`] carrying Amazon's reason code.

pub mod body;
pub mod error;
pub mod faults;
pub mod format;
pub mod ipn;
pub mod requests;
pub mod responses;

pub use amzpay_domain::{ReasonCode, Refusal};
