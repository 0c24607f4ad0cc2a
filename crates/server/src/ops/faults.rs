//! Faults on demand (product.md, "Fault injection"): the sandbox test helpers that add, list
//! and clear a merchant's faults, and `inject`, which every operation of a sandbox
//! merchant passes before it runs.
//!
//! A fault lives in the store (durable, and shared by every process on the database). The
//! next `count` requests of its merchant that it applies to each use one of its requests in
//! a write transaction of their own (the writer serializes them, so two requests never both
//! use the last one), then wait its delay holding no connection and not the writer, then
//! answer its error without running, so no idempotency key is recorded and a retry with the
//! same key runs normally. A fault without a reason code only delays: the request then runs.
//! Test helpers never meet a fault.
//!
//! So that merchants without faults pay nothing, each process keeps a [`FaultIndex`]: the
//! sandbox merchants that may have active faults. A request of any other merchant does not
//! touch the store.

use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use amzpay_api::body::parse_body;
use amzpay_api::faults::{AddFaultBody, FaultLimits, FaultOut, FaultsOut, NewFault};
use amzpay_api::format::format_timestamp;
use amzpay_api::responses::to_json;
use amzpay_domain::{Environment, ReasonCode, Refusal};
use amzpay_store::{Fault, ReadTx, StoreError};

use super::{Context, Reply, sandbox_only};
use crate::AppState;
use crate::config::{MAX_ACTIVE_FAULTS_PER_MERCHANT, MAX_FAULT_COUNT, MAX_FAULT_DELAY_MS};
use crate::routes::{FaultChange, OPERATIONS, Operation, ReadResult};

const LIMITS: FaultLimits = FaultLimits { max_count: MAX_FAULT_COUNT, max_delay_ms: MAX_FAULT_DELAY_MS };

/// The sandbox merchants that may have active faults, as this process knows them: loaded
/// from the store at start, marked when this process adds a fault, forgotten when this
/// process sees a merchant's last fault go (used up or cleared). A merchant not in it has no
/// fault, and its requests skip the store; one in it costs a write transaction per request,
/// which finds out.
///
/// Marks and forgets that follow from a write happen inside its transaction, on the writer
/// thread, so they take effect in commit order: a merchant is never forgotten after a fault
/// of its was added. A write that fails marks its merchant again (a needless mark only costs
/// one look).
///
/// Per process: a fault added through another process sharing a SQLite file is seen here
/// only after a restart. On PostgreSQL, where several nodes serve one database, the index is
/// `shared`: a merchant it does not know may have been given a fault through another node, so
/// each of its sandbox requests reads the store (one read, no write) to find out, and marks it
/// if so.
#[derive(Debug, Default)]
pub struct FaultIndex {
    merchants: RwLock<HashSet<String>>,
    /// Other processes add faults too: a merchant not in the index is looked up.
    shared: bool,
    /// `merchants.len()`, read without the lock: while no merchant has a fault, which is
    /// nearly always, a request only loads this.
    active: AtomicUsize,
}

impl FaultIndex {
    /// `shared`: other processes serve the same database and may add faults.
    pub fn new(merchants: impl IntoIterator<Item = String>, shared: bool) -> FaultIndex {
        let merchants: HashSet<String> = merchants.into_iter().collect();
        let active = AtomicUsize::new(merchants.len());
        FaultIndex { merchants: RwLock::new(merchants), shared, active }
    }

    fn may_have(&self, merchant_id: &str) -> bool {
        self.active.load(Ordering::Acquire) > 0
            && self.merchants.read().unwrap_or_else(|poisoned| poisoned.into_inner()).contains(merchant_id)
    }

    fn mark(&self, merchant_id: &str) {
        let mut merchants = self.merchants.write().unwrap_or_else(|poisoned| poisoned.into_inner());
        merchants.insert(merchant_id.to_owned());
        self.active.store(merchants.len(), Ordering::Release);
    }

    fn forget(&self, merchant_id: &str) {
        let mut merchants = self.merchants.write().unwrap_or_else(|poisoned| poisoned.into_inner());
        merchants.remove(merchant_id);
        self.active.store(merchants.len(), Ordering::Release);
    }
}

/// Before an operation runs: if this sandbox merchant has a fault that applies to it, use
/// one of the fault's requests, wait its delay, and answer its error; `None` lets the
/// operation run (no fault, or one that only delays).
pub(super) async fn inject(state: &AppState, context: &Context, operation: &'static Operation) -> Option<Reply> {
    let merchant_id = &context.caller.merchant_id;
    if operation.is_test_helper() || context.caller.environment != Environment::Sandbox {
        return None;
    }
    if !state.faults.may_have(merchant_id) {
        if !state.faults.shared {
            return None;
        }
        // Another node may have given this merchant a fault since this one last looked.
        let merchant = merchant_id.clone();
        let found = state.store.read(move |tx| tx.faults(&merchant, Environment::Sandbox)).await;
        match found {
            Ok(faults) if faults.is_empty() => return None,
            Ok(_) => state.faults.mark(merchant_id),
            // The operation's own transaction meets the same failure and answers for it.
            Err(_) => return None,
        }
    }
    let index = state.faults.clone();
    let merchant = merchant_id.clone();
    let taken = state
        .store
        .write(move |tx| -> Result<Option<Fault>, StoreError> {
            let faults = tx.faults(&merchant, Environment::Sandbox)?;
            let Some(fault) = faults.iter().find(|fault| fault.applies_to(operation.name)) else {
                if faults.is_empty() {
                    index.forget(&merchant);
                }
                return Ok(None);
            };
            if !tx.consume_fault(&merchant, Environment::Sandbox, &fault.fault_id)? {
                return Err(StoreError::Corrupt(format!("fault {} vanished within its transaction", fault.fault_id)));
            }
            if faults.len() == 1 && fault.remaining == 1 {
                index.forget(&merchant);
            }
            Ok(Some(fault.clone()))
        })
        .await;
    let fault = match taken {
        Ok(Some(fault)) => fault,
        Ok(None) => return None,
        Err(error) => {
            state.faults.mark(merchant_id);
            return Some(Reply::error(&crate::internal_error(error)));
        }
    };
    let nth = fault.count - fault.remaining + 1;
    tracing::info!(
        merchant_id = %merchant_id,
        operation = operation.name,
        fault_id = %fault.fault_id,
        reason_code = fault.reason_code.map(ReasonCode::as_str),
        delay_ms = fault.delay_ms,
        "sandbox fault {nth} of {}",
        fault.count
    );
    if fault.delay_ms > 0 {
        tokio::time::sleep(Duration::from_millis(u64::from(fault.delay_ms))).await;
    }
    let code = fault.reason_code?;
    let message = format!(
        "sandbox fault {} (testHelpers/faults), request {nth} of {}: {} was not run",
        fault.fault_id, fault.count, operation.name
    );
    Some(Reply::error(&Refusal::new(code, message)))
}

