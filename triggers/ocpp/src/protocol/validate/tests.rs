use ocpp_kit::message::{ActionName, Origin};
use serde_json::value::RawValue;

use super::*;
use Initiator::{ChargePoint as Cp, Csms};
use Protocol::{V16, V201};

fn raw(text: &str) -> Box<RawValue> {
    RawValue::from_string(text.to_owned()).expect(text)
}

/// Real exchanges for every action the platform uses: (version, who sends the CALL, action,
/// request payload, response payload). Each must pass in its own direction.
const EXCHANGES: &[(Protocol, Initiator, &str, &str, &str)] = &[
    (
        V16,
        Cp,
        "BootNotification",
        r#"{"chargePointVendor":"Acme","chargePointModel":"X1"}"#,
        r#"{"status":"Accepted","currentTime":"2024-05-01T10:00:00Z","interval":300}"#,
    ),
    (
        V16,
        Cp,
        "Heartbeat",
        "{}",
        r#"{"currentTime":"2024-05-01T10:00:00.000Z"}"#,
    ),
    (
        V16,
        Cp,
        "StatusNotification",
        r#"{"connectorId":1,"errorCode":"NoError","status":"Preparing","timestamp":"2024-05-01T10:00:00Z"}"#,
        "{}",
    ),
    (
        V16,
        Cp,
        "Authorize",
        r#"{"idTag":"RFID-0001"}"#,
        r#"{"idTagInfo":{"status":"Accepted","expiryDate":"2025-01-01T00:00:00Z"}}"#,
    ),
    (
        V16,
        Cp,
        "StartTransaction",
        r#"{"connectorId":1,"idTag":"RFID-0001","meterStart":1200,"timestamp":"2024-05-01T10:00:00Z","reservationId":7}"#,
        r#"{"transactionId":42,"idTagInfo":{"status":"Accepted"}}"#,
    ),
    (
        V16,
        Cp,
        "MeterValues",
        r#"{"connectorId":1,"transactionId":42,"meterValue":[{"timestamp":"2024-05-01T10:30:00Z","sampledValue":[
            {"value":"2935.600","context":"Sample.Periodic","measurand":"Energy.Active.Import.Register","unit":"kWh"},
            {"value":"11000","measurand":"Power.Active.Import","unit":"W"}]}]}"#,
        "{}",
    ),
    (
        V16,
        Cp,
        "StopTransaction",
        r#"{"transactionId":42,"idTag":"RFID-0001","meterStop":8450,"timestamp":"2024-05-01T11:00:00Z","reason":"EVDisconnected"}"#,
        r#"{"idTagInfo":{"status":"Accepted"}}"#,
    ),
    (
        V16,
        Cp,
        "DataTransfer",
        r#"{"vendorId":"com.acme","messageId":"ping","data":"x"}"#,
        r#"{"status":"Accepted","data":"pong"}"#,
    ),
    (
        V16,
        Csms,
        "DataTransfer",
        r#"{"vendorId":"com.acme"}"#,
        r#"{"status":"UnknownVendorId"}"#,
    ),
    (
        V16,
        Csms,
        "RemoteStartTransaction",
        r#"{"idTag":"RFID-0001","connectorId":1}"#,
        r#"{"status":"Accepted"}"#,
    ),
    (
        V16,
        Csms,
        "RemoteStopTransaction",
        r#"{"transactionId":42}"#,
        r#"{"status":"Rejected"}"#,
    ),
    (
        V16,
        Csms,
        "ReserveNow",
        r#"{"connectorId":1,"expiryDate":"2024-05-01T12:00:00Z","idTag":"RFID-0001","reservationId":7}"#,
        r#"{"status":"Occupied"}"#,
    ),
    (
        V16,
        Csms,
        "CancelReservation",
        r#"{"reservationId":7}"#,
        r#"{"status":"Accepted"}"#,
    ),
    (
        V16,
        Csms,
        "ChangeAvailability",
        r#"{"connectorId":1,"type":"Inoperative"}"#,
        r#"{"status":"Scheduled"}"#,
    ),
    (
        V16,
        Csms,
        "TriggerMessage",
        r#"{"requestedMessage":"StatusNotification","connectorId":1}"#,
        r#"{"status":"Accepted"}"#,
    ),
    (
        V201,
        Cp,
        "BootNotification",
        r#"{"chargingStation":{"model":"X1","vendorName":"Acme"},"reason":"PowerUp"}"#,
        r#"{"currentTime":"2024-05-01T10:00:00Z","interval":300,"status":"Accepted"}"#,
    ),
    (
        V201,
        Cp,
        "Heartbeat",
        "{}",
        r#"{"currentTime":"2024-05-01T10:00:00Z"}"#,
    ),
    (
        V201,
        Cp,
        "StatusNotification",
        r#"{"timestamp":"2024-05-01T10:00:00Z","connectorStatus":"Occupied","evseId":1,"connectorId":1}"#,
        "{}",
    ),
    (
        V201,
        Cp,
        "Authorize",
        r#"{"idToken":{"idToken":"RFID-0001","type":"ISO14443"}}"#,
        r#"{"idTokenInfo":{"status":"Accepted"}}"#,
    ),
    (
        V201,
        Cp,
        "TransactionEvent",
        r#"{"eventType":"Started","timestamp":"2024-05-01T10:00:00Z","triggerReason":"Authorized","seqNo":0,
            "transactionInfo":{"transactionId":"tx-42","chargingState":"EVConnected"},
            "idToken":{"idToken":"RFID-0001","type":"ISO14443"},"evse":{"id":1,"connectorId":1},
            "meterValue":[{"timestamp":"2024-05-01T10:00:00Z","sampledValue":[
                {"value":1200,"context":"Transaction.Begin","measurand":"Energy.Active.Import.Register",
                 "unitOfMeasure":{"unit":"Wh"}}]}]}"#,
        r#"{"idTokenInfo":{"status":"Accepted"}}"#,
    ),
    (
        V201,
        Cp,
        "TransactionEvent",
        r#"{"eventType":"Updated","timestamp":"2024-05-01T10:30:00Z","triggerReason":"MeterValuePeriodic","seqNo":3,
            "transactionInfo":{"transactionId":"tx-42","chargingState":"Charging"},
            "meterValue":[{"timestamp":"2024-05-01T10:30:00Z","sampledValue":[
                {"value":2935.600,"measurand":"Energy.Active.Import.Register","unitOfMeasure":{"unit":"kWh","multiplier":0}},
                {"value":11000,"measurand":"Power.Active.Import","unitOfMeasure":{"unit":"W"}}]}]}"#,
        "{}",
    ),
    (
        V201,
        Cp,
        "TransactionEvent",
        r#"{"eventType":"Ended","timestamp":"2024-05-01T11:00:00Z","triggerReason":"EVCommunicationLost","seqNo":9,
            "transactionInfo":{"transactionId":"tx-42","chargingState":"Idle","stoppedReason":"EVDisconnected"}}"#,
        "{}",
    ),
    (
        V201,
        Cp,
        "MeterValues",
        r#"{"evseId":1,"meterValue":[{"timestamp":"2024-05-01T10:30:00Z","sampledValue":[{"value":11000,"measurand":"Power.Active.Import"}]}]}"#,
        "{}",
    ),
    (
        V201,
        Cp,
        "DataTransfer",
        r#"{"vendorId":"com.acme","messageId":"ping","data":{"any":["json"]}}"#,
        r#"{"status":"Accepted"}"#,
    ),
    (
        V201,
        Csms,
        "DataTransfer",
        r#"{"vendorId":"com.acme"}"#,
        r#"{"status":"Rejected"}"#,
    ),
    (
        V201,
        Csms,
        "RequestStartTransaction",
        r#"{"idToken":{"idToken":"RFID-0001","type":"ISO14443"},"remoteStartId":17,"evseId":1}"#,
        r#"{"status":"Accepted","transactionId":"tx-42"}"#,
    ),
    (
        V201,
        Csms,
        "RequestStopTransaction",
        r#"{"transactionId":"tx-42"}"#,
        r#"{"status":"Accepted"}"#,
    ),
    (
        V201,
        Csms,
        "ReserveNow",
        r#"{"id":7,"expiryDateTime":"2024-05-01T12:00:00Z","idToken":{"idToken":"RFID-0001","type":"ISO14443"},"evseId":1}"#,
        r#"{"status":"Accepted"}"#,
    ),
    (
        V201,
        Csms,
        "CancelReservation",
        r#"{"reservationId":7}"#,
        r#"{"status":"Accepted"}"#,
    ),
    (
        V201,
        Csms,
        "ChangeAvailability",
        r#"{"operationalStatus":"Inoperative","evse":{"id":1,"connectorId":1}}"#,
        r#"{"status":"Scheduled"}"#,
    ),
    (
        V201,
        Csms,
        "TriggerMessage",
        r#"{"requestedMessage":"StatusNotification","evse":{"id":1,"connectorId":1}}"#,
        r#"{"status":"Accepted"}"#,
    ),
];

