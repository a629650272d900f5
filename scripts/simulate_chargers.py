#!/usr/bin/env python3
"""Simulated chargers for a running Joule: N OCPP charge points (PyPI `ocpp`, which checks
every message against the official schemas) that boot, beat, and charge a driver's car over
and over, with meter values at a chosen power, until told to stop; then a summary.

Run it through scripts/simulate-chargers, which makes its virtual environment. With
--operator-token it first makes each charge point a station (SIM-0001, SIM-0002, ...) with
a password, and with --driver-token it gives that driver the RFID tag the chargers present,
so the sessions and invoices that follow are that driver's.

Each charge point, in a loop: Authorize the tag, StartTransaction (1.6) or TransactionEvent
Started (2.0.1), MeterValues every --meter-every seconds at --power-kw, after --charge-for
seconds the car is full (SuspendedEV / chargingState EVConnected), after --park-for more
it is unplugged (StopTransaction / Ended); then it waits --pause seconds. It also answers
the platform's calls: RemoteStartTransaction / RequestStartTransaction start a session at
once, RemoteStopTransaction / RequestStopTransaction end one, ReserveNow and
CancelReservation are accepted and counted.
"""

import argparse
import asyncio
import base64
import json
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from datetime import datetime, timezone

from websockets.asyncio.client import connect

from ocpp.routing import on
from ocpp.v16 import ChargePoint as ChargePoint16
from ocpp.v16 import call as call16
from ocpp.v16 import call_result as result16
from ocpp.v16 import enums as enums16
from ocpp.v201 import ChargePoint as ChargePoint201
from ocpp.v201 import call as call201
from ocpp.v201 import call_result as result201
from ocpp.v201 import datatypes as datatypes201
from ocpp.v201 import enums as enums201

SUBPROTOCOLS = {"1.6": "ocpp1.6", "2.0.1": "ocpp2.0.1"}
# The answer to a remote start or stop, by whether it was accepted.
REMOTE16 = {True: enums16.RemoteStartStopStatus.accepted, False: enums16.RemoteStartStopStatus.rejected}
REMOTE201 = {True: enums201.RequestStartStopStatusEnumType.accepted, False: enums201.RequestStartStopStatusEnumType.rejected}


def now():
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass
class Tally:
    """What one charge point did and heard."""

    calls: int = 0
    call_errors: int = 0
    sessions_started: int = 0
    sessions_refused: int = 0
    sessions_stopped: int = 0
    energy_wh: int = 0
    remote_starts: int = 0
    remote_stops: int = 0
    reservations: int = 0
    cancellations: int = 0
    errors: list = field(default_factory=list)


class Charger:
    """The behaviour both versions share: a car that charges, then parks, then leaves."""

    def __init__(self, args, cp_id):
        self.args = args
        self.cp_id = cp_id
        self.tally = Tally()
        self.register_wh = 0
        self.transaction = None
        self.wake = asyncio.Event()
        self.stop_requested = False
        self.start_requested = None

    async def send(self, request):
        self.tally.calls += 1
        try:
            return await self.call(request, suppress=False)
        except Exception as e:  # a CALLERROR or a timeout: counted, and the loop goes on
            self.tally.call_errors += 1
            if len(self.tally.errors) < 5:
                self.tally.errors.append(f"{type(request).__name__}: {e}")
            return None

    async def wait(self, seconds):
        """Sleeps, waking early when the platform asked to stop the session."""
        try:
            await asyncio.wait_for(self.wake.wait(), timeout=seconds)
        except asyncio.TimeoutError:
            pass
        self.wake.clear()

    def accept_remote_start(self, tag):
        """Whether to start for the platform's token now: only with no session going."""
        self.tally.remote_starts += 1
        if self.transaction is not None:
            return False
        self.start_requested = tag
        self.wake.set()
        return True

    def accept_remote_stop(self, transaction_id):
        """Whether to stop the session the platform names: only the one going."""
        self.tally.remote_stops += 1
        if self.transaction is None or self.transaction[0] != transaction_id:
            return False
        self.stop_requested = True
        self.wake.set()
        return True

    async def beat(self):
        while True:
            await asyncio.sleep(self.args.heartbeat_every)
            await self.send(self.heartbeat())

    async def charge_once(self, tag):
        if not await self.begin(tag):
            self.tally.sessions_refused += 1
            return
        self.tally.sessions_started += 1
        step_wh = round(self.args.power_kw * 1000 * self.args.meter_every / 3600)
        charged_until = time.monotonic() + self.args.charge_for
        while time.monotonic() < charged_until and not self.stop_requested:
            await self.wait(min(self.args.meter_every, max(0, charged_until - time.monotonic())))
            if self.stop_requested:
                break
            self.register_wh += step_wh
            self.tally.energy_wh += step_wh
            await self.meter()
        if not self.stop_requested:
            await self.full()
            await self.wait(self.args.park_for)
        await self.end()
        self.tally.sessions_stopped += 1
        self.stop_requested = False

    async def run(self):
        await self.boot()
        beating = asyncio.ensure_future(self.beat())
        try:
            for _ in range(self.args.sessions):
                tag = self.args.tag
                # A remote start waiting is served first, with the platform's token.
                if self.start_requested is not None:
                    tag, self.start_requested = self.start_requested, None
                elif self.args.remote_only:
                    await self.wait(3600)
                    if self.start_requested is None:
                        continue
                    tag, self.start_requested = self.start_requested, None
                await self.charge_once(tag)
                await self.wait(self.args.pause)
        finally:
            beating.cancel()


