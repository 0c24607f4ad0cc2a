//! Sandbox fault rows (product.md, "Fault injection"): a merchant's active faults, oldest
//! first. Which fault a request meets is the server's rule; here a fault is only stored,
//! listed, used up one request at a time, and cleared. Consuming runs in the writer's
//! transaction, so two requests never both use a fault's last unit.

use amzpay_domain::{Environment, ReasonCode};
use rusqlite::{OptionalExtension, Row, params};

use super::codec::*;
use super::tx::SqliteTx;
use crate::StoreError;
use crate::columns::*;
use crate::model::Fault;

/// Operation names are identifiers (`CreateCharge`): a space separates them.
const OPERATION_SEPARATOR: char = ' ';

fn fault_from(row: &Row<'_>) -> Result<Fault, StoreError> {
    let reason_code: Option<String> = row.get(3)?;
    let operations: Option<String> = row.get(6)?;
    Ok(Fault {
        fault_id: row.get(0)?,
        merchant_id: row.get(1)?,
        environment: environment_of(&row.get::<_, String>(2)?)?,
        reason_code: reason_code
            .map(|text| ReasonCode::parse(&text).ok_or_else(|| corrupt("fault reason code", &text)))
            .transpose()?,
        count: row.get(4)?,
        remaining: row.get(5)?,
        operations: operations.map(|text| text.split(OPERATION_SEPARATOR).map(str::to_owned).collect()),
        delay_ms: row.get(7)?,
        created_at: ts(row.get(8)?),
    })
}

impl SqliteTx<'_> {
    pub(super) fn read_faults(
        &mut self,
        merchant_id: &str,
        environment: Environment,
    ) -> Result<Vec<Fault>, StoreError> {
        let sql =
            format!("SELECT {FAULT_COLUMNS} FROM faults WHERE merchant_id = ?1 AND environment = ?2 ORDER BY seq");
        let mut statement = self.connection.prepare_cached(&sql)?;
        let mut rows = statement.query(params![merchant_id, environment.path_segment()])?;
        let mut faults = Vec::new();
        while let Some(row) = rows.next()? {
            faults.push(fault_from(row)?);
        }
        Ok(faults)
    }

    pub(super) fn read_merchants_with_faults(&mut self, environment: Environment) -> Result<Vec<String>, StoreError> {
        let mut statement =
            self.connection.prepare_cached("SELECT DISTINCT merchant_id FROM faults WHERE environment = ?1")?;
        let merchants = statement
            .query_map(params![environment.path_segment()], |row| row.get(0))?
            .collect::<Result<Vec<String>, _>>()?;
        Ok(merchants)
    }

    pub(super) fn write_fault(&mut self, f: &Fault) -> Result<(), StoreError> {
        let exists: Option<i64> = self
            .connection
            .prepare_cached("SELECT 1 FROM faults WHERE fault_id = ?1")?
            .query_row([f.fault_id.as_str()], |row| row.get(0))
            .optional()?;
        if exists.is_some() {
            return Err(StoreError::IdTaken(format!("fault {}", f.fault_id)));
        }
        let sql = format!("INSERT INTO faults ({FAULT_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)");
        self.connection.prepare_cached(&sql)?.execute(params![
            f.fault_id,
            f.merchant_id,
            f.environment.path_segment(),
            f.reason_code.map(ReasonCode::as_str),
            f.count,
            f.remaining,
            f.operations.as_ref().map(|names| names.join(&OPERATION_SEPARATOR.to_string())),
            f.delay_ms,
            f.created_at.unix_seconds(),
        ])?;
        Ok(())
    }

    pub(super) fn write_consumption(
        &mut self,
        merchant_id: &str,
        environment: Environment,
        fault_id: &str,
    ) -> Result<bool, StoreError> {
        let scope = params![fault_id, merchant_id, environment.path_segment()];
        let decremented = self
            .connection
            .prepare_cached(
                "UPDATE faults SET remaining = remaining - 1 \
                 WHERE fault_id = ?1 AND merchant_id = ?2 AND environment = ?3 AND remaining > 1",
            )?
            .execute(scope)?;
        if decremented == 1 {
            return Ok(true);
        }
        // Its last request: the fault is spent.
        let deleted = self
            .connection
            .prepare_cached("DELETE FROM faults WHERE fault_id = ?1 AND merchant_id = ?2 AND environment = ?3")?
            .execute(scope)?;
        Ok(deleted == 1)
    }

    pub(super) fn delete_faults(&mut self, merchant_id: &str, environment: Environment) -> Result<usize, StoreError> {
        Ok(self
            .connection
            .prepare_cached("DELETE FROM faults WHERE merchant_id = ?1 AND environment = ?2")?
            .execute(params![merchant_id, environment.path_segment()])?)
    }
}