#[test]
fn real_exchanges_validate_in_both_directions() {
    let validator = Validator::default();
    for (protocol, initiator, action, request, response) in EXCHANGES {
        validator
            .request(*protocol, *initiator, action, &raw(request))
            .unwrap_or_else(|e| panic!("{protocol} {action} request: {e}"));
        validator
            .response(*protocol, *initiator, action, &raw(response))
            .unwrap_or_else(|e| panic!("{protocol} {action} response: {e}"));
    }
}

/// Every action each version defines reaches its schema: an empty payload is judged on its
/// members (valid, or a missing one), never as an unknown action or the wrong direction.
#[test]
fn every_action_of_both_versions_is_dispatched() {
    fn check<A: ActionName>(protocol: Protocol, expected_count: usize) {
        let validator = Validator::default();
        assert_eq!(A::all().len(), expected_count, "{protocol}");
        for action in A::all() {
            let origin = action.origin();
            let initiators = [Cp, Csms].into_iter().filter(|initiator| match initiator {
                Cp => origin.from_charging_station(),
                Csms => origin.from_csms(),
            });
            for initiator in initiators {
                for result in [
                    validator.request(protocol, initiator, action.as_str(), &raw("{}")),
                    validator.response(protocol, initiator, action.as_str(), &raw("{}")),
                ] {
                    if let Err(error) = result {
                        assert_eq!(
                            error.code(),
                            ErrorCode::OccurrenceConstraintViolation,
                            "{protocol} {action:?} from {initiator}: {error}"
                        );
                    }
                }
            }
        }
        // Both sides only for DataTransfer.
        let both: Vec<_> = A::all()
            .iter()
            .filter(|a| a.origin() == Origin::Both)
            .collect();
        assert_eq!(both.len(), 1, "{protocol}: {both:?}");
    }
    // 1.6 with the security whitepaper's actions; 2.0.1's full set.
    check::<ocpp_kit::v1_6::Action>(V16, 39);
    check::<ocpp_kit::v2_0_1::Action>(V201, 64);
}

