//! SQL in the Postgres dialect with numbered parameters (`$1`, `$2`, ...).
//!
//! Every statement joins the invocation's unit of work: it commits when the handler
//! succeeds and vanishes when it fails. Reading a row is lenient about representation,
//! because the embedded SQLite backend returns timestamps, uuids, json and decimals as
//! text and booleans as integers, where Postgres returns them typed.

use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use rust_decimal::Decimal;
use uuid::Uuid;

pub use crate::bindings::joule::platform::database::{Error, Value};
use crate::bindings::joule::platform::database as wit;

/// Runs a statement that returns rows.
pub fn query(statement: &str, params: &[&dyn ToSql]) -> Result<Rows, Error> {
    let params: Vec<Value> = params.iter().map(|p| p.to_sql()).collect();
    let set = wit::query(statement, &params)?;
    Ok(Rows { columns: set.columns, rows: set.rows })
}

/// Runs a statement and returns how many rows it changed.
pub fn execute(statement: &str, params: &[&dyn ToSql]) -> Result<u64, Error> {
    let params: Vec<Value> = params.iter().map(|p| p.to_sql()).collect();
    wit::execute(statement, &params)
}

/// The rows of a query.
pub struct Rows {
    columns: Vec<String>,
    rows: Vec<Vec<Value>>,
}

impl Rows {
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = Row<'_>> {
        self.rows.iter().map(|values| Row { columns: &self.columns, values })
    }

    pub fn first(&self) -> Option<Row<'_>> {
        self.iter().next()
    }
}

/// One row, read by column name.
#[derive(Clone, Copy)]
pub struct Row<'a> {
    columns: &'a [String],
    values: &'a [Value],
}

impl Row<'_> {
    pub fn get<T: FromSql>(&self, column: &str) -> Result<T, Error> {
        let index = self
            .columns
            .iter()
            .position(|c| c == column)
            .ok_or_else(|| Error::InvalidQuery(format!("the result has no column {column:?}")))?;
        T::from_sql(&self.values[index]).map_err(|e| Error::UnsupportedType(format!("column {column:?}: {e}")))
    }
}

/// A Rust value that can be a statement parameter.
pub trait ToSql {
    fn to_sql(&self) -> Value;
}

/// A Rust value that can be read from a column.
pub trait FromSql: Sized {
    fn from_sql(value: &Value) -> Result<Self, String>;
}

macro_rules! to_sql {
    ($($ty:ty => |$v:ident| $body:expr;)*) => {
        $(impl ToSql for $ty {
            fn to_sql(&self) -> Value {
                let $v = self;
                $body
            }
        })*
    };
}

to_sql! {
    i64 => |v| Value::Int(*v);
    i32 => |v| Value::Int((*v).into());
    u32 => |v| Value::Int((*v).into());
    f64 => |v| Value::Float(*v);
    bool => |v| Value::Boolean(*v);
    str => |v| Value::Text(v.to_string());
    String => |v| Value::Text(v.clone());
    Decimal => |v| Value::Decimal(v.to_string());
    Uuid => |v| Value::Uuid(v.to_string());
    DateTime<Utc> => |v| Value::Timestamp(v.to_rfc3339_opts(SecondsFormat::Micros, true));
    NaiveDate => |v| Value::Date(v.format("%Y-%m-%d").to_string());
    serde_json::Value => |v| Value::Json(v.to_string());
    Vec<u8> => |v| Value::Bytes(v.clone());
}

impl<T: ToSql + ?Sized> ToSql for &T {
    fn to_sql(&self) -> Value {
        (**self).to_sql()
    }
}

impl<T: ToSql> ToSql for Option<T> {
    fn to_sql(&self) -> Value {
        self.as_ref().map_or(Value::Null, ToSql::to_sql)
    }
}

fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Int(_) => "an integer",
        Value::Float(_) => "a float",
        Value::Decimal(_) => "a decimal",
        Value::Text(_) => "text",
        Value::Boolean(_) => "a boolean",
        Value::Timestamp(_) => "a timestamp",
        Value::Date(_) => "a date",
        Value::Json(_) => "json",
        Value::Uuid(_) => "a uuid",
        Value::Bytes(_) => "bytes",
    }
}

fn unexpected<T>(value: &Value, wanted: &str) -> Result<T, String> {
    Err(format!("expected {wanted}, found {}", type_name(value)))
}

/// The text of any value that has a text form.
fn text(value: &Value) -> Option<&str> {
    match value {
        Value::Text(s) | Value::Decimal(s) | Value::Timestamp(s) | Value::Date(s) | Value::Json(s) | Value::Uuid(s) => {
            Some(s)
        }
        _ => None,
    }
}

impl FromSql for i64 {
    fn from_sql(value: &Value) -> Result<Self, String> {
        match value {
            Value::Int(v) => Ok(*v),
            _ => unexpected(value, "an integer"),
        }
    }
}

impl FromSql for i32 {
    fn from_sql(value: &Value) -> Result<Self, String> {
        i64::from_sql(value)?.try_into().map_err(|_| "the integer does not fit in 32 bits".to_string())
    }
}

impl FromSql for f64 {
    fn from_sql(value: &Value) -> Result<Self, String> {
        match value {
            Value::Float(v) => Ok(*v),
            Value::Int(v) => Ok(*v as f64),
            Value::Decimal(s) | Value::Text(s) => s.parse().map_err(|_| format!("{s:?} is not a number")),
            _ => unexpected(value, "a number"),
        }
    }
}

