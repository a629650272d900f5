#!/usr/bin/env python3
"""One real OCPP charge point for the black-box tests, built on the `ocpp` package.

It connects to `<url>/<id>` with one subprotocol (ocpp1.6 or ocpp2.0.1) and HTTP Basic
auth, runs a named scenario and prints one JSON object per line on stdout:

    {"step": "connect", "ok": true, "subprotocol": "ocpp1.6"}
    {"step": "BootNotification", "ok": true, "response": {...}}
    {"step": "DataTransfer", "ok": false, "error": {"code": "InternalError", ...}}

The `ocpp` package validates every request and every response against the official
JSON schemas. A step fails (`"ok": false`) when the CSMS answered with a CALLERROR
(`error.code` is the CALLERROR's code), when its CALLRESULT failed validation
(`error.code` is "ValidationFailed", `response` the payload as received), when no answer
came within `--timeout` ("Timeout") or when the connection was gone ("ConnectionClosed").
A refused handshake prints `{"step": "connect", "ok": false, "status": 401}`. The exit
status is 0 unless the script itself crashed.

Scenarios: basic, station, authorize, fault, hold, plan (see SCENARIOS below). The virtual environment with the
pinned packages (tests/ocpp/requirements.txt) is made by scripts/test.
"""

import argparse
import asyncio
import base64
import json
import logging
import sys
import time
import urllib.parse
from datetime import datetime, timezone

import websockets
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus, NegotiationError

from ocpp import v16, v201
from ocpp.charge_point import camel_to_snake_case
from ocpp.exceptions import GenericError, OCPPError
from ocpp.messages import CallError, CallResult
from ocpp.v16 import call as call16
from ocpp.v16 import enums as enums16
from ocpp.v201 import call as call201
from ocpp.v201 import datatypes as datatypes201
from ocpp.v201 import enums as enums201

SUBPROTOCOLS = {"1.6": "ocpp1.6", "2.0.1": "ocpp2.0.1"}


def emit(record):
    """One line of output; `default=str` for exception details that hold objects."""
    print(json.dumps(record, default=str, separators=(",", ":")), flush=True)


class Recording:
    """Keeps the raw answer (CALLRESULT or CALLERROR) to the last CALL.

    The library turns a CALLRESULT into a snake_case dataclass and a CALLERROR into an
    exception (none at all for an error code outside the specification); the tests want
    the payload and the error exactly as the CSMS sent them.
    """

    last_response = None

    async def _get_specific_response(self, unique_id, timeout):
        response = await super()._get_specific_response(unique_id, timeout)
        self.last_response = response
        return response


class Answering:
    """Answers the CSMS's CALLs as `--answer` says, printing each as it arrives:

        {"step": "received", "ok": true, "action": "RemoteStartTransaction", "payload": {...}}

    accept: `{"status": "Accepted"}` (the whole answer to every CALL the platform sends);
    error: a CALLERROR GenericError; silent: no answer at all.
    """

    answer = "accept"

    async def _handle_call(self, msg):
        emit({"step": "received", "ok": True, "action": msg.action, "payload": msg.payload})
        if self.answer == "silent":
            return
        if self.answer == "error":
            refusal = GenericError(description="refused by the test charge point")
            await self._send(msg.create_call_error(refusal).to_json())
            return
        await self._send(msg.create_call_result({"status": "Accepted"}).to_json())


class ChargePoint16(Answering, Recording, v16.ChargePoint):
    pass


class ChargePoint201(Answering, Recording, v201.ChargePoint):
    pass


def now():
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class Runner:
    def __init__(self, cp, reader):
        self.cp = cp
        # The task running cp.start(): it ends only when the connection does.
        self.reader = reader

    async def step(self, name, payload):
        """Sends one CALL and prints its outcome; never raises for an OCPP-level failure."""
        self.cp.last_response = None
        record = {"step": name}
        try:
            call = asyncio.ensure_future(self.cp.call(payload, suppress=False))
            done, _ = await asyncio.wait({call, self.reader}, return_when=asyncio.FIRST_COMPLETED)
            if call not in done:
                # The connection ended while we waited for the answer.
                call.cancel()
                await asyncio.gather(call, return_exceptions=True)
                raise self.reader.exception() or ConnectionClosed(None, None)
            await call
            record["ok"] = True
            record["response"] = self.cp.last_response.payload
        except Exception as e:  # every failure is this step's outcome
            record["ok"] = False
            record["error"] = self.describe(e)
            if isinstance(self.cp.last_response, CallResult):
                record["response"] = self.cp.last_response.payload
        emit(record)
        return record

    def describe(self, e):
        answer = self.cp.last_response
        error = {"exception": type(e).__name__}
        if isinstance(answer, CallError):
            # What the CSMS sent, also when the library knows no such error code.
            error.update(
                code=answer.error_code,
                description=answer.error_description,
                details=answer.error_details,
            )
        elif isinstance(answer, CallResult) and isinstance(e, OCPPError):
            # A CALLRESULT that failed schema validation (or its action has no schema).
            details = {k: v for k, v in e.details.items() if k != "ocpp_message"}
            error.update(code="ValidationFailed", description=str(details.pop("cause", e.description)))
            error["violation"] = e.code
        elif isinstance(e, (asyncio.TimeoutError, TimeoutError)):
            error.update(code="Timeout", description=str(e))
        elif isinstance(e, ConnectionClosed):
            error.update(code="ConnectionClosed", description=str(e))
            if e.rcvd is not None:
                error["close_code"] = e.rcvd.code
                error["close_reason"] = e.rcvd.reason
        elif isinstance(e, OCPPError):
            # Our own request failed validation: a bug in this script.
            error.update(code="RequestInvalid", description=str(e.description), details=e.details)
        else:
            error.update(code="ClientError", description=str(e))
        return error


