//! What a change stages beside itself, in the same transaction: its notifications (IPNs,
//! written to the outbox and delivered from there) and the scheduled transitions it
//! implies. One notification per state change of a permission, charge or refund, whatever
//! caused it, and an ATTRIBUTE_CHANGE when a permission's merchant metadata or payment
//! method changes without a change of state.

use amzpay_domain::{
    Charge, ChargePermission, ChargePermissionId, ChargeState, Environment, Refund, RefundState, Timestamp,
};
use amzpay_store::{Event, Job, JobKind, NotificationType, ObjectType, StoreError, WriteTx};

use crate::config::SandboxDelays;

pub struct Effects<'a> {
    merchant_id: &'a str,
    environment: Environment,
    now: Timestamp,
    delays: SandboxDelays,
    events: Vec<Event>,
    jobs: Vec<Job>,
}

impl<'a> Effects<'a> {
    pub fn new(merchant_id: &'a str, environment: Environment, now: Timestamp, delays: SandboxDelays) -> Self {
        Effects { merchant_id, environment, now, delays, events: Vec::new(), jobs: Vec::new() }
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
        for job in &self.jobs {
            tx.insert_job(job)?;
        }
        Ok(self.events.into_iter().map(|e| e.notification_id).collect())
    }
}
