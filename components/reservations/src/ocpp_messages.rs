//! What charge points say of transactions, read from either OCPP version into one shape:
//! 1.6's StartTransaction, MeterValues and StopTransaction, and 2.0.1's TransactionEvent.
//!
//! Energy comes as the `Energy.Active.Import.Register` (the measurand a sample without one
//! means) of the whole outlet, in Wh or kWh (2.0.1 also with a power-of-ten multiplier),
//! and becomes whole Wh; `Power.Active.Import` becomes W. Other measurands, single phases
//! and other locations are not what a session is priced by, and are passed over.

use std::str::FromStr as _;

use chrono::{DateTime, Utc};
use joule_sdk::api::timestamp;
use joule_sdk::ocpp::{CallError, Request, Target, connector_v16, connector_v201};
use rust_decimal::prelude::ToPrimitive as _;
use rust_decimal::Decimal;
use serde::Deserialize;
use serde_json::Value;

const ENERGY: &str = "Energy.Active.Import.Register";
const POWER: &str = "Power.Active.Import";

/// One sampled moment: the register and the power, where the charge point sent them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reading {
    pub at: DateTime<Utc>,
    pub energy_wh: Option<i64>,
    pub power_w: Option<i64>,
}

/// A 1.6 StartTransaction.
#[derive(Debug, Clone, PartialEq)]
pub struct StartTransaction {
    pub target: Target,
    pub id_tag: String,
    pub meter_start_wh: i64,
    pub at: DateTime<Utc>,
    /// The reservation (by the number its ReserveNow gave) the charge point started for.
    pub reservation_id: Option<i64>,
}

/// A 1.6 StopTransaction.
#[derive(Debug, Clone, PartialEq)]
pub struct StopTransaction {
    pub transaction_id: String,
    pub id_tag: Option<String>,
    pub meter_stop_wh: i64,
    pub at: DateTime<Utc>,
    pub readings: Vec<Reading>,
}

/// A 1.6 MeterValues.
#[derive(Debug, Clone, PartialEq)]
pub struct MeterValues {
    pub target: Target,
    pub transaction_id: Option<String>,
    pub readings: Vec<Reading>,
}

