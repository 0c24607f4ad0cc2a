//! Pure rules of the Amazon Pay v2 charge lifecycle.
//!
//! Everything here is a value or a function of values: time is passed in as a
//! [`Timestamp`], randomness as numbers, and nothing reads a clock, a file or a socket.
//! There is no serde: the wire format lives in `amzpay-api`, storage in `amzpay-store`.
//!
//! Each operation is a transition function that checks its preconditions as a flat list in
//! precedence order and only then mutates; an `Err` means nothing was changed.

pub mod actions;
pub mod charge;
pub mod charge_permission;
pub mod checkout_session;
pub mod limits;
pub mod metadata;
pub mod refund;
pub mod sandbox;
pub mod time;

// The shared vocabulary lives in `amzpay-types` (the SDK speaks it too); the rules use it
// under these names.
pub use amzpay_types::reason as error;
pub use amzpay_types::{ids, money, named, region};

pub use amzpay_types::{ChargeId, ChargePermissionId, Currency, Money, ReasonCode, RefundId, Refusal};
pub use amzpay_types::{Environment, Region};
pub use charge::{CancelReason, Charge, ChargeState, DeclineReason};
pub use charge_permission::{ChargePermission, ClosureReason, PermissionState, PermissionType};
pub use refund::{Refund, RefundState};
pub use time::Timestamp;
