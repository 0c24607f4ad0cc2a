//! Sandbox fault rows (product.md, "Fault injection"), as SQLite's `faults`: a merchant's
//! active faults, oldest first, used up one request at a time, cleared. Consuming runs in a
//! write transaction, and writes are serialized across nodes (`writer`), so two requests
//! never both use a fault's last unit, whichever nodes they reach.

use amzpay_domain::{Environment, ReasonCode};
use postgres::Row;

use super::tx::PgTx;
use crate::StoreError;
use crate::codec::*;
use crate::columns::*;
use crate::model::Fault;

/// Operation names are identifiers (`CreateCharge`): a space separates them.
const OPERATION_SEPARATOR: char = ' ';

fn fault_from(row: &Row) -> Result<Fault, StoreError> {
    let reason_code: Option<String> = row.column("reason_code")?;
    let operations: Option<String> = row.column("operations")?;
    Ok(Fault {
        fault_id: row.column("fault_id")?,
        merchant_id: row.column("merchant_id")?,
        environment: environment_of(&row.column::<String>("environment")?)?,
        reason_code: reason_code
            .map(|text| ReasonCode::parse(&text).ok_or_else(|| corrupt("fault reason code", &text)))
            .transpose()?,
        count: row.column("count")?,
        remaining: row.column("remaining")?,
        operations: operations.map(|text| text.split(OPERATION_SEPARATOR).map(str::to_owned).collect()),
        delay_ms: row.column("delay_ms")?,
        created_at: ts(row.column("created_at")?),
    })
}

impl PgTx<'_> {
    pub(super) fn read_faults(
        &mut self,
        merchant_id: &str,
        environment: Environment,
    ) -> Result<Vec<Fault>, StoreError> {
        let sql =
            format!("SELECT {FAULT_COLUMNS} FROM faults WHERE merchant_id = $1 AND environment = $2 ORDER BY seq");
        self.conn.query(&sql, &[&merchant_id, &environment.path_segment()])?.iter().map(fault_from).collect()
    }

    pub(super) fn read_merchants_with_faults(&mut self, environment: Environment) -> Result<Vec<String>, StoreError> {
        let rows = self
            .conn
            .query("SELECT DISTINCT merchant_id FROM faults WHERE environment = $1", &[&environment.path_segment()])?;
        rows.iter().map(|row| row.column::<String>("merchant_id")).collect()
    }

    pub(super) fn write_fault(&mut self, f: &Fault) -> Result<(), StoreError> {
        if self.conn.query_opt("SELECT 1 FROM faults WHERE fault_id = $1", &[&f.fault_id])?.is_some() {
            return Err(StoreError::IdTaken(format!("fault {}", f.fault_id)));
        }
        let sql = format!("INSERT INTO faults ({FAULT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)");
        self.conn.execute(
            &sql,
            &[
                &f.fault_id,
                &f.merchant_id,
                &f.environment.path_segment(),
                &f.reason_code.map(ReasonCode::as_str),
                &i64::from(f.count),
                &i64::from(f.remaining),
                &f.operations.as_ref().map(|names| names.join(&OPERATION_SEPARATOR.to_string())),
                &i64::from(f.delay_ms),
                &f.created_at.unix_seconds(),
            ],
        )?;
        Ok(())
    }

    pub(super) fn write_consumption(
        &mut self,
        merchant_id: &str,
        environment: Environment,
        fault_id: &str,
    ) -> Result<bool, StoreError> {
        let environment = environment.path_segment();
        let decremented = self.conn.execute(
            "UPDATE faults SET remaining = remaining - 1 \
             WHERE fault_id = $1 AND merchant_id = $2 AND environment = $3 AND remaining > 1",
            &[&fault_id, &merchant_id, &environment],
        )?;
        if decremented == 1 {
            return Ok(true);
        }
        // Its last request: the fault is spent.
        let deleted = self.conn.execute(
            "DELETE FROM faults WHERE fault_id = $1 AND merchant_id = $2 AND environment = $3",
            &[&fault_id, &merchant_id, &environment],
        )?;
        Ok(deleted == 1)
    }

    pub(super) fn delete_faults(&mut self, merchant_id: &str, environment: Environment) -> Result<usize, StoreError> {
        let deleted = self.conn.execute(
            "DELETE FROM faults WHERE merchant_id = $1 AND environment = $2",
            &[&merchant_id, &environment.path_segment()],
        )?;
        Ok(deleted as usize)
    }
}
