//! Request and response objects of Amazon Pay API v2 (spec §5), field for field, one file
//! per object: `charge.rs`, `charge_permission.rs`, `refund.rs`, `checkout.rs`, amzpay's
//! test helpers in `test_helpers.rs`, and what several objects share in `common.rs`.
//!
//! Requests leave out fields that are `None`. Responses accept missing fields and fields
//! this SDK does not know, so a newer API does not break an older client. Every struct and
//! enum is `#[non_exhaustive]`, so a field or value Amazon adds is not a breaking change:
//! requests are built with `new` (their required fields) or `Default`, then one setter per
//! optional field. Nothing here does IO or talks to the client.

/// An enum of Amazon's names, with `Unknown` for a name this SDK does not know yet.
macro_rules! wire_enum {
    ($(#[$doc:meta])* $name:ident { $($(#[$vdoc:meta])* $variant:ident),* $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
        #[non_exhaustive]
        pub enum $name {
            $($(#[$vdoc])* $variant,)*
            /// A value this SDK does not know yet.
            #[serde(other)]
            Unknown,
        }
    };
}

/// A `#[non_exhaustive]` wire object: the fields in the first block are written as given
/// (required fields, set by `new`); each field of the `optional` block becomes a
/// `pub name: Option<T>` left out of the JSON when `None`, with a setter
/// `name(self, impl Into<T>) -> Self` documented like the field.
macro_rules! wire_object {
    (
        $(#[$attr:meta])*
        pub struct $name:ident {
            $($required:tt)*
        }
        optional {
            $(
                $(#[doc = $doc:literal])*
                $(#[serde($($serde:tt)*)])*
                $field:ident: $value:ty,
            )*
        }
    ) => {
        $(#[$attr])*
        #[non_exhaustive]
        pub struct $name {
            $($required)*
            $(
                $(#[doc = $doc])*
                #[serde(default, skip_serializing_if = "Option::is_none")]
                $(#[serde($($serde)*)])*
                pub $field: Option<$value>,
            )*
        }

        impl $name {
            $(
                $(#[doc = $doc])*
                pub fn $field(mut self, $field: impl Into<$value>) -> $name {
                    self.$field = Some($field.into());
                    self
                }
            )*
        }
    };
}

mod charge;
mod charge_permission;
mod checkout;
mod common;
mod refund;
mod test_helpers;

pub use charge::*;
pub use charge_permission::*;
pub use checkout::*;
pub use common::*;
pub use refund::*;
pub use test_helpers::*;