/// (version, who sends the CALL, action, payload, code as sent, JSON pointer of the culprit).
/// All requests; responses go through the same tables.
const REFUSALS: &[(Protocol, Initiator, &str, &str, &str, &str)] = &[
    // Missing required member.
    (
        V16,
        Cp,
        "BootNotification",
        r#"{"chargePointVendor":"Acme"}"#,
        "OccurenceConstraintViolation",
        "",
    ),
    (
        V201,
        Cp,
        "BootNotification",
        r#"{"chargingStation":{"model":"X1"},"reason":"PowerUp"}"#,
        "OccurrenceConstraintViolation",
        "/chargingStation",
    ),
    (
        V201,
        Cp,
        "TransactionEvent",
        r#"{"eventType":"Updated","timestamp":"2024-05-01T10:30:00Z","triggerReason":"MeterValuePeriodic","seqNo":3,
            "transactionInfo":{"transactionId":"tx-42"},"meterValue":[{"timestamp":"2024-05-01T10:30:00Z","sampledValue":[{"measurand":"Energy.Active.Import.Register"}]}]}"#,
        "OccurrenceConstraintViolation",
        "/meterValue/0/sampledValue/0",
    ),
    // An array that must have at least one item.
    (
        V201,
        Cp,
        "MeterValues",
        r#"{"evseId":1,"meterValue":[]}"#,
        "OccurrenceConstraintViolation",
        "/meterValue",
    ),
    // Wrong JSON type.
    (
        V16,
        Cp,
        "BootNotification",
        r#"{"chargePointVendor":12,"chargePointModel":"X1"}"#,
        "TypeConstraintViolation",
        "/chargePointVendor",
    ),
    (
        V16,
        Cp,
        "StartTransaction",
        r#"{"connectorId":"1","idTag":"RFID-0001","meterStart":1200,"timestamp":"2024-05-01T10:00:00Z"}"#,
        "TypeConstraintViolation",
        "/connectorId",
    ),
    (
        V201,
        Cp,
        "Authorize",
        r#"{"idToken":"RFID-0001"}"#,
        "TypeConstraintViolation",
        "/idToken",
    ),
    (
        V201,
        Cp,
        "TransactionEvent",
        r#"{"eventType":"Updated","timestamp":"2024-05-01T10:30:00Z","triggerReason":"MeterValuePeriodic","seqNo":3,
            "transactionInfo":{"transactionId":42}}"#,
        "TypeConstraintViolation",
        "/transactionInfo/transactionId",
    ),
    // Value outside its enum.
    (
        V16,
        Cp,
        "StatusNotification",
        r#"{"connectorId":1,"errorCode":"NoError","status":"Plugged"}"#,
        "PropertyConstraintViolation",
        "/status",
    ),
    (
        V201,
        Cp,
        "BootNotification",
        r#"{"chargingStation":{"model":"X1","vendorName":"Acme"},"reason":"Reboot"}"#,
        "PropertyConstraintViolation",
        "/reason",
    ),
    // String too long: CiString20Type / string[50].
    (
        V16,
        Cp,
        "BootNotification",
        r#"{"chargePointVendor":"Acme Charging Systems Inc","chargePointModel":"X1"}"#,
        "PropertyConstraintViolation",
        "/chargePointVendor",
    ),
    (
        V16,
        Cp,
        "Authorize",
        r#"{"idTag":"RFID-0001-RFID-0001-RFID"}"#,
        "PropertyConstraintViolation",
        "/idTag",
    ),
    (
        V201,
        Cp,
        "BootNotification",
        r#"{"chargingStation":{"model":"X1","vendorName":"Acme Charging Systems Incorporated Worldwide Holding"},"reason":"PowerUp"}"#,
        "PropertyConstraintViolation",
        "/chargingStation/vendorName",
    ),
    // Not a date-time.
    (
        V16,
        Cp,
        "StartTransaction",
        r#"{"connectorId":1,"idTag":"RFID-0001","meterStart":1200,"timestamp":"yesterday"}"#,
        "PropertyConstraintViolation",
        "/timestamp",
    ),
    // Members the schema does not define.
    (
        V16,
        Cp,
        "Heartbeat",
        r#"{"uptime":3600}"#,
        "FormationViolation",
        "/uptime",
    ),
    (
        V201,
        Cp,
        "BootNotification",
        r#"{"chargingStation":{"model":"X1","vendorName":"Acme","colour":"red"},"reason":"PowerUp"}"#,
        "FormatViolation",
        "/chargingStation/colour",
    ),
    // Not an object.
    (V16, Cp, "Heartbeat", "[]", "FormationViolation", ""),
    (
        V201,
        Cp,
        "Authorize",
        r#""RFID-0001""#,
        "FormatViolation",
        "",
    ),
    // Actions: unknown to the version, or known but never sent by this side.
    (V16, Cp, "TransactionEvent", "{}", "NotImplemented", ""),
    (V201, Cp, "StartTransaction", "{}", "NotImplemented", ""),
    (V201, Cp, "bootnotification", "{}", "NotImplemented", ""),
    (
        V16,
        Cp,
        "RemoteStartTransaction",
        r#"{"idTag":"RFID-0001"}"#,
        "NotSupported",
        "",
    ),
    (
        V201,
        Cp,
        "RequestStopTransaction",
        r#"{"transactionId":"tx-42"}"#,
        "NotSupported",
        "",
    ),
    (V201, Csms, "TransactionEvent", "{}", "NotSupported", ""),
];

