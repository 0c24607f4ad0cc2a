//! The shared vocabulary of Amazon Pay v2: money in integer minor units and the currencies
//! Amazon handles, regions and environments, the ids of Charge Permissions, Charges and
//! Refunds, and Amazon's reason codes.
//!
//! Both sides speak it: the server's rules (`amzpay-domain`) and the Rust client
//! (`amzpay-sdk`), so the client never depends on the server. Nothing here does IO, reads a
//! clock or draws a random number, and nothing here knows HTTP: which status a reason code
//! answers with is the wire crate's business.

#![deny(missing_docs)]

pub mod ids;
pub mod money;
pub mod reason;
pub mod region;

pub use ids::{ChargeId, ChargePermissionId, RefundId};
pub use money::{Currency, Money};
pub use reason::{ReasonCode, Refusal};
pub use region::{Environment, Region};

/// Gives closed enums whose variants are written by their names their `as_str` and `parse`,
/// from strum's derived `IntoStaticStr` and `EnumString` (derive both on each enum; spell a
/// variant differently with `#[strum(serialize = "...")]`). A new variant is one line.
#[macro_export]
macro_rules! named {
    ($($name:ty),* $(,)?) => {$(
        impl $name {
            /// The name, as it is written on the wire and in storage.
            pub fn as_str(self) -> &'static str {
                self.into()
            }

            /// The variant with this name, if any.
            pub fn parse(text: &str) -> Option<$name> {
                text.parse().ok()
            }
        }
    )*};
}