/// A 2.0.1 TransactionEvent.
#[derive(Debug, Clone, PartialEq)]
pub struct TransactionEvent {
    /// Started, Updated or Ended.
    pub event_type: String,
    pub at: DateTime<Utc>,
    pub transaction_id: String,
    /// Charging, EVConnected, SuspendedEV, SuspendedEVSE or Idle, when it says.
    pub charging_state: Option<String>,
    pub id_token: Option<String>,
    pub target: Option<Target>,
    pub readings: Vec<Reading>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Start16 {
    connector_id: i64,
    id_tag: String,
    meter_start: i64,
    timestamp: String,
    reservation_id: Option<i64>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Stop16 {
    id_tag: Option<String>,
    meter_stop: i64,
    timestamp: String,
    transaction_id: i64,
    #[serde(default)]
    transaction_data: Vec<Value>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct MeterValues16 {
    connector_id: i64,
    transaction_id: Option<i64>,
    meter_value: Vec<Value>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Event201 {
    event_type: String,
    timestamp: String,
    transaction_info: TransactionInfo,
    id_token: Option<IdToken>,
    evse: Option<Evse>,
    #[serde(default)]
    meter_value: Vec<Value>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct TransactionInfo {
    transaction_id: String,
    charging_state: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct IdToken {
    id_token: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Evse {
    id: i64,
    connector_id: Option<i64>,
}

/// A time as the charge point wrote it; one that does not read (the schema checked its
/// form, not its range) is the time received.
fn time(text: &str) -> DateTime<Utc> {
    timestamp::parse(text).unwrap_or_else(|_| Utc::now())
}

pub fn start_transaction(request: &Request) -> Result<StartTransaction, CallError> {
    let start: Start16 = request.payload_as()?;
    Ok(StartTransaction {
        target: connector_v16(start.connector_id),
        id_tag: start.id_tag,
        meter_start_wh: start.meter_start,
        at: time(&start.timestamp),
        reservation_id: start.reservation_id,
    })
}

pub fn stop_transaction(request: &Request) -> Result<StopTransaction, CallError> {
    let stop: Stop16 = request.payload_as()?;
    Ok(StopTransaction {
        transaction_id: stop.transaction_id.to_string(),
        id_tag: stop.id_tag,
        meter_stop_wh: stop.meter_stop,
        at: time(&stop.timestamp),
        readings: readings(&stop.transaction_data, true),
    })
}

pub fn meter_values(request: &Request) -> Result<MeterValues, CallError> {
    let values: MeterValues16 = request.payload_as()?;
    Ok(MeterValues {
        target: connector_v16(values.connector_id),
        transaction_id: values.transaction_id.map(|id| id.to_string()),
        readings: readings(&values.meter_value, true),
    })
}

pub fn transaction_event(request: &Request) -> Result<TransactionEvent, CallError> {
    let event: Event201 = request.payload_as()?;
    Ok(TransactionEvent {
        event_type: event.event_type,
        at: time(&event.timestamp),
        transaction_id: event.transaction_info.transaction_id,
        charging_state: event.transaction_info.charging_state,
        id_token: event.id_token.map(|t| t.id_token),
        target: event.evse.map(|evse| connector_v201(evse.id, evse.connector_id.unwrap_or(1))),
        readings: readings(&event.meter_value, false),
    })
}

/// The readings of `meterValue` (or `transactionData`) entries, oldest first.
pub fn readings(meter_values: &[Value], v16: bool) -> Vec<Reading> {
    let mut readings: Vec<Reading> = meter_values
        .iter()
        .filter_map(|value| {
            let at = time(value["timestamp"].as_str()?);
            let samples = value["sampledValue"].as_array()?;
            let pick = |measurand: &str, units: &[(&str, u32)]| {
                samples.iter().filter(|s| is_total(s, measurand)).find_map(|s| amount(s, v16, units))
            };
            Some(Reading {
                at,
                energy_wh: pick(ENERGY, &[("Wh", 0), ("kWh", 3)]),
                power_w: pick(POWER, &[("W", 0), ("kW", 3)]),
            })
        })
        .filter(|r| r.energy_wh.is_some() || r.power_w.is_some())
        .collect();
    readings.sort_by_key(|r| r.at);
    readings
}

/// A sample of `measurand` for the whole outlet: no phase, located at the outlet.
fn is_total(sample: &Value, measurand: &str) -> bool {
    sample["measurand"].as_str().unwrap_or(ENERGY) == measurand
        && sample["phase"].is_null()
        && sample["location"].as_str().is_none_or(|l| l == "Outlet")
}

/// The sample's value in the base unit (Wh, W), rounded to a whole number; `units` are
/// the units it may come in, each with its power of ten to the base.
fn amount(sample: &Value, v16: bool, units: &[(&str, u32)]) -> Option<i64> {
    let (value, unit, multiplier) = if v16 {
        // 1.6 writes the value as text; signed data is not a number.
        if sample["format"].as_str() == Some("SignedData") {
            return None;
        }
        (sample["value"].as_str()?.to_string(), sample["unit"].as_str().unwrap_or(units[0].0), 0)
    } else {
        let unit = &sample["unitOfMeasure"];
        let multiplier = unit["multiplier"].as_i64().unwrap_or(0);
        (sample["value"].as_f64().map(|_| sample["value"].to_string())?, unit["unit"].as_str().unwrap_or(units[0].0), multiplier)
    };
    let exponent = i64::from(units.iter().find(|(name, _)| *name == unit)?.1) + multiplier;
    let value = Decimal::from_str(&value).or_else(|_| Decimal::from_scientific(&value)).ok()?;
    let scale = power_of_ten(exponent)?;
    let base = value.checked_mul(scale)?.round();
    base.to_i64().filter(|v| *v >= 0)
}

/// 10^exponent, for the exponents a unit and a multiplier make (|exponent| at most 18).
fn power_of_ten(exponent: i64) -> Option<Decimal> {
    let magnitude = u32::try_from(exponent.unsigned_abs()).ok().filter(|e| *e <= 18)?;
    Some(if exponent >= 0 { Decimal::from(10_i64.pow(magnitude)) } else { Decimal::new(1, magnitude) })
}

#[cfg(test)]
mod tests {
    use joule_sdk::ocpp::{OCPP16, OCPP201};
    use serde_json::json;

    use super::*;

    fn request(protocol: &str, action: &str, payload: Value) -> Request {
        Request::example(protocol, action, payload)
    }

    fn at(text: &str) -> DateTime<Utc> {
        text.parse().unwrap()
    }

    #[test]
    fn energy_and_power_come_in_whole_wh_and_w_whatever_the_unit() {
        let v16 = [json!({ "timestamp": "2026-03-02T08:00:00Z", "sampledValue": [
            { "value": "6.5", "unit": "kWh", "measurand": "Energy.Active.Import.Register" },
            { "value": "230", "measurand": "Voltage", "unit": "V" },
            { "value": "3.7", "unit": "kW", "measurand": "Power.Active.Import", "phase": "L1" },
            { "value": "11000", "unit": "W", "measurand": "Power.Active.Import" }
        ]})];
        assert_eq!(readings(&v16, true), [Reading { at: at("2026-03-02T08:00:00Z"), energy_wh: Some(6500), power_w: Some(11000) }]);
        let bare = [json!({ "timestamp": "2026-03-02T08:00:00Z", "sampledValue": [{ "value": "1234" }] })];
        assert_eq!(readings(&bare, true)[0].energy_wh, Some(1234), "no measurand is the energy register, in Wh");
        let v201 = [
            json!({ "timestamp": "2026-03-02T08:40:00Z", "sampledValue": [
                { "value": 13.8, "measurand": "Energy.Active.Import.Register", "unitOfMeasure": { "unit": "kWh" } },
                { "value": 11, "measurand": "Power.Active.Import", "unitOfMeasure": { "unit": "W", "multiplier": 3 } }
            ]}),
            json!({ "timestamp": "2026-03-02T08:00:00Z", "sampledValue": [{ "value": 6500 }] }),
        ];
        let read = readings(&v201, false);
        assert_eq!(read.iter().map(|r| (r.energy_wh, r.power_w)).collect::<Vec<_>>(), [(Some(6500), None), (Some(13800), Some(11000))]);
        let odd = [json!({ "timestamp": "2026-03-02T08:00:00Z", "sampledValue": [
            { "value": "12", "unit": "Celsius", "measurand": "Energy.Active.Import.Register" },
            { "value": "-5", "measurand": "Energy.Active.Import.Register" },
            { "value": "AB12", "format": "SignedData" },
            { "value": "7", "location": "EV" }
        ]})];
        assert!(readings(&odd, true).is_empty(), "{:?}", readings(&odd, true));
    }

    #[test]
    fn reads_1_6_transactions() {
        let start = request(OCPP16, "StartTransaction", json!({ "connectorId": 1, "idTag": "04A2B3C4", "meterStart": 1000, "timestamp": "2026-03-02T07:30:00Z" }));
        let start = start_transaction(&start).unwrap();
        assert_eq!((start.target, start.id_tag.as_str(), start.meter_start_wh), (Target::Connector("1".into()), "04A2B3C4", 1000));
        let stop = request(OCPP16, "StopTransaction", json!({
            "meterStop": 13800, "timestamp": "2026-03-02T09:02:00Z", "transactionId": 7, "reason": "EVDisconnected",
            "transactionData": [{ "timestamp": "2026-03-02T08:40:00Z", "sampledValue": [{ "value": "13800" }] }]
        }));
        let stop = stop_transaction(&stop).unwrap();
        assert_eq!((stop.transaction_id.as_str(), stop.id_tag, stop.meter_stop_wh), ("7", None, 13800));
        assert_eq!(stop.readings.len(), 1);
        let values = request(OCPP16, "MeterValues", json!({ "connectorId": 2, "meterValue": [] }));
        let values = meter_values(&values).unwrap();
        assert_eq!((values.target, values.transaction_id), (Target::Connector("2".into()), None));
    }

    #[test]
    fn reads_2_0_1_transaction_events() {
        let event = request(OCPP201, "TransactionEvent", json!({
            "eventType": "Updated", "timestamp": "2026-03-02T08:40:00Z", "triggerReason": "ChargingStateChanged", "seqNo": 3,
            "transactionInfo": { "transactionId": "tx-1", "chargingState": "EVConnected" },
            "evse": { "id": 2, "connectorId": 2 },
            "idToken": { "idToken": "04A2B3C4", "type": "ISO14443" }
        }));
        let event = transaction_event(&event).unwrap();
        assert_eq!((event.event_type.as_str(), event.transaction_id.as_str()), ("Updated", "tx-1"));
        assert_eq!((event.charging_state.as_deref(), event.id_token.as_deref()), (Some("EVConnected"), Some("04A2B3C4")));
        assert_eq!(event.target, Some(Target::Connector("2-2".into())));
        assert_eq!(event.at, at("2026-03-02T08:40:00Z"));
    }
}
