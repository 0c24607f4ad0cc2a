//! What a change stages beside itself, in the same transaction: its notifications (IPNs,
//! written to the outbox and delivered from there), the scheduled transitions it implies,
//! and its line in the object's timeline. One notification per state change of a
//! permission, charge or refund, whatever caused it, and an ATTRIBUTE_CHANGE when a
//! permission's merchant metadata or payment method changes without a change of state. One
//! timeline entry per change of state or of its reason code, of those three and of checkout
//! sessions, with what caused it ([`Origin`]).

use amzpay_domain::checkout_session::CheckoutSession;
use amzpay_domain::{
    Charge, ChargePermission, ChargePermissionId, ChargeState, Environment, Refund, RefundState, Timestamp,
};
use amzpay_store::{
    Cause, Event, Job, JobKind, NotificationType, ObjectKind, ObjectType, StateChange, StoreError, WriteTx,
};

use crate::config::SandboxDelays;

/// What caused a change, as its timeline entry records it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Origin {
    pub cause: Cause,
    /// The operation, simulation code, transition or action, by name.
    pub detail: &'static str,
}

impl Origin {
    pub const fn new(cause: Cause, detail: &'static str) -> Origin {
        Origin { cause, detail }
    }
}

/// A state and its reason code, as Amazon names them: what a timeline entry compares.
type Status = (&'static str, Option<&'static str>);

pub struct Effects<'a> {
    merchant_id: &'a str,
    environment: Environment,
    now: Timestamp,
    delays: SandboxDelays,
    origin: Origin,
    events: Vec<Event>,
    jobs: Vec<Job>,
    changes: Vec<StateChange>,
}

impl<'a> Effects<'a> {
    pub fn new(
        merchant_id: &'a str,
        environment: Environment,
        now: Timestamp,
        delays: SandboxDelays,
        origin: Origin,
    ) -> Self {
        Effects {
            merchant_id,
            environment,
            now,
            delays,
            origin,
            events: Vec::new(),
            jobs: Vec::new(),
            changes: Vec::new(),
        }
    }

    /// A timeline entry, when the status differs from what it was (or the object is new).
    fn timeline(&mut self, kind: ObjectKind, object_id: &str, before: Option<Status>, after: Status) {
        if before != Some(after) {
            let at = (self.now, self.origin);
            self.changes.push(state_change(self.merchant_id, self.environment, kind, object_id, after, at));
        }
    }

    fn event(
        &mut self,
        object_type: ObjectType,
        object_id: &str,
        permission_id: &ChargePermissionId,
        notification_type: NotificationType,
    ) {
        self.events.push(Event {
            // Time-ordered (version 7): notifications are indexed by id, and ids that
            // grow with time are appended to that index instead of landing on a random
            // page of it, which kept the writer reading pages back as the outbox grew.
            notification_id: uuid::Uuid::now_v7().to_string(),
            message_id: uuid::Uuid::new_v4().to_string(),
            merchant_id: self.merchant_id.to_owned(),
            environment: self.environment,
            object_type,
            object_id: object_id.to_owned(),
            charge_permission_id: permission_id.to_string(),
            notification_type,
            created_at: self.now,
        });
    }

    fn job(&mut self, kind: JobKind, object_id: &str, due_at: Timestamp) {
        self.jobs.push(Job {
            id: 0,
            merchant_id: self.merchant_id.to_owned(),
            environment: self.environment,
            kind,
            object_id: object_id.to_owned(),
            due_at,
        });
    }

    /// A new or changed permission: a notification on a change of state, or of what the
    /// merchant sees of it without one (merchant metadata, the buyer's payment method); an
    /// expiry job when its expiration is new or moved.
    pub fn permission(&mut self, before: Option<&ChargePermission>, after: &ChargePermission) {
        let status = |p: &ChargePermission| (p.state.name(), p.state.reason_code());
        self.timeline(ObjectKind::ChargePermission, after.id.as_str(), before.map(status), status(after));
        let kind = match before {
            Some(before) if before.state == after.state => (before.merchant_metadata != after.merchant_metadata
                || before.payment_method != after.payment_method)
                .then_some(NotificationType::AttributeChange),
            _ => Some(NotificationType::StateChange),
        };
        if let Some(kind) = kind {
            self.event(ObjectType::ChargePermission, after.id.as_str(), &after.id, kind);
        }
        if let Some(expires_at) = after.expires_at
            && before.map(|p| p.expires_at) != Some(after.expires_at)
            && !after.state.is_closed()
        {
            self.job(JobKind::ExpirePermission, after.id.as_str(), expires_at);
        }
    }