class Charger16(Charger, ChargePoint16):
    def __init__(self, args, cp_id, connection):
        ChargePoint16.__init__(self, cp_id, connection, response_timeout=args.timeout)
        Charger.__init__(self, args, cp_id)

    def heartbeat(self):
        return call16.Heartbeat()

    def status(self, status):
        return call16.StatusNotification(
            connector_id=1, error_code=enums16.ChargePointErrorCode.no_error, status=status, timestamp=now()
        )

    async def boot(self):
        await self.send(call16.BootNotification(charge_point_vendor="Joule", charge_point_model="Simulator"))
        await self.send(self.status(enums16.ChargePointStatus.available))

    async def begin(self, tag):
        answer = await self.send(call16.Authorize(id_tag=tag))
        if answer is None or answer.id_tag_info["status"] != "Accepted":
            return False
        await self.send(self.status(enums16.ChargePointStatus.preparing))
        answer = await self.send(
            call16.StartTransaction(connector_id=1, id_tag=tag, meter_start=self.register_wh, timestamp=now())
        )
        if answer is None or answer.id_tag_info["status"] != "Accepted":
            await self.send(self.status(enums16.ChargePointStatus.available))
            return False
        self.transaction = (answer.transaction_id, tag)
        await self.send(self.status(enums16.ChargePointStatus.charging))
        return True

    async def meter(self):
        sample = {"value": str(self.register_wh), "measurand": "Energy.Active.Import.Register", "unit": "Wh"}
        power = {"value": str(round(self.args.power_kw * 1000)), "measurand": "Power.Active.Import", "unit": "W"}
        await self.send(
            call16.MeterValues(
                connector_id=1,
                transaction_id=self.transaction[0],
                meter_value=[{"timestamp": now(), "sampled_value": [sample, power]}],
            )
        )

    async def full(self):
        await self.send(self.status(enums16.ChargePointStatus.suspended_ev))

    async def end(self):
        transaction_id, tag = self.transaction
        await self.send(
            call16.StopTransaction(
                meter_stop=self.register_wh, timestamp=now(), transaction_id=transaction_id, id_tag=tag, reason="EVDisconnected"
            )
        )
        self.transaction = None
        await self.send(self.status(enums16.ChargePointStatus.available))

    @on("RemoteStartTransaction")
    def on_remote_start(self, id_tag, **_):
        accepted = self.accept_remote_start(id_tag)
        return result16.RemoteStartTransaction(status=REMOTE16[accepted])

    @on("RemoteStopTransaction")
    def on_remote_stop(self, transaction_id, **_):
        accepted = self.accept_remote_stop(transaction_id)
        return result16.RemoteStopTransaction(status=REMOTE16[accepted])

    @on("ReserveNow")
    def on_reserve(self, **_):
        self.tally.reservations += 1
        return result16.ReserveNow(status=enums16.ReservationStatus.accepted)

    @on("CancelReservation")
    def on_cancel(self, **_):
        self.tally.cancellations += 1
        return result16.CancelReservation(status=enums16.CancelReservationStatus.accepted)


