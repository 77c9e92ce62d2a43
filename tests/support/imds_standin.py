#!/usr/bin/env python3
"""A stand-in EC2 instance metadata service, for tests and the demo.

Runs inside a private network namespace on the addresses given (default
169.254.169.254 and fd00:ec2::254, port 80). Implements the IMDSv2 token
flow: PUT /latest/api/token returns a token; a GET carrying an unknown token
is refused with 401; a GET without one is served (IMDSv1). Prints "ready"
once every socket listens, then serves until killed.

With --overloaded first, it models an exhausted service instead: each socket
listens with a backlog of 0 and never accepts, and the server connects to it
once itself, so the accept queue is full and every later SYN is dropped:
clients time out in SYN_SENT.
"""
import http.server
import secrets
import socket
import sys
import threading

TOKEN_HEADER = "X-aws-ec2-metadata-token"
TTL_HEADER = "X-aws-ec2-metadata-token-ttl-seconds"
TOKENS = set()
DOCUMENTS = {
    "/latest/meta-data/": "ami-id\ninstance-id\niam/\n",
    "/latest/meta-data/instance-id": "i-0123456789abcdef0",
    "/latest/meta-data/iam/security-credentials/": "web-role",
    "/latest/meta-data/iam/security-credentials/web-role": '{"Code":"Success","AccessKeyId":"ASIAEXAMPLE"}',
}


class MetadataHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def reply(self, status, body):
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_PUT(self):
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        if self.path != "/latest/api/token" or not self.headers.get(TTL_HEADER):
            self.reply(400, "bad request")
            return
        token = secrets.token_urlsafe(32)
        TOKENS.add(token)
        self.reply(200, token)

    def do_GET(self):
        token = self.headers.get(TOKEN_HEADER)
        if token is not None and token not in TOKENS:
            self.reply(401, "unauthorized")
            return
        body = DOCUMENTS.get(self.path)
        self.reply(200 if body is not None else 404, body if body is not None else "not found")


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def handle_error(self, request, client_address):
        # Load generators close with RST; a reset client is not the server's error.
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


def serve(host, port):
    Server.address_family = socket.AF_INET6 if ":" in host else socket.AF_INET
    server = Server((host, port), MetadataHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return server


def stall(host, port):
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    listener = socket.socket(family, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind((host, port))
    listener.listen(0)
    queued = socket.create_connection((host, port))  # the one connection the queue holds
    return listener, queued


def main():
    args = sys.argv[1:]
    overloaded = bool(args) and args[0] == "--overloaded"
    endpoints = args[1:] if overloaded else args
    endpoints = endpoints or ["169.254.169.254:80", "[fd00:ec2::254]:80"]
    keep = []
    for endpoint in endpoints:
        host, _, port = endpoint.rpartition(":")
        keep.append((stall if overloaded else serve)(host.strip("[]"), int(port)))
    print("ready", flush=True)
    threading.Event().wait()


if __name__ == "__main__":
    main()
