//! WIT values to and from Postgres types, and Postgres errors to WIT errors.

use chrono::{DateTime, NaiveDate, NaiveDateTime, SecondsFormat, Utc};
use joule_world::database::{Error, RowSet, Value};
use rust_decimal::Decimal;
use sqlx::Either;
use sqlx::postgres::{PgConnection, PgRow};
use sqlx::{Column as _, Executor as _, Row as _, Statement as _, TypeInfo as _, ValueRef as _};
use uuid::Uuid;

use super::bind::bind;
use crate::database::Output;

pub(super) async fn run_on(
    connection: &mut PgConnection,
    statement: &str,
    params: &[Value],
    query: bool,
) -> Result<Output, Error> {
    // Preparing (cached per connection) gives the parameter types to encode for, and the
    // column names even when no row comes back.
    let prepared = connection.prepare(statement).await.map_err(map_error)?;
    let types = match prepared.parameters() {
        Some(Either::Left(types)) => types,
        _ => &[],
    };
    let arguments = bind(params, types)?;
    if !query {
        let result = prepared.query_with(arguments).execute(&mut *connection).await.map_err(map_error)?;
        return Ok(Output::Affected(result.rows_affected()));
    }
    let columns = prepared.columns().iter().map(|c| c.name().to_string()).collect();
    let rows = prepared.query_with(arguments).fetch_all(&mut *connection).await.map_err(map_error)?;
    let rows = rows.iter().map(row_values).collect::<Result<_, _>>()?;
    Ok(Output::Rows(RowSet { columns, rows }))
}

fn row_values(row: &PgRow) -> Result<Vec<Value>, Error> {
    (0..row.len())
        .map(|i| {
            let raw = row.try_get_raw(i).map_err(map_error)?;
            if raw.is_null() {
                return Ok(Value::Null);
            }
            let kind = raw.type_info().name().to_string();
            let decode_error = |e: sqlx::Error| {
                Error::UnsupportedType(format!("column {:?} ({kind}): {e}", row.columns()[i].name()))
            };
            let value = match kind.as_str() {
                "INT2" => Value::Int(row.try_get_unchecked::<i16, _>(i).map_err(decode_error)?.into()),
                "INT4" => Value::Int(row.try_get_unchecked::<i32, _>(i).map_err(decode_error)?.into()),
                "INT8" => Value::Int(row.try_get_unchecked(i).map_err(decode_error)?),
                "FLOAT4" => Value::Float(row.try_get_unchecked::<f32, _>(i).map_err(decode_error)?.into()),
                "FLOAT8" => Value::Float(row.try_get_unchecked(i).map_err(decode_error)?),
                "NUMERIC" => Value::Decimal(row.try_get_unchecked::<Decimal, _>(i).map_err(decode_error)?.to_string()),
                "TEXT" | "VARCHAR" | "BPCHAR" | "NAME" | "CHAR" | "CITEXT" => {
                    Value::Text(row.try_get_unchecked(i).map_err(decode_error)?)
                }
                "BOOL" => Value::Boolean(row.try_get_unchecked(i).map_err(decode_error)?),
                "TIMESTAMPTZ" => Value::Timestamp(rfc3339(row.try_get_unchecked(i).map_err(decode_error)?)),
                // A timestamp without a time zone is read as UTC.
                "TIMESTAMP" => {
                    let naive: NaiveDateTime = row.try_get_unchecked(i).map_err(decode_error)?;
                    Value::Timestamp(rfc3339(naive.and_utc()))
                }
                "DATE" => Value::Date(row.try_get_unchecked::<NaiveDate, _>(i).map_err(decode_error)?.to_string()),
                "JSON" | "JSONB" => {
                    let json: sqlx::types::Json<serde_json::Value> = row.try_get_unchecked(i).map_err(decode_error)?;
                    Value::Json(json.0.to_string())
                }
                "UUID" => Value::Uuid(row.try_get_unchecked::<Uuid, _>(i).map_err(decode_error)?.to_string()),
                "BYTEA" => Value::Bytes(row.try_get_unchecked(i).map_err(decode_error)?),
                "VOID" => Value::Null,
                other => {
                    return Err(Error::UnsupportedType(format!(
                        "column {:?} has type {other}, which the database interface does not carry; \
                         cast it, for example to text",
                        row.columns()[i].name()
                    )));
                }
            };
            Ok(value)
        })
        .collect()
}

fn rfc3339(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

/// Maps by SQLSTATE class: what the guest did wrong, what it may retry, what is the platform's.
pub(super) fn map_error(error: sqlx::Error) -> Error {
    let sqlx::Error::Database(database) = &error else {
        return match error {
            sqlx::Error::Encode(e) | sqlx::Error::Decode(e) => Error::UnsupportedType(e.to_string()),
            sqlx::Error::ColumnDecode { source, .. } => Error::UnsupportedType(source.to_string()),
            other => Error::Unavailable(other.to_string()),
        };
    };
    let message = database.message().to_string();
    let code = database.code().unwrap_or_default();
    match (code.get(..2).unwrap_or_default(), code.as_ref()) {
        ("23", _) => Error::ConstraintViolation(message),
        // 25006: a write in a read-only transaction.
        (_, "42501" | "25006") => Error::AccessDenied(message),
        (_, "40001" | "40P01") => Error::Conflict(message),
        (_, "57014") => Error::Timeout,
        ("08" | "53" | "57" | "58", _) => Error::Unavailable(message),
        _ => Error::InvalidQuery(message),
    }
}
