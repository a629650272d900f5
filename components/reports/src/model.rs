//! The facts the reports are made of, as the events told them, and the rules that make a
//! fact told twice, or told in pieces out of order, one fact.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use rust_decimal::Decimal;
use uuid::Uuid;

use crate::days;

#[derive(Debug, Clone, PartialEq)]
pub struct Station {
    pub id: Uuid,
    pub name: String,
    pub time_zone: String,
}

/// A period of charging and the energy the meter counted in it.
#[derive(Debug, Clone, PartialEq)]
pub struct Period {
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub energy_wh: i64,
}

/// A charging session: started, and once completed, with its ends and its energy.
#[derive(Debug, Clone, PartialEq)]
pub struct Session {
    pub id: Uuid,
    pub station_id: Uuid,
    pub connector_id: String,
    /// The station's zone as the session's events carried it, for a station not yet known.
    pub time_zone: String,
    pub started_at: DateTime<Utc>,
    pub completion: Option<Completion>,
}

/// What a completed session adds.
#[derive(Debug, Clone, PartialEq)]
pub struct Completion {
    /// Charging ended here; parking follows until unplugging.
    pub charging_ended_at: DateTime<Utc>,
    pub unplugged_at: DateTime<Utc>,
    pub energy_wh: i64,
    pub periods: Vec<Period>,
}

impl Session {
    /// The last instant the session accounts for.
    pub fn ends_at(&self) -> DateTime<Utc> {
        let Some(done) = &self.completion else { return self.started_at };
        let periods = done.periods.iter().map(|p| p.ends_at.max(p.starts_at));
        periods.fold(done.unplugged_at.max(done.charging_ended_at), DateTime::max).max(self.started_at)
    }
}

/// An invoice: for a charging session, or for a parking stay (no session, no station).
#[derive(Debug, Clone, PartialEq)]
pub struct Invoice {
    pub id: Uuid,
    pub session_id: Option<Uuid>,
    pub currency: String,
    pub total_excl_vat: Decimal,
    /// Billing writes none when a tariff's VAT is unknown; the excl. VAT total then stands.
    pub total_incl_vat: Option<Decimal>,
    pub created_at: DateTime<Utc>,
}

/// A completed payment of an invoice.
#[derive(Debug, Clone, PartialEq)]
pub struct Payment {
    pub invoice_id: Uuid,
    /// The provider's reference: one invoice's payments are told apart by it.
    pub reference: String,
    pub amount: Decimal,
    pub currency: String,
    pub paid_at: DateTime<Utc>,
}

/// Where a figure is counted: a station's local day, or a UTC day for what has no station
/// (a parking invoice, or a charging invoice whose session is not known yet).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Place {
    pub station_id: Option<Uuid>,
    pub zone: Tz,
}

/// Facts, each once, whatever number of times they were told.
#[derive(Debug, Default, Clone)]
pub struct Facts {
    pub stations: HashMap<Uuid, Station>,
    pub sessions: HashMap<Uuid, Session>,
    pub invoices: HashMap<Uuid, Invoice>,
    pub payments: HashMap<(Uuid, String), Payment>,
}

impl Facts {
    pub fn add_station(&mut self, station: Station) {
        self.stations.insert(station.id, station);
    }

    /// A session told again is the same session; a completed one stays completed when its
    /// start is told after its end.
    pub fn add_session(&mut self, session: Session) {
        match self.sessions.get(&session.id) {
            Some(known) if known.completion.is_some() && session.completion.is_none() => {}
            _ => {
                self.sessions.insert(session.id, session);
            }
        }
    }

    /// An invoice is written once: the first telling stands.
    pub fn add_invoice(&mut self, invoice: Invoice) {
        self.invoices.entry(invoice.id).or_insert(invoice);
    }

    /// A payment is one per invoice and reference: the first telling stands.
    pub fn add_payment(&mut self, payment: Payment) {
        self.payments.entry((payment.invoice_id, payment.reference.clone())).or_insert(payment);
    }

    /// The zone a station's days are counted in: the station's own, else the one its
    /// session carried, else UTC.
    pub fn zone_of(&self, station_id: Uuid, session_zone: Option<&str>) -> Tz {
        let name = self.stations.get(&station_id).map(|s| s.time_zone.as_str()).or(session_zone);
        name.map_or(Tz::UTC, days::zone)
    }