class Charger201(Charger, ChargePoint201):
    def __init__(self, args, cp_id, connection):
        ChargePoint201.__init__(self, cp_id, connection, response_timeout=args.timeout)
        Charger.__init__(self, args, cp_id)
        self.seq = 0
        self.transactions = 0

    def heartbeat(self):
        return call201.Heartbeat()

    def status(self, status):
        return call201.StatusNotification(timestamp=now(), connector_status=status, evse_id=1, connector_id=1)

    async def boot(self):
        station = datatypes201.ChargingStationType(vendor_name="Joule", model="Simulator")
        await self.send(call201.BootNotification(charging_station=station, reason=enums201.BootReasonEnumType.power_up))
        await self.send(self.status(enums201.ConnectorStatusEnumType.available))

    def event(self, event_type, trigger, charging_state, **extra):
        self.seq += 1
        info = {"transaction_id": self.transaction[0], "charging_state": charging_state}
        info.update(extra.pop("info", {}))
        return call201.TransactionEvent(
            event_type=event_type,
            timestamp=now(),
            trigger_reason=trigger,
            seq_no=self.seq,
            transaction_info=info,
            **extra,
        )

    def register(self, context):
        sample = {"value": self.register_wh, "context": context, "measurand": "Energy.Active.Import.Register"}
        return [{"timestamp": now(), "sampled_value": [sample]}]

    async def begin(self, tag):
        token = {"id_token": tag, "type": "ISO14443"}
        answer = await self.send(call201.Authorize(id_token=token))
        if answer is None or answer.id_token_info["status"] != "Accepted":
            return False
        self.transactions += 1
        self.transaction = (f"{self.cp_id}-{self.transactions}", tag)
        await self.send(self.status(enums201.ConnectorStatusEnumType.occupied))
        answer = await self.send(
            self.event(
                "Started", "Authorized", "Charging", id_token=token, evse={"id": 1, "connector_id": 1},
                meter_value=self.register("Transaction.Begin"),
            )
        )
        if answer is None or (answer.id_token_info or {}).get("status") != "Accepted":
            await self.send(self.event("Ended", "Deauthorized", "EVConnected", info={"stopped_reason": "DeAuthorized"}))
            self.transaction = None
            await self.send(self.status(enums201.ConnectorStatusEnumType.available))
            return False
        return True

    async def meter(self):
        await self.send(self.event("Updated", "MeterValuePeriodic", "Charging", meter_value=self.register("Sample.Periodic")))

    async def full(self):
        await self.send(self.event("Updated", "ChargingStateChanged", "EVConnected", meter_value=self.register("Sample.Periodic")))

    async def end(self):
        await self.send(
            self.event(
                "Ended", "EVDeparted", "Idle", info={"stopped_reason": "EVDisconnected"},
                meter_value=self.register("Transaction.End"),
            )
        )
        self.transaction = None
        await self.send(self.status(enums201.ConnectorStatusEnumType.available))

    @on("RequestStartTransaction")
    def on_request_start(self, id_token, remote_start_id, **_):
        accepted = self.accept_remote_start(id_token["id_token"])
        return result201.RequestStartTransaction(status=REMOTE201[accepted])

    @on("RequestStopTransaction")
    def on_request_stop(self, transaction_id, **_):
        accepted = self.accept_remote_stop(transaction_id)
        return result201.RequestStopTransaction(status=REMOTE201[accepted])

    @on("ReserveNow")
    def on_reserve(self, **_):
        self.tally.reservations += 1
        return result201.ReserveNow(status=enums201.ReserveNowStatusEnumType.accepted)

    @on("CancelReservation")
    def on_cancel(self, **_):
        self.tally.cancellations += 1
        return result201.CancelReservation(status=enums201.CancelReservationStatusEnumType.accepted)


# --- provisioning over the REST API -----------------------------------------------------