# --- scenarios --------------------------------------------------------------------------


def boot(protocol):
    if protocol == "1.6":
        return call16.BootNotification(charge_point_vendor="Joule Test", charge_point_model="CP-1")
    return call201.BootNotification(
        charging_station=datatypes201.ChargingStationType(vendor_name="Joule Test", model="CP-1"),
        reason=enums201.BootReasonEnumType.power_up,
    )


def heartbeat(protocol):
    return call16.Heartbeat() if protocol == "1.6" else call201.Heartbeat()


def status_available(protocol):
    if protocol == "1.6":
        return call16.StatusNotification(
            connector_id=1,
            error_code=enums16.ChargePointErrorCode.no_error,
            status=enums16.ChargePointStatus.available,
        )
    return call201.StatusNotification(
        timestamp=now(),
        connector_status=enums201.ConnectorStatusEnumType.available,
        evse_id=1,
        connector_id=1,
    )


# The statuses a connector goes through as a car plugs in, charges, stops and leaves: 1.6
# names each phase, 2.0.1 only whether the connector is occupied.
STATION_STATUSES = {
    "1.6": ["available", "preparing", "charging", "suspended_ev", "finishing", "available"],
    "2.0.1": ["available", "occupied", "available"],
}


def status(protocol, name, connector=1):
    if protocol == "1.6":
        return call16.StatusNotification(
            connector_id=connector,
            error_code=enums16.ChargePointErrorCode.no_error,
            status=getattr(enums16.ChargePointStatus, name),
        )
    return call201.StatusNotification(
        timestamp=now(),
        connector_status=getattr(enums201.ConnectorStatusEnumType, name),
        evse_id=connector,
        connector_id=1,
    )


def authorize(protocol, token):
    if protocol == "1.6":
        return call16.Authorize(id_tag=token)
    return call201.Authorize(
        id_token=datatypes201.IdTokenType(id_token=token, type=enums201.IdTokenEnumType.iso14443)
    )


def data_transfer(protocol, vendor_id):
    if protocol == "1.6":
        return call16.DataTransfer(vendor_id=vendor_id)
    return call201.DataTransfer(vendor_id=vendor_id)


async def basic(run, args):
    p = args.protocol
    await run.step("BootNotification", boot(p))
    await run.step("Heartbeat", heartbeat(p))
    await run.step("StatusNotification", status_available(p))
    for token in ("TOKEN-1", "BLOCKED", "UNKNOWN"):
        await run.step("Authorize", authorize(p, token))


async def station(run, args):
    """What a charger says to the stations component: who it is, that it lives, its
    connector's statuses (connector 1, then connector 9, which the station lacks)."""
    p = args.protocol
    await run.step("BootNotification", boot(p))
    await run.step("Heartbeat", heartbeat(p))
    for name in STATION_STATUSES[p]:
        await run.step("StatusNotification", status(p, name))
    await run.step("StatusNotification", status(p, "available", connector=9))


async def authorize_tokens(run, args):
    """BootNotification, then one Authorize per --token, in order."""
    p = args.protocol
    await run.step("BootNotification", boot(p))
    for token in args.token:
        await run.step("Authorize", authorize(p, token))


async def fault(run, args):
    p = args.protocol
    await run.step("DataTransfer", data_transfer(p, "trap"))
    await run.step("Heartbeat", heartbeat(p))
    await run.step("DataTransfer", data_transfer(p, "error"))
    await run.step("DataTransfer", data_transfer(p, "bad-response"))
    await run.step("Heartbeat", heartbeat(p))


async def hold(run, args):
    p = args.protocol
    await run.step("BootNotification", boot(p))
    # A Heartbeat at every whole second after the boot, up to --hold seconds, then leave.
    start = time.monotonic()
    beat = 1
    while beat <= args.hold:
        await asyncio.sleep(max(0, start + beat - time.monotonic()))
        await run.step("Heartbeat", heartbeat(p))
        beat += 1
    await asyncio.sleep(max(0, start + args.hold - time.monotonic()))


