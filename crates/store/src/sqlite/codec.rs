//! SQLite's side of the row codecs: the shared decoders (`crate::codec`) and running a
//! query for at most one row.

use rusqlite::{Connection, Row};

use crate::StoreError;
pub(super) use crate::codec::*;

/// A row read by column name, the names read once. rusqlite finds a named column by
/// comparing the name with every column's, case-insensitively, measuring each C string
/// again, on every get: with thirty-odd columns a row that was a tenth of a Get Charge's
/// CPU time (docs/performance.md). The names here are ours, exact, in the schema's case.
pub(super) struct Named<'r, 's> {
    row: &'r Row<'s>,
    names: Vec<&'r str>,
}

impl<'r, 's> Named<'r, 's> {
    pub(super) fn new(row: &'r Row<'s>) -> rusqlite::Result<Named<'r, 's>> {
        let statement: &'r rusqlite::Statement<'s> = row.as_ref();
        let names = (0..statement.column_count()).map(|i| statement.column_name(i)).collect::<Result<_, _>>()?;
        Ok(Named { row, names })
    }
}

impl Columns for Named<'_, '_> {
    fn column<T: Column>(&self, name: &str) -> Result<T, StoreError> {
        match self.names.iter().position(|column| *column == name) {
            Some(index) => T::from_sqlite(self.row, index),
            None => Err(rusqlite::Error::InvalidColumnName(name.to_owned()).into()),
        }
    }
}

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn named_reads_each_column_by_its_exact_name_and_refuses_others() {
        let connection = rusqlite::Connection::open_in_memory().unwrap();
        let read = |sql: &str, name: &str| -> Result<i64, StoreError> {
            let mut statement = connection.prepare(sql).unwrap();
            let mut rows = statement.query([]).unwrap();
            let row = rows.next().unwrap().unwrap();
            Named::new(row)?.column(name)
        };
        let sql = "SELECT 1 AS first, 2 AS second, 3 AS third";
        assert_eq!([read(sql, "first"), read(sql, "second"), read(sql, "third")].map(Result::unwrap), [1, 2, 3]);
        let missing = read(sql, "fourth");
        assert!(
            matches!(&missing, Err(StoreError::Sqlite(rusqlite::Error::InvalidColumnName(name))) if name == "fourth"),
            "{missing:?}"
        );
        assert!(read(sql, "FIRST").is_err(), "names are the schema's, exactly");
    }
}
