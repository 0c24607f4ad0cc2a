//! Refunds (spec §5.4, §6.3): create and read. A refund always starts `RefundInitiated`;
//! the clock settles it (`crate::jobs`).

use amzpay_api::body::parse_body;
use amzpay_api::requests::CreateRefundBody;
use amzpay_api::responses::{RefundOut, to_json};
use amzpay_domain::refund::{self, RefundDeclineReason};
use amzpay_domain::{DeclineReason, Refund, RefundId, Timestamp};
use amzpay_store::{ReadTx, StoreError, WriteTx};

use super::charges::load_charge;
use super::{Context, OpResult, Reply, not_found};

pub fn get(tx: &mut dyn ReadTx, context: &Context, id: &RefundId) -> Result<Reply, StoreError> {
    let caller = &context.caller;
    match tx.refund(&caller.merchant_id, caller.environment, id)? {
        Some(refund) => Ok(Reply::json(200, to_json(&RefundOut::from(&refund)))),
        None => Ok(Reply::error(&not_found("refund", id.as_str()))),
    }
}

pub fn create(tx: &mut dyn WriteTx, context: &Context, body: &[u8], now: Timestamp) -> OpResult {
    let caller = &context.caller;
    let (charge_id, mut request) =
        refuse!(parse_body::<CreateRefundBody>(body).and_then(CreateRefundBody::into_command));
    request.simulated_decline = match context.decline() {
        Some(DeclineReason::AmazonRejected) => Some(RefundDeclineReason::AmazonRejected),
        Some(DeclineReason::ProcessingFailure) => Some(RefundDeclineReason::ProcessingFailure),
        Some(_) | None => None,
    };
    let (mut charge, mut permission) = refuse!(load_charge(tx, context.scope(), &charge_id)?);
    let refund: Refund = refuse!(refund::create_refund(&mut permission, &mut charge, request, now));
    let mut effects = context.effects(now);
    effects.refund(None, &refund, &permission.id);
    tx.save_charge(&caller.merchant_id, &charge)?;
    tx.update_permission(&caller.merchant_id, &permission)?;
    tx.save_refund(&caller.merchant_id, &refund)?;
    effects.write(tx)?;
    Ok(Ok(Reply::json(201, to_json(&RefundOut::from(&refund)))))
}