impl FromSql for bool {
    fn from_sql(value: &Value) -> Result<Self, String> {
        match value {
            Value::Boolean(v) => Ok(*v),
            Value::Int(0) => Ok(false),
            Value::Int(1) => Ok(true),
            _ => unexpected(value, "a boolean"),
        }
    }
}

impl FromSql for String {
    fn from_sql(value: &Value) -> Result<Self, String> {
        text(value).map(str::to_string).map_or_else(|| unexpected(value, "text"), Ok)
    }
}

impl FromSql for Decimal {
    fn from_sql(value: &Value) -> Result<Self, String> {
        match value {
            Value::Int(v) => Ok(Decimal::from(*v)),
            // SQLite may store a NUMERIC column as REAL; its shortest form is the decimal written.
            Value::Float(v) => v.to_string().parse().map_err(|_| format!("{v} is not a decimal")),
            _ => {
                let s = text(value).map_or_else(|| unexpected(value, "a decimal"), Ok)?;
                s.parse().map_err(|_| format!("{s:?} is not a decimal"))
            }
        }
    }
}

impl FromSql for Uuid {
    fn from_sql(value: &Value) -> Result<Self, String> {
        let s = text(value).map_or_else(|| unexpected(value, "a uuid"), Ok)?;
        Uuid::parse_str(s).map_err(|_| format!("{s:?} is not a uuid"))
    }
}

impl FromSql for DateTime<Utc> {
    fn from_sql(value: &Value) -> Result<Self, String> {
        let s = text(value).map_or_else(|| unexpected(value, "a timestamp"), Ok)?;
        DateTime::parse_from_rfc3339(s).map(|t| t.with_timezone(&Utc)).map_err(|_| format!("{s:?} is not a timestamp"))
    }
}

impl FromSql for NaiveDate {
    fn from_sql(value: &Value) -> Result<Self, String> {
        let s = text(value).map_or_else(|| unexpected(value, "a date"), Ok)?;
        NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|_| format!("{s:?} is not a date"))
    }
}

impl FromSql for serde_json::Value {
    fn from_sql(value: &Value) -> Result<Self, String> {
        match value {
            Value::Int(v) => Ok((*v).into()),
            Value::Float(v) => Ok((*v).into()),
            Value::Boolean(v) => Ok((*v).into()),
            _ => {
                let s = text(value).map_or_else(|| unexpected(value, "json"), Ok)?;
                serde_json::from_str(s).map_err(|e| format!("not valid JSON: {e}"))
            }
        }
    }
}

impl FromSql for Vec<u8> {
    fn from_sql(value: &Value) -> Result<Self, String> {
        match value {
            Value::Bytes(v) => Ok(v.clone()),
            _ => unexpected(value, "bytes"),
        }
    }
}

impl<T: FromSql> FromSql for Option<T> {
    fn from_sql(value: &Value) -> Result<Self, String> {
        match value {
            Value::Null => Ok(None),
            other => T::from_sql(other).map(Some),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row<'a>(columns: &'a [String], values: &'a [Value]) -> Row<'a> {
        Row { columns, values }
    }

    #[test]
    fn reads_sqlite_and_postgres_forms_alike() {
        let columns: Vec<String> = ["at", "flag", "amount", "id"].map(String::from).to_vec();
        let sqlite = [
            Value::Text("2026-11-23T16:40:00.000000Z".into()),
            Value::Int(1),
            Value::Float(6.565),
            Value::Text("6f9619ff-8b86-d011-b42d-00c04fc964ff".into()),
        ];
        let postgres = [
            Value::Timestamp("2026-11-23T16:40:00Z".into()),
            Value::Boolean(true),
            Value::Decimal("6.5650".into()),
            Value::Uuid("6f9619ff-8b86-d011-b42d-00c04fc964ff".into()),
        ];
        for values in [&sqlite, &postgres] {
            let row = row(&columns, values);
            assert_eq!(row.get::<DateTime<Utc>>("at").unwrap().to_rfc3339(), "2026-11-23T16:40:00+00:00");
            assert!(row.get::<bool>("flag").unwrap());
            assert_eq!(row.get::<Decimal>("amount").unwrap(), "6.565".parse::<Decimal>().unwrap());
            assert_eq!(row.get::<Uuid>("id").unwrap().to_string(), "6f9619ff-8b86-d011-b42d-00c04fc964ff");
        }
    }

    #[test]
    fn reports_missing_columns_and_wrong_types() {
        let columns = vec!["n".to_string()];
        let values = [Value::Text("x".into())];
        let row = row(&columns, &values);
        assert!(matches!(row.get::<i64>("n"), Err(Error::UnsupportedType(m)) if m.contains("\"n\"")));
        assert!(matches!(row.get::<i64>("missing"), Err(Error::InvalidQuery(_))));
        assert_eq!(row.get::<Option<String>>("n").unwrap().as_deref(), Some("x"));
    }

    #[test]
    fn parameters_carry_their_types() {
        assert_eq!(Some(5i64).to_sql(), Value::Int(5));
        assert_eq!(None::<i64>.to_sql(), Value::Null);
        assert_eq!("a".to_sql(), Value::Text("a".into()));
        let at = DateTime::parse_from_rfc3339("2026-11-23T17:40:00+01:00").unwrap().with_timezone(&Utc);
        assert_eq!(at.to_sql(), Value::Timestamp("2026-11-23T16:40:00.000000Z".into()));
    }
}