#[test]
fn refusals_carry_the_versions_code_and_the_culprits_path() {
    let validator = Validator::default();
    for (protocol, initiator, action, payload, code, path) in REFUSALS {
        let error = match validator.request(*protocol, *initiator, action, &raw(payload)) {
            Ok(()) => panic!("{protocol} {action} {payload}: accepted"),
            Err(error) => error,
        };
        assert_eq!(
            error.code().wire_name(*protocol),
            *code,
            "{protocol} {action} {payload}: {error}"
        );
        let found = match &error {
            PayloadError::Invalid { path, .. } => path.as_str(),
            _ => "",
        };
        assert_eq!(found, *path, "{protocol} {action} {payload}: {error}");
        let details = error.details().map(|d| d.to_string());
        let expected = (!path.is_empty()).then(|| format!(r#"{{"path":"{path}"}}"#));
        assert_eq!(details, expected);
    }
}

#[test]
fn responses_are_judged_by_the_same_rules() {
    let validator = Validator::default();
    let cases = [
        (
            V16,
            Cp,
            "BootNotification",
            r#"{"status":"Accepted","interval":300}"#,
            ErrorCode::OccurrenceConstraintViolation,
        ),
        (
            V16,
            Csms,
            "RemoteStartTransaction",
            r#"{"status":"Maybe"}"#,
            ErrorCode::PropertyConstraintViolation,
        ),
        (
            V201,
            Cp,
            "Authorize",
            r#"{"idTokenInfo":{"status":true}}"#,
            ErrorCode::TypeConstraintViolation,
        ),
        (
            V201,
            Csms,
            "ReserveNow",
            r#"{"status":"Accepted","note":"x"}"#,
            ErrorCode::FormatViolation,
        ),
    ];
    for (protocol, initiator, action, payload, code) in cases {
        let error = validator
            .response(protocol, initiator, action, &raw(payload))
            .unwrap_err();
        assert_eq!(error.code(), code, "{protocol} {action} {payload}: {error}");
    }
}

#[test]
fn a_null_payload_is_an_empty_one() {
    let validator = Validator::default();
    assert!(
        validator
            .request(V16, Cp, "Heartbeat", &raw("null"))
            .is_ok()
    );
    assert!(
        validator
            .request(V201, Cp, "Heartbeat", &raw(" null "))
            .is_ok()
    );
    let error = validator
        .request(V16, Cp, "BootNotification", &raw("null"))
        .unwrap_err();
    assert_eq!(error.code(), ErrorCode::OccurrenceConstraintViolation);
}

#[test]
fn date_times_without_an_offset_are_read_as_utc() {
    let validator = Validator::default();
    let naive = r#"{"connectorId":1,"idTag":"RFID-0001","meterStart":0,"timestamp":"2024-05-01T10:00:00.123456"}"#;
    assert!(
        validator
            .request(V16, Cp, "StartTransaction", &raw(naive))
            .is_ok()
    );
}

#[test]
fn unknown_members_can_be_let_through() {
    let lenient = Validator::ignoring_unknown_members();
    assert!(
        lenient
            .request(V16, Cp, "Heartbeat", &raw(r#"{"uptime":3600}"#))
            .is_ok()
    );
    // Everything else stays strict.
    let error = lenient
        .request(V16, Cp, "Authorize", &raw(r#"{"idTag":7}"#))
        .unwrap_err();
    assert_eq!(error.code(), ErrorCode::TypeConstraintViolation);
}

#[test]
fn custom_data_is_open_even_when_unknown_members_are_refused() {
    let payload = r#"{"chargingStation":{"model":"X1","vendorName":"Acme"},"reason":"PowerUp",
        "customData":{"vendorId":"com.acme","firmwareChannel":"beta","slots":[1,2]}}"#;
    assert!(
        Validator::default()
            .request(V201, Cp, "BootNotification", &raw(payload))
            .is_ok()
    );
}

#[test]
fn a_refusal_becomes_the_callerror_to_send() {
    let payload = raw(r#"{"chargingStation":{"model":"X1"},"reason":"PowerUp"}"#);
    let error = Validator::default()
        .request(V201, Cp, "BootNotification", &payload)
        .unwrap_err();
    let id = crate::protocol::MessageId::new("19223201").unwrap();
    assert_eq!(
        error.to_call_error(V201, id.clone()).to_text(),
        r#"[4,"19223201","OccurrenceConstraintViolation","/chargingStation: missing field `vendorName`",{"path":"/chargingStation"}]"#
    );
    let error = Validator::default()
        .request(V16, Cp, "Authorize", &raw("{}"))
        .unwrap_err();
    assert_eq!(
        error.to_call_error(V16, id).to_text(),
        r#"[4,"19223201","OccurenceConstraintViolation","missing field `idTag`",{}]"#
    );
}