fn render(fault: &Fault) -> FaultOut<'_> {
    FaultOut {
        fault_id: &fault.fault_id,
        reason_code: fault.reason_code.map(ReasonCode::as_str),
        count: fault.count,
        remaining_count: fault.remaining,
        operations: fault.operations.as_deref(),
        delay_ms: fault.delay_ms,
        creation_timestamp: format_timestamp(fault.created_at),
    }
}

fn faults_reply(status: u16, faults: &[Fault]) -> Reply {
    Reply::json(status, to_json(&FaultsOut { faults: faults.iter().map(render).collect() }))
}

/// Operation names are Amazon's, as `OPERATIONS` holds them; test helpers never fault.
fn check_operations(fault: NewFault) -> Result<NewFault, Refusal> {
    let faultable = || OPERATIONS.iter().filter(|o| !o.is_test_helper()).map(|o| o.name).collect::<Vec<_>>().join(", ");
    for name in fault.operations.iter().flatten() {
        match OPERATIONS.iter().find(|operation| operation.name == name) {
            None => {
                return Err(Refusal::new(
                    ReasonCode::InvalidParameterValue,
                    format!("operations: '{name}' is not an operation; use one of {}", faultable()),
                ));
            }
            Some(operation) if operation.is_test_helper() => {
                return Err(Refusal::new(
                    ReasonCode::InvalidParameterValue,
                    format!("operations: '{name}' is a test helper, and test helpers never fault"),
                ));
            }
            Some(_) => {}
        }
    }
    Ok(fault)
}

/// `GET /v2/testHelpers/faults`: this merchant's active faults, oldest first.
pub fn list(tx: &mut dyn ReadTx, context: &Context) -> ReadResult {
    if let Err(error) = sandbox_only(context, "testHelpers/faults") {
        return Ok(Reply::error(&error));
    }
    let faults = tx.faults(&context.caller.merchant_id, context.caller.environment)?;
    Ok(faults_reply(200, &faults))
}

/// `POST /v2/testHelpers/faults` (201, the new fault) and `DELETE /v2/testHelpers/faults`
/// (200, `{"faults": [...]}`: the faults it removed, as they stood).
pub async fn change(state: &Arc<AppState>, context: Context, change: FaultChange, body: Vec<u8>) -> Reply {
    let checked = sandbox_only(&context, "testHelpers/faults").and_then(|()| match change {
        FaultChange::Add => parse_body::<AddFaultBody>(&body)
            .and_then(|body| body.into_fault(LIMITS))
            .and_then(check_operations)
            .map(Some),
        FaultChange::Clear => Ok(None),
    });
    let new = match checked {
        Ok(new) => new,
        Err(error) => return Reply::error(&error),
    };
    let index = state.faults.clone();
    let merchant = context.caller.merchant_id.clone();
    let done = state
        .store
        .write(move |tx| -> Result<Reply, StoreError> {
            let (merchant_id, environment) = (&context.caller.merchant_id, context.caller.environment);
            let active = tx.faults(merchant_id, environment)?;
            let Some(new) = new else {
                tx.clear_faults(merchant_id, environment)?;
                index.forget(merchant_id);
                return Ok(faults_reply(200, &active));
            };
            if active.len() >= MAX_ACTIVE_FAULTS_PER_MERCHANT {
                return Ok(Reply::error(&Refusal::new(
                    ReasonCode::InvalidRequest,
                    format!(
                        "this merchant has {MAX_ACTIVE_FAULTS_PER_MERCHANT} active faults, the most allowed; \
                         DELETE /v2/testHelpers/faults clears them"
                    ),
                )));
            }
            let fault = Fault {
                fault_id: uuid::Uuid::new_v4().to_string(),
                merchant_id: merchant_id.clone(),
                environment,
                reason_code: new.reason_code,
                count: new.count,
                remaining: new.count,
                operations: new.operations,
                delay_ms: new.delay_ms,
                created_at: context.now(tx)?,
            };
            tx.insert_fault(&fault)?;
            index.mark(merchant_id);
            Ok(Reply::json(201, to_json(&render(&fault))))
        })
        .await;
    done.unwrap_or_else(|error| {
        state.faults.mark(&merchant);
        Reply::error(&crate::internal_error(error))
    })
}
