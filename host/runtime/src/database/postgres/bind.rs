//! WIT values to statement parameters, encoded as the types Postgres inferred for them.
//!
//! Parameters go in binary, so each must be encoded exactly as its parameter's type: an
//! `s64` compared with an `integer` column must travel as four bytes, not eight. The
//! statement is prepared first (cached per connection) and its parameter types decide.

use chrono::NaiveDateTime;
use joule_world::database::{Error, Value};
use rust_decimal::Decimal;
use sqlx::encode::IsNull;
use sqlx::error::BoxDynError;
use sqlx::postgres::types::Oid;
use sqlx::postgres::{PgArgumentBuffer, PgArguments, PgTypeInfo};
use sqlx::{Arguments as _, TypeInfo as _};

use crate::values;

/// A NULL of no declared type; a prepared statement's parameter already has one.
struct UntypedNull;

impl sqlx::Type<sqlx::Postgres> for UntypedNull {
    fn type_info() -> PgTypeInfo {
        PgTypeInfo::with_oid(Oid(0))
    }
}

impl sqlx::Encode<'_, sqlx::Postgres> for UntypedNull {
    fn encode_by_ref(&self, _: &mut PgArgumentBuffer) -> Result<IsNull, BoxDynError> {
        Ok(IsNull::Yes)
    }
}

/// Encodes `params` for a statement whose parameters have `types`.
pub(super) fn bind(params: &[Value], types: &[PgTypeInfo]) -> Result<PgArguments, Error> {
    if params.len() != types.len() {
        return Err(Error::InvalidQuery(format!(
            "the statement takes {} parameters but {} were given",
            types.len(),
            params.len()
        )));
    }
    let mut arguments = PgArguments::default();
    for (i, (param, kind)) in params.iter().zip(types).enumerate() {
        let invalid = |e: String| Error::UnsupportedType(format!("parameter ${} ({}): {e}", i + 1, kind.name()));
        add(&mut arguments, param, kind.name()).map_err(invalid)?;
    }
    Ok(arguments)
}

fn add(arguments: &mut PgArguments, param: &Value, kind: &str) -> Result<(), String> {
    let text_kind = matches!(kind, "TEXT" | "VARCHAR" | "BPCHAR" | "NAME" | "CITEXT");
    let added = match param {
        Value::Null => arguments.add(UntypedNull),
        Value::Int(v) => match kind {
            "INT2" => arguments.add(i16::try_from(*v).map_err(|_| format!("{v} does not fit a smallint"))?),
            "INT4" => arguments.add(i32::try_from(*v).map_err(|_| format!("{v} does not fit an integer"))?),
            "NUMERIC" => arguments.add(Decimal::from(*v)),
            "FLOAT8" => arguments.add(*v as f64),
            "FLOAT4" => arguments.add(*v as f32),
            _ if text_kind => arguments.add(v.to_string()),
            _ => arguments.add(*v),
        },
        Value::Float(v) => match kind {
            "FLOAT4" => arguments.add(*v as f32),
            "NUMERIC" => arguments.add(Decimal::try_from(*v).map_err(|e| format!("{v} is not a decimal: {e}"))?),
            _ => arguments.add(*v),
        },
        Value::Decimal(v) => match kind {
            "FLOAT8" => arguments.add(v.parse::<f64>().map_err(|e| format!("{v:?}: {e}"))?),
            _ if text_kind => arguments.add(v.clone()),
            _ => arguments.add(values::decimal(v)?),
        },
        Value::Boolean(v) if text_kind => arguments.add(v.to_string()),
        Value::Boolean(v) => arguments.add(*v),
        Value::Text(v) => match kind {
            "UUID" => arguments.add(values::uuid(v)?),
            "JSON" | "JSONB" => arguments.add(json(v)?),
            _ => arguments.add(v.clone()),
        },
        Value::Bytes(v) => arguments.add(v.clone()),
        Value::Timestamp(v) => match kind {
            "TIMESTAMP" => arguments.add(values::timestamp(v)?.naive_utc()),
            _ if text_kind => arguments.add(values::timestamp_text(v)?),
            _ => arguments.add(values::timestamp(v)?),
        },
        Value::Date(v) if text_kind => arguments.add(v.clone()),
        Value::Date(v) => match kind {
            "TIMESTAMP" => arguments.add(NaiveDateTime::from(values::date(v)?)),
            _ => arguments.add(values::date(v)?),
        },
        Value::Json(v) if text_kind => arguments.add(v.clone()),
        Value::Json(v) => arguments.add(json(v)?),
        Value::Uuid(v) if text_kind => arguments.add(v.clone()),
        Value::Uuid(v) => arguments.add(values::uuid(v)?),
    };
    added.map_err(|e| e.to_string())
}

fn json(text: &str) -> Result<sqlx::types::Json<serde_json::Value>, String> {
    serde_json::from_str(text).map(sqlx::types::Json).map_err(|e| format!("not valid JSON: {e}"))
}
