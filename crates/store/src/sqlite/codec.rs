//! SQLite's side of the row codecs: the shared decoders (`crate::codec`) and running a
//! query for at most one row.

use rusqlite::{Connection, Row};

use crate::StoreError;
pub(super) use crate::codec::*;

pub(super) fn query_one<T>(
    connection: &Connection,
    sql: &str,
    params: &[&dyn rusqlite::ToSql],
    map: impl FnOnce(&Row<'_>) -> Result<T, StoreError>,
) -> Result<Option<T>, StoreError> {
    let mut statement = connection.prepare_cached(sql)?;
    let mut rows = statement.query(params)?;
    match rows.next()? {
        Some(row) => Ok(Some(map(row)?)),
        None => Ok(None),
    }
}
