#!/usr/bin/env python3
"""A fault-injecting HTTP proxy on loopback in front of moto_server, for the EC2 provider's fault tests.

    ec2_fault_proxy.py UPSTREAM_URL CONTROL_FILE LOG_FILE PORT_FILE

Listens on 127.0.0.1 (a free port, written to PORT_FILE) and forwards to UPSTREAM_URL, which must be a loopback
address. CONTROL_FILE (JSON, re-read on every request) decides the answer:
  {"mode": "pass"}                      forward everything
  {"mode": "500"}                       answer 500 InternalError to every request
  {"mode": "throttle"}                  answer 503 RequestLimitExceeded to every request
  {"fail": {"TerminateInstances": "UnauthorizedOperation"}}   answer 403 with that code for one action
Every request's action (Action= or X-Amz-Target) is appended to LOG_FILE, one per line, with the body for
X-Amz-Target requests. Bounded: it serves at most 100000 requests, then exits.
"""
import http.server
import json
import sys
import urllib.parse
import urllib.request

upstream, control_file, log_file, port_file = sys.argv[1:5]
if urllib.parse.urlparse(upstream).hostname not in ("127.0.0.1", "localhost", "::1"):
    sys.exit("upstream must be a loopback address")

ERROR = '<?xml version="1.0" encoding="UTF-8"?><Response><Errors><Error><Code>{code}</Code><Message>{message}</Message></Error></Errors><RequestID>fault-proxy</RequestID></Response>'


class Handler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        target = self.headers.get("X-Amz-Target")
        action = target or urllib.parse.parse_qs(body.decode("utf-8", "replace")).get("Action", ["?"])[0]
        with open(log_file, "a") as log:
            log.write(action + ("\t" + body.decode("utf-8", "replace") if target else "") + "\n")
        try:
            with open(control_file) as handle:
                control = json.load(handle)
        except (OSError, ValueError):
            control = {"mode": "pass"}
        mode = control.get("mode", "pass")
        failing = control.get("fail", {}).get(action)
        if mode == "500":
            return self.answer(500, ERROR.format(code="InternalError", message="injected by the fault proxy"))
        if mode == "throttle":
            return self.answer(503, ERROR.format(code="RequestLimitExceeded", message="Request limit exceeded."))
        if failing:
            return self.answer(403, ERROR.format(code=failing, message="injected failure of " + action))
        request = urllib.request.Request(upstream + self.path, data=body, method="POST")
        for name, value in self.headers.items():
            if name.lower() not in ("host", "content-length", "connection"):
                request.add_header(name, value)
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                self.answer(response.status, response.read(), response.headers.get("Content-Type"))
        except urllib.error.HTTPError as error:
            self.answer(error.code, error.read(), error.headers.get("Content-Type"))

    def answer(self, status, payload, content_type="text/xml"):
        data = payload.encode() if isinstance(payload, str) else payload
        self.send_response(status)
        self.send_header("Content-Type", content_type or "text/xml")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
with open(port_file, "w") as handle:
    handle.write(str(server.server_address[1]))
for _ in range(100000):
    server.handle_request()
