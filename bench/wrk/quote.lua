-- POST /api/v1/pricing/quote with DOMAIN.md's worked example, tariff given inline.
wrk.method = "POST"
wrk.headers["content-type"] = "application/json"
wrk.body = [[{"tariff":{"currency":"EUR","elements":[
 {"priceComponents":[{"type":"FLAT","price":"0.50","vat":"20"}]},
 {"priceComponents":[{"type":"ENERGY","price":"0.30","vat":"20"}],
  "restrictions":{"startTime":"17:00","endTime":"21:00","dayOfWeek":["MONDAY","TUESDAY","WEDNESDAY","THURSDAY","FRIDAY"]}},
 {"priceComponents":[{"type":"ENERGY","price":"0.25","vat":"20"}]},
 {"priceComponents":[{"type":"PARKING_TIME","price":"6.00","vat":"20","stepSize":300}]}]},
 "session":{"startedAt":"2026-11-23T15:30:00Z","chargingEndedAt":"2026-11-23T16:40:00Z","unpluggedAt":"2026-11-23T17:02:00Z",
  "timeZone":"Europe/Amsterdam","periods":[
   {"startsAt":"2026-11-23T15:30:00Z","endsAt":"2026-11-23T16:00:00Z","energyWh":5500},
   {"startsAt":"2026-11-23T16:00:00Z","endsAt":"2026-11-23T16:40:00Z","energyWh":7300}]}}]]
