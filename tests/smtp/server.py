"""A real SMTP server for the email black-box tests, built on the aiosmtpd package.

It listens on 127.0.0.1 on a port the system picks and prints one JSON object per line:
first `{"listening": PORT}`, then one per message, as the server saw it:

- `{"event": "received", "mail_from", "rcpt_tos", "subject", "from", "to", "text",
  "message_id", "date"}`, the header fields and the plain-text body parsed from the
  message's RFC 5322 text;
- `{"event": "refused", "code": 451, "rcpt_tos"}` for a message answered 451, which
  `--refuse-first N` does to the first N messages;
- `{"event": "bounced", "code": 550, "address"}` for a recipient whose local part is
  "bounce", refused for good at RCPT.
"""

import argparse
import asyncio
import email
import email.policy
import json
import sys

from aiosmtpd.smtp import SMTP


def report(line):
    print(json.dumps(line), flush=True)


class Recorder:
    """aiosmtpd's handler: decides each recipient and message, and reports what came."""

    def __init__(self, refuse_first):
        self.refuse_left = refuse_first

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.split("@")[0].lower() == "bounce":
            report({"event": "bounced", "code": 550, "address": address})
            return "550 5.1.1 No such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.refuse_left > 0:
            self.refuse_left -= 1
            report({"event": "refused", "code": 451, "rcpt_tos": envelope.rcpt_tos})
            return "451 4.3.0 Busy, try again later"
        message = email.message_from_bytes(envelope.original_content, policy=email.policy.default)
        body = message.get_body(preferencelist=("plain",))
        report({
            "event": "received",
            "mail_from": envelope.mail_from,
            "rcpt_tos": envelope.rcpt_tos,
            "subject": message["Subject"],
            "from": message["From"],
            "to": message["To"],
            "text": body.get_content().replace("\r\n", "\n") if body is not None else None,
            "message_id": message["Message-ID"],
            "date": message["Date"],
        })
        return "250 Message accepted"


async def serve(refuse_first):
    handler = Recorder(refuse_first)
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: SMTP(handler, hostname="smtp.test"), "127.0.0.1", 0)
    report({"listening": server.sockets[0].getsockname()[1]})
    async with server:
        await server.serve_forever()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--refuse-first", type=int, default=0, help="answer 451 to the first N messages")
    args = parser.parse_args()
    try:
        asyncio.run(serve(args.refuse_first))
    except KeyboardInterrupt:
        sys.exit(0)


if __name__ == "__main__":
    main()
