//! `GET /parking/lots/{id}/export.csv`: every slot of a lot and who is in it, one row per
//! slot in the lot's order, as RFC 4180 CSV for a spreadsheet.

use std::borrow::Cow;

use joule_sdk::access::Caller;
use joule_sdk::api;
use spin_sdk::http::{Params, Request, Response};

use crate::lot::Slot;
use crate::{Result, store};

pub const HEADER: [&str; 9] =
    ["slotId", "level", "kind", "size", "stationId", "connectorId", "occupied", "regnum", "parkedAt"];

/// The CSV of `slots`: a header row, then one row per slot; CRLF ends every row.
pub fn csv(slots: &[Slot]) -> String {
    let mut out = String::new();
    push_row(&mut out, HEADER.iter().copied());
    for slot in slots {
        let connector = slot.connector.as_ref();
        let occupant = slot.occupant.as_ref();
        let parked_at = occupant.map(|o| api::time(o.parked_at)).unwrap_or_default();
        push_row(
            &mut out,
            [
                slot.slot_id.as_str(),
                slot.level.as_str(),
                slot.kind.as_str(),
                slot.size.as_str(),
                connector.map_or("", |c| c.station_id.as_str()),
                connector.map_or("", |c| c.connector_id.as_str()),
                if occupant.is_some() { "true" } else { "false" },
                occupant.map_or("", |o| o.regnum.as_str()),
                parked_at.as_str(),
            ]
            .into_iter(),
        );
    }
    out
}

fn push_row<'a>(out: &mut String, fields: impl Iterator<Item = &'a str>) {
    for (i, value) in fields.enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(&field(value));
    }
    out.push_str("\r\n");
}

/// A field as RFC 4180 writes it: quoted when it holds a comma, a quote or a line break,
/// with its quotes doubled; as it is otherwise.
fn field(value: &str) -> Cow<'_, str> {
    if value.contains([',', '"', '\r', '\n']) {
        Cow::Owned(format!("\"{}\"", value.replace('"', "\"\"")))
    } else {
        Cow::Borrowed(value)
    }
}

pub fn get(_: Request, params: Params) -> Result {
    Caller::require_operator()?;
    let lot_id = crate::lot_id(&params)?;
    let slots = crate::existing_slots(lot_id, store::slots(lot_id)?)?;
    Ok(Response::builder()
        .status(200)
        .header("content-type", "text/csv; charset=utf-8")
        .header("content-disposition", format!("attachment; filename=\"lot-{lot_id}.csv\""))
        .body(csv(&slots))
        .build())
}

#[cfg(test)]
mod tests {
    use chrono::{DateTime, Utc};
    use uuid::Uuid;

    use super::*;
    use crate::lot::tests::slot;
    use crate::lot::{Kind, Occupant, Size};

    #[test]
    fn quotes_only_what_needs_it() {
        assert_eq!(field("A1"), "A1");
        assert_eq!(field("A,1"), "\"A,1\"");
        assert_eq!(field("the \"big\" one"), "\"the \"\"big\"\" one\"");
        assert_eq!(field("two\nlines"), "\"two\nlines\"");
        assert_eq!(field(""), "");
    }

    #[test]
    fn writes_a_header_and_a_row_per_slot_in_order() {
        let mut slots =
            vec![slot("A,1", "P1", Kind::Ev, Size::Car, true), slot("B\"2", "-1", Kind::Ice, Size::Van, false)];
        let parked_at = DateTime::parse_from_rfc3339("2026-11-23T16:40:00Z").unwrap().with_timezone(&Utc);
        slots[0].occupant = Some(Occupant {
            stay_id: Uuid::nil(),
            regnum: "AB12CD".into(),
            kind: Kind::Ev,
            size: Size::Car,
            parked_at,
        });
        assert_eq!(
            csv(&slots),
            "slotId,level,kind,size,stationId,connectorId,occupied,regnum,parkedAt\r\n\
             \"A,1\",P1,EV,CAR,st-1,\"A,1\",true,AB12CD,2026-11-23T16:40:00.000Z\r\n\
             \"B\"\"2\",-1,ICE,VAN,,,false,,\r\n"
        );
    }
}