def api(args, method, path, token, body=None):
    """One JSON request; returns (status, parsed body or None)."""
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(args.api.rstrip("/") + path, data=data, method=method)
    request.add_header("authorization", f"Bearer {token}")
    if data is not None:
        request.add_header("content-type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            raw = response.read()
            return response.status, json.loads(raw) if raw else None
    except urllib.error.HTTPError as e:
        raw = e.read()
        try:
            return e.code, json.loads(raw)
        except ValueError:
            return e.code, raw.decode(errors="replace")


def stations_by_charge_point(args):
    found, cursor = {}, None
    while True:
        query = "?limit=100" + (f"&cursor={urllib.parse.quote(cursor)}" if cursor else "")
        status, page = api(args, "GET", f"/api/v1/stations{query}", args.operator_token)
        if status != 200:
            sys.exit(f"listing stations failed ({status}): {page}")
        for station in page["items"]:
            if station.get("ocpp"):
                found[station["ocpp"]["chargePointId"]] = station["id"]
        cursor = page.get("nextCursor")
        if not cursor:
            return found


def provision(args, ids):
    # The tag first: sessions learn of it, as of the stations, through events, in order.
    if args.driver_token:
        status, body = api(args, "POST", "/api/v1/me/tokens", args.driver_token, {"type": "RFID", "uid": args.tag})
        if status not in (201, 409):
            sys.exit(f"giving the driver the tag {args.tag} failed ({status}): {body}")
    tariff = {
        "name": "Simulator",
        "currency": "EUR",
        "elements": [
            {"priceComponents": [{"type": "ENERGY", "price": "0.30", "vat": "20"}]},
            {"priceComponents": [{"type": "PARKING_TIME", "price": "6.00", "vat": "20", "stepSize": 300}]},
        ],
    }
    status, created = api(args, "POST", "/api/v1/tariffs", args.operator_token, tariff)
    if status != 201:
        sys.exit(f"creating the tariff failed ({status}): {created}")
    existing = stations_by_charge_point(args)
    protocol = SUBPROTOCOLS[args.protocol]
    stations = []
    for cp_id in ids:
        station_id = existing.get(cp_id)
        if station_id is None:
            station = {
                "name": f"Simulated {cp_id}",
                "location": {"lat": 52.37, "lng": 4.89},
                "timeZone": "Europe/Amsterdam",
                "tariffId": created["id"],
                "connectors": [{"connectorId": "1", "type": "Type2", "maxPowerKw": 22}],
                "ocpp": {"chargePointId": cp_id, "protocol": protocol},
            }
            status, body = api(args, "POST", "/api/v1/stations", args.operator_token, station)
            if status != 201:
                sys.exit(f"creating the station of {cp_id} failed ({status}): {body}")
            station_id = body["id"]
        else:
            api(args, "PATCH", f"/api/v1/stations/{station_id}", args.operator_token, {"ocpp": {"chargePointId": cp_id, "protocol": protocol}})
        status, body = api(args, "PUT", f"/api/v1/stations/{station_id}/ocpp-password", args.operator_token, {"password": args.password})
        if status != 204:
            sys.exit(f"setting the password of {cp_id} failed ({status}): {body}")
        stations.append(station_id)
    wait_for_copies(args, stations)


def wait_for_copies(args, stations):
    """Until the sessions know every station: a start on a connector a station lacks names
    the connector once they do (and the station before), and starts nothing."""
    deadline = time.monotonic() + 60
    for station_id in stations:
        probe = {"stationId": station_id, "connectorId": "none", "driverId": "simulator", "meterStartWh": 0}
        while True:
            status, body = api(args, "POST", "/api/v1/sessions", args.operator_token, probe)
            if status == 422 and "connectorId" in json.dumps(body):
                break
            if time.monotonic() > deadline:
                sys.exit(f"the sessions did not learn of station {station_id} within a minute: {status} {body}")
            time.sleep(0.1)


# --- running ----------------------------------------------------------------------------


async def run_charger(args, cp_id, tallies):
    url = args.url.rstrip("/") + "/" + urllib.parse.quote(cp_id, safe="")
    credentials = base64.b64encode(f"{cp_id}:{args.password}".encode()).decode()
    cls = Charger16 if args.protocol == "1.6" else Charger201
    try:
        async with connect(
            url, subprotocols=[SUBPROTOCOLS[args.protocol]], additional_headers={"Authorization": f"Basic {credentials}"}, proxy=None
        ) as ws:
            charger = cls(args, cp_id, ws)
            tallies[cp_id] = charger.tally
            reader = asyncio.ensure_future(charger.start())
            try:
                await charger.run()
            finally:
                reader.cancel()
                await asyncio.gather(reader, return_exceptions=True)
    except Exception as e:  # the connection itself failed: shown in the summary
        tally = tallies.setdefault(cp_id, Tally())
        tally.errors.append(f"connection: {type(e).__name__}: {e}")


def summary(args, tallies, seconds):
    total = Tally()
    for tally in tallies.values():
        for name in ("calls", "call_errors", "sessions_started", "sessions_refused", "sessions_stopped", "energy_wh",
                     "remote_starts", "remote_stops", "reservations", "cancellations"):
            setattr(total, name, getattr(total, name) + getattr(tally, name))
    print(f"{len(tallies)} charge points (OCPP {args.protocol}) ran {seconds:.0f} s:")
    print(f"  {total.calls} CALLs sent, {total.call_errors} answered with a CALLERROR or not at all")
    print(f"  sessions: {total.sessions_started} started, {total.sessions_refused} refused, {total.sessions_stopped} stopped; "
          f"{total.energy_wh / 1000:.1f} kWh charged")
    print(f"  the platform's calls: {total.remote_starts} remote starts, {total.remote_stops} remote stops, "
          f"{total.reservations} ReserveNow, {total.cancellations} CancelReservation")
    for cp_id, tally in sorted(tallies.items()):
        for error in tally.errors:
            print(f"  {cp_id}: {error}")
    if args.driver_token:
        status, page = api(args, "GET", "/api/v1/invoices?limit=100", args.driver_token)
        if status == 200:
            items = page["items"]
            total_incl = sum(float(i["totalInclVat"]) for i in items)
            print(f"  the driver's invoices: {len(items)} (first page), {total_incl:.2f} incl. VAT")
    return 1 if any(t.errors for t in tallies.values()) else 0


async def main(args):
    ids = [f"{args.prefix}-{n:04d}" for n in range(1, args.chargers + 1)]
    if args.operator_token:
        provision(args, ids)
    tallies = {}
    started = time.monotonic()
    runs = [asyncio.ensure_future(run_charger(args, cp_id, tallies)) for cp_id in ids]
    try:
        if args.duration:
            await asyncio.wait(runs, timeout=args.duration)
        else:
            await asyncio.gather(*runs)
    finally:
        for run in runs:
            run.cancel()
        await asyncio.gather(*runs, return_exceptions=True)
    return summary(args, tallies, time.monotonic() - started)


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", default="ws://127.0.0.1:3000/ocpp", help="the OCPP route; each id is appended")
    parser.add_argument("--api", default="http://127.0.0.1:3000", help="the REST API, for provisioning and the summary")
    parser.add_argument("--chargers", type=int, default=3, help="how many charge points")
    parser.add_argument("--protocol", choices=sorted(SUBPROTOCOLS), default="1.6")
    parser.add_argument("--prefix", default="SIM", help="charge point ids are PREFIX-0001, PREFIX-0002, ...")
    parser.add_argument("--password", default="simulated-charger-secret", help="every charge point's password (16 to 40 characters)")
    parser.add_argument("--tag", default="5107A6ED", help="the RFID tag the chargers present")
    parser.add_argument("--operator-token", help="make the stations and passwords first, as this operator")
    parser.add_argument("--driver-token", help="give this driver the tag first, and list their invoices at the end")
    parser.add_argument("--sessions", type=int, default=1, help="sessions each charge point charges, one after another")
    parser.add_argument("--remote-only", action="store_true", help="charge only when the platform asks (a remote start)")
    parser.add_argument("--power-kw", type=float, default=11.0, help="charging power")
    parser.add_argument("--meter-every", type=float, default=5.0, help="seconds between MeterValues")
    parser.add_argument("--charge-for", type=float, default=30.0, help="seconds a car charges")
    parser.add_argument("--park-for", type=float, default=5.0, help="seconds it stays plugged in once full")
    parser.add_argument("--pause", type=float, default=2.0, help="seconds between sessions")
    parser.add_argument("--heartbeat-every", type=float, default=60.0, help="seconds between Heartbeats")
    parser.add_argument("--duration", type=float, help="stop after this many seconds, sessions or not")
    parser.add_argument("--timeout", type=float, default=30, help="seconds to wait for each answer")
    return parser.parse_args()


if __name__ == "__main__":
    sys.exit(asyncio.run(main(parse_args())))