    /// A new or changed charge: an event on a state change, and the transition the new state
    /// waits for.
    pub fn charge(&mut self, before: Option<&Charge>, after: &Charge) {
        let status = |c: &Charge| (c.state.name(), c.state.reason_code());
        self.timeline(ObjectKind::Charge, after.id.as_str(), before.map(status), status(after));
        if before.map(|c| c.state) == Some(after.state) {
            return;
        }
        self.event(ObjectType::Charge, after.id.as_str(), &after.permission_id, NotificationType::StateChange);
        match after.state {
            ChargeState::AuthorizationInitiated => {
                let due = self.now.plus_seconds(self.delays.pending_authorization_seconds);
                self.job(JobKind::ResolveAuthorization, after.id.as_str(), due);
            }
            ChargeState::Authorized => self.job(JobKind::ExpireAuthorization, after.id.as_str(), after.expires_at),
            ChargeState::CaptureInitiated => {
                let due = self.now.plus_seconds(self.delays.async_capture_seconds);
                self.job(JobKind::CompleteCapture, after.id.as_str(), due);
            }
            ChargeState::Captured | ChargeState::Canceled(_) | ChargeState::Declined(_) => {}
        }
    }

    /// A new or changed refund: an event on a state change; a new refund settles later.
    pub fn refund(&mut self, before: Option<&Refund>, after: &Refund, permission_id: &ChargePermissionId) {
        let status = |r: &Refund| (r.state.name(), r.state.reason_code());
        self.timeline(ObjectKind::Refund, after.id.as_str(), before.map(status), status(after));
        if before.map(|r| r.state) == Some(after.state) {
            return;
        }
        self.event(ObjectType::Refund, after.id.as_str(), permission_id, NotificationType::StateChange);
        if after.state == RefundState::RefundInitiated {
            let due = self.now.plus_seconds(self.delays.refund_seconds);
            self.job(JobKind::SettleRefund, after.id.as_str(), due);
        }
    }

    /// Writes what was staged; returns the notifications written, by id.
    pub fn write(self, tx: &mut dyn WriteTx) -> Result<Vec<String>, StoreError> {
        for event in &self.events {
            tx.insert_event(event)?;
        }
        for change in &self.changes {
            tx.insert_state_change(change)?;
        }
        for job in &self.jobs {
            tx.insert_job(job)?;
        }
        Ok(self.events.into_iter().map(|e| e.notification_id).collect())
    }
}

/// A timeline entry: `object_id` (of `kind`) entered `status` at `at.0`, caused by `at.1`.
fn state_change(
    merchant_id: &str,
    environment: Environment,
    kind: ObjectKind,
    object_id: &str,
    status: Status,
    at: (Timestamp, Origin),
) -> StateChange {
    StateChange {
        merchant_id: merchant_id.to_owned(),
        environment,
        object_kind: kind,
        object_id: object_id.to_owned(),
        state: status.0.to_owned(),
        reason_code: status.1.map(str::to_owned),
        at: at.0,
        cause: at.1.cause,
        detail: at.1.detail.to_owned(),
    }
}

/// Saves a checkout session with its timeline entry when its state changed from the one
/// stored (sessions are saved from many places, and Amazon sends no notification for them:
/// this reads the stored one to compare).
pub fn save_checkout_session(
    tx: &mut dyn WriteTx,
    merchant_id: &str,
    session: &CheckoutSession,
    now: Timestamp,
    origin: Origin,
) -> Result<(), StoreError> {
    let status = |s: &CheckoutSession| (s.state.name(), s.state.reason_code());
    let before = tx.checkout_session(merchant_id, session.environment, &session.id)?.map(|s| status(&s));
    tx.save_checkout_session(merchant_id, session)?;
    if before != Some(status(session)) {
        let kind = ObjectKind::CheckoutSession;
        tx.insert_state_change(&state_change(
            merchant_id,
            session.environment,
            kind,
            &session.id,
            status(session),
            (now, origin),
        ))?;
    }
    Ok(())
}
