"""A webhook receiver for the black-box tests: a plain HTTP server that verifies each
delivery's signature with the `standardwebhooks` package (not Joule's code), and prints one
JSON line per request it gets.

The first line is {"listening": PORT}. Each request's line holds the webhook id, whether the
signature verified against the secret in --secret-file (read at each request, since the
secret exists only once the endpoint is registered), the timestamp's age in seconds, the
CloudEvent's type and id, and the status answered. --fail-first N answers 500 to the first
N requests of each webhook id, as a receiver that is briefly down.
"""

import argparse
import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from standardwebhooks import Webhook, WebhookVerificationError

lock = threading.Lock()
seen = {}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--secret-file", required=True)
    parser.add_argument("--fail-first", type=int, default=0)
    args = parser.parse_args()

    class Receiver(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("content-length", "0")))
            webhook_id = self.headers.get("webhook-id", "")
            line = {"webhookId": webhook_id, "path": self.path}
            try:
                with open(args.secret_file, encoding="utf-8") as file:
                    secret = file.read().strip()
                event = Webhook(secret).verify(body, dict(self.headers.items()))
                line.update(verified=True, type=event.get("type"), eventId=event.get("id"), data=event.get("data"))
            except (OSError, WebhookVerificationError, ValueError) as error:
                line.update(verified=False, error=str(error))
            timestamp = self.headers.get("webhook-timestamp", "")
            line["ageSeconds"] = time.time() - float(timestamp) if timestamp.isdigit() else None
            with lock:
                seen[webhook_id] = seen.get(webhook_id, 0) + 1
                status = 500 if seen[webhook_id] <= args.fail_first else 204
                line["answered"] = status
                print(json.dumps(line), flush=True)
            self.send_response(status)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, *_):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    print(json.dumps({"listening": server.server_address[1]}), flush=True)
    server.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