    /// Where a session's figures are counted.
    pub fn place_of_session(&self, session: &Session) -> Place {
        Place { station_id: Some(session.station_id), zone: self.zone_of(session.station_id, Some(&session.time_zone)) }
    }

    /// Where an invoice's figures are counted: its session's station, once that is known.
    pub fn place_of_invoice(&self, invoice: &Invoice) -> Place {
        match invoice.session_id.and_then(|id| self.sessions.get(&id)) {
            Some(session) => self.place_of_session(session),
            None => Place { station_id: None, zone: Tz::UTC },
        }
    }

    /// Where a payment is counted: its invoice's place.
    pub fn place_of_payment(&self, payment: &Payment) -> Place {
        match self.invoices.get(&payment.invoice_id) {
            Some(invoice) => self.place_of_invoice(invoice),
            None => Place { station_id: None, zone: Tz::UTC },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        text.parse().unwrap()
    }

    fn started(id: Uuid) -> Session {
        Session {
            id,
            station_id: Uuid::nil(),
            connector_id: "1".into(),
            time_zone: "Asia/Tokyo".into(),
            started_at: at("2026-03-02T07:30:00Z"),
            completion: None,
        }
    }

    fn completed(id: Uuid) -> Session {
        let completion = Completion {
            charging_ended_at: at("2026-03-02T08:40:00Z"),
            unplugged_at: at("2026-03-02T09:02:00Z"),
            energy_wh: 12800,
            periods: vec![],
        };
        Session { completion: Some(completion), ..started(id) }
    }

    #[test]
    fn a_completed_session_stays_completed_whatever_order_its_events_come_in() {
        let id = Uuid::from_u128(7);
        let mut in_order = Facts::default();
        in_order.add_session(started(id));
        in_order.add_session(completed(id));
        let mut late_start = Facts::default();
        late_start.add_session(completed(id));
        late_start.add_session(started(id));
        late_start.add_session(completed(id));
        assert_eq!(in_order.sessions, late_start.sessions);
        assert_eq!(in_order.sessions[&id].ends_at(), at("2026-03-02T09:02:00Z"));
        assert_eq!(started(id).ends_at(), started(id).started_at);
    }

    #[test]
    fn an_invoice_and_a_payment_told_twice_are_one() {
        let mut facts = Facts::default();
        let invoice = Invoice {
            id: Uuid::from_u128(1),
            session_id: None,
            currency: "EUR".into(),
            total_excl_vat: "6.57".parse().unwrap(),
            total_incl_vat: Some("7.88".parse().unwrap()),
            created_at: at("2026-03-02T09:03:00Z"),
        };
        let payment = Payment {
            invoice_id: invoice.id,
            reference: "stub-1".into(),
            amount: "7.88".parse().unwrap(),
            currency: "EUR".into(),
            paid_at: at("2026-03-02T10:00:00Z"),
        };
        facts.add_invoice(invoice.clone());
        facts.add_invoice(Invoice { created_at: at("2026-03-05T00:00:00Z"), ..invoice.clone() });
        facts.add_payment(payment.clone());
        facts.add_payment(Payment { paid_at: at("2026-03-06T00:00:00Z"), ..payment.clone() });
        assert_eq!(facts.invoices.len(), 1);
        assert_eq!(facts.invoices[&invoice.id], invoice);
        assert_eq!(facts.payments.values().collect::<Vec<_>>(), [&payment]);
    }

    #[test]
    fn an_invoice_finds_its_station_once_its_session_is_known() {
        let mut facts = Facts::default();
        let session = completed(Uuid::from_u128(9));
        let invoice = Invoice {
            id: Uuid::from_u128(1),
            session_id: Some(session.id),
            currency: "EUR".into(),
            total_excl_vat: Decimal::ONE,
            total_incl_vat: None,
            created_at: at("2026-03-02T09:03:00Z"),
        };
        facts.add_invoice(invoice.clone());
        assert_eq!(facts.place_of_invoice(&invoice), Place { station_id: None, zone: Tz::UTC });
        facts.add_session(session);
        assert_eq!(facts.place_of_invoice(&invoice), Place { station_id: Some(Uuid::nil()), zone: Tz::Asia__Tokyo });
        facts.add_station(Station { id: Uuid::nil(), name: "Hub".into(), time_zone: "Europe/Berlin".into() });
        assert_eq!(facts.place_of_invoice(&invoice).zone, Tz::Europe__Berlin, "the station's own zone wins");
    }
}