def substitute(value, names):
    """`value` with each string "$name" replaced by names[name], at any depth."""
    if isinstance(value, str) and value.startswith("$") and value[1:] in names:
        return names[value[1:]]
    if isinstance(value, dict):
        return {k: substitute(v, names) for k, v in value.items()}
    if isinstance(value, list):
        return [substitute(v, names) for v in value]
    return value


async def plan(run, args):
    """The CALLs of --plan, a JSON list of {"action", "payload"} with camelCase payloads as
    OCPP writes them, in order. "$transactionId" in a payload is the transactionId the last
    StartTransaction got (1.6), so a plan can start, meter and stop one transaction, and
    "$now" is the time the CALL is sent. An entry {"sleep": seconds} sends nothing for that
    long, staying connected: a charge point that falls silent, such as one whose heartbeats
    stopped."""
    p = args.protocol
    calls = call16 if p == "1.6" else call201
    names = {}
    for entry in json.loads(args.plan):
        if "sleep" in entry:
            await asyncio.sleep(entry["sleep"])
            continue
        names["now"] = now()
        payload = substitute(entry.get("payload", {}), names)
        request = getattr(calls, entry["action"])(**camel_to_snake_case(payload))
        record = await run.step(entry["action"], request)
        transaction_id = (record.get("response") or {}).get("transactionId")
        if record["ok"] and transaction_id is not None:
            names["transactionId"] = transaction_id


SCENARIOS = {
    "basic": basic,
    "station": station,
    "authorize": authorize_tokens,
    "fault": fault,
    "hold": hold,
    "plan": plan,
}


# --- connection -------------------------------------------------------------------------


async def main(args):
    subprotocol = SUBPROTOCOLS[args.protocol]
    url = args.url.rstrip("/") + "/" + urllib.parse.quote(args.id, safe="")
    headers = {}
    if args.password is not None:
        credentials = f"{args.id}:{args.password}".encode()
        headers["Authorization"] = "Basic " + base64.b64encode(credentials).decode()

    try:
        ws = await connect(
            url,
            subprotocols=[subprotocol],
            additional_headers=headers,
            open_timeout=args.timeout,
            proxy=None,
        )
    except InvalidStatus as e:
        emit({"step": "connect", "ok": False, "status": e.response.status_code})
        return
    except NegotiationError as e:
        # websockets refuses a subprotocol it did not offer: "unsupported subprotocol: X".
        chosen = str(e).rpartition(": ")[2] if "unsupported subprotocol" in str(e) else None
        emit({"step": "connect", "ok": False, "subprotocol": chosen, "error": {"exception": type(e).__name__, "description": str(e)}})
        return
    except (OSError, asyncio.TimeoutError, TimeoutError, websockets.exceptions.InvalidHandshake) as e:
        emit({"step": "connect", "ok": False, "error": {"exception": type(e).__name__, "description": str(e)}})
        return

    async with ws:
        if ws.subprotocol != subprotocol:
            emit({"step": "connect", "ok": False, "subprotocol": ws.subprotocol})
            return
        emit({"step": "connect", "ok": True, "subprotocol": ws.subprotocol})

        cls = ChargePoint16 if args.protocol == "1.6" else ChargePoint201
        cp = cls(args.id, ws, response_timeout=args.timeout)
        cp.answer = args.answer
        reader = asyncio.ensure_future(cp.start())
        try:
            await SCENARIOS[args.scenario](Runner(cp, reader), args)
        finally:
            reader.cancel()
            await asyncio.gather(reader, return_exceptions=True)


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", required=True, help="ws://HOST:PORT/ocpp; the id is appended")
    parser.add_argument("--id", required=True, help="the charge point id (and Basic auth user name)")
    parser.add_argument("--password", help="HTTP Basic auth password; without it no Authorization header")
    parser.add_argument("--protocol", choices=sorted(SUBPROTOCOLS), default="1.6")
    parser.add_argument("--scenario", choices=sorted(SCENARIOS), required=True)
    parser.add_argument("--timeout", type=float, default=10, help="seconds to wait for each response")
    parser.add_argument("--hold", type=float, default=5, help="seconds the hold scenario stays connected")
    parser.add_argument("--token", action="append", default=[], help="a token the authorize scenario presents")
    parser.add_argument("--plan", default="[]", help='the plan scenario\'s CALLs: [{"action": ..., "payload": {...}}, ...]')
    parser.add_argument("--answer", choices=["accept", "error", "silent"], default="accept", help="how to answer the CSMS's CALLs")
    parser.add_argument("--verbose", action="store_true", help="log every OCPP message on stderr")
    return parser.parse_args()


if __name__ == "__main__":
    arguments = parse_args()
    logging.basicConfig(
        stream=sys.stderr,
        level=logging.INFO if arguments.verbose else logging.WARNING,
        format="%(asctime)s %(name)s %(levelname)s %(message)s",
    )
    asyncio.run(main(arguments))
