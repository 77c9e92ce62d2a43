#!/usr/bin/env python3
"""Request heads in the shapes real clients send them, byte for byte, for the
HTTP capture tests (tests/integration/http_request_shapes_test.cpp). Each
mode talks to the stand-in metadata service (imds_standin.py) over a raw
socket and prints what the server answered, so a test checks the server's
view as well as connsnoop's:

  lf-bare HOST          "GET /latest/meta-data/\\n" (HTTP/0.9 style, no
                        version, no headers), then shuts its side down
  crlf-bare HOST        the same ending in CRLF, for /latest/meta-data/instance-id
  lf-headers HOST       a token (PUT), then "GET /latest/meta-data/\\n" in one
                        send and its token header and blank line in another
  lf-version HOST       HTTP/1.1 with every line ending in a bare LF
  http10 HOST           "GET /latest/meta-data/ HTTP/1.0" and no header at all
  split-sends HOST      the request line cut in two sends (TCP_NODELAY)
  split-segments HOST   one send that TCP cuts into segments (MSS 88)
  pipelined HOST        two GETs in one send
  pipelined-split HOST  a GET and the start of a second in one send, its rest
                        in another
  header-case HOST      PUT and GET with header names in other letter cases
  long-path HOST        a 300-byte path
  huge-path HOST        a 2000-byte path (more than the 1 KiB scanned)
  cut-version HOST      a 1015-byte path: the 1 KiB scanned ends in the version
  body-then-get HOST    a token PUT with a 4-byte body ("STOP") in one send,
                        then a GET on the same connection
  other-protocol HOST   "GET /latest/meta-data/ RTSP/1.0" with no line end,
                        then shuts its side down

Prints "status N" per response (or "body FIRST-LINE" for an HTTP/0.9 reply,
which has no status line), "segments N" where it knows how many TCP segments
its head took, and "token T" when it used one.
"""
import http.client
import re
import socket
import sys
import time

TOKEN_HEADER = "X-aws-ec2-metadata-token"


def connect(host, mss=None):
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    if mss:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_MAXSEG, mss)
    sock.settimeout(5)
    sock.connect((host, 80))
    return sock


def read_all(sock):
    reply = b""
    while chunk := sock.recv(65536):
        reply += chunk
    return reply


def print_statuses(reply):
    for status in re.findall(rb"HTTP/1\.[01] (\d{3}) ", reply):
        print("status", status.decode())


def print_body(reply):
    print("body", reply.split(b"\n")[0].decode())


def get_token(host):
    conn = http.client.HTTPConnection(host, 80, timeout=5)
    conn.request("PUT", "/latest/api/token", headers={TOKEN_HEADER + "-ttl-seconds": "60"})
    token = conn.getresponse().read().decode()
    conn.close()
    return token


def version_less(host, head):
    sock = connect(host)
    sock.sendall(head)
    sock.shutdown(socket.SHUT_WR)  # the server reads headers until EOF
    print_body(read_all(sock))


def lf_headers(host):
    token = get_token(host)
    sock = connect(host)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.sendall(b"GET /latest/meta-data/\n")
    time.sleep(0.3)
    sock.sendall(TOKEN_HEADER.encode() + b": " + token.encode() + b"\n\n")
    print_body(read_all(sock))
    print("token", token)


def send_parts(host, parts, nodelay=True):
    sock = connect(host)
    if nodelay:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    for i, part in enumerate(parts):
        if i:
            time.sleep(0.3)
        sock.sendall(part)
    print_statuses(read_all(sock))


def split_segments(host):
    head = (
        b"GET /latest/meta-data/tags/instance/" + b"k" * 70 + b" HTTP/1.1\r\n"
        b"Host: " + host.encode() + b"\r\nUser-Agent: segments-client/1.0\r\nConnection: close\r\n\r\n"
    )
    sock = connect(host, mss=88)
    # What TCP cuts the send into: the MSS in use (options taken off).
    mss = sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_MAXSEG)
    sock.sendall(head)
    print("segments", -(-len(head) // mss))
    print_statuses(read_all(sock))


def header_case(host):
    conn = http.client.HTTPConnection(host, 80, timeout=5)
    conn.request("PUT", "/latest/api/token", headers={"x-aws-ec2-metadata-token-ttl-seconds": "60"})
    response = conn.getresponse()
    token = response.read().decode()
    print("status", response.status)
    conn.request(
        "GET",
        "/latest/meta-data/",
        headers={"HOST": host, "X-AWS-EC2-METADATA-TOKEN": token, "user-agent": "case-client/1.0"},
    )
    response = conn.getresponse()
    response.read()
    print("status", response.status)
    print("token", token)
    conn.close()


def with_path(host, path):
    head = b"GET " + path + b" HTTP/1.1\r\nHost: " + host.encode() + b"\r\n"
    head += b"User-Agent: path-client/1.0\r\nConnection: close\r\n\r\n"
    send_parts(host, [head], nodelay=False)


def main():
    mode, host = sys.argv[1], sys.argv[2]
    h = host.encode()
    get = b"GET /latest/meta-data/ HTTP/1.1\r\nHost: " + h + b"\r\n\r\n"
    last = b"GET /latest/meta-data/instance-id HTTP/1.1\r\nHost: " + h + b"\r\nConnection: close\r\n\r\n"
    if mode == "lf-bare":
        version_less(host, b"GET /latest/meta-data/\n")
    elif mode == "crlf-bare":
        version_less(host, b"GET /latest/meta-data/instance-id\r\n")
    elif mode == "lf-headers":
        lf_headers(host)
    elif mode == "lf-version":
        send_parts(
            host,
            [
                b"GET /latest/meta-data/instance-id HTTP/1.1\nHost: " + h + b"\n"
                b"User-Agent: lf-client/1.0\nConnection: close\n\n"
            ],
        )
    elif mode == "http10":
        send_parts(host, [b"GET /latest/meta-data/ HTTP/1.0\r\n\r\n"])
    elif mode == "split-sends":
        send_parts(host, [b"GET /latest/me", last[len(b"GET /latest/me") :]])
    elif mode == "split-segments":
        split_segments(host)
    elif mode == "pipelined":
        send_parts(host, [get + last])
    elif mode == "pipelined-split":
        send_parts(host, [get + b"GET /latest/me", last[len(b"GET /latest/me") :]])
    elif mode == "header-case":
        header_case(host)
    elif mode == "long-path":
        with_path(host, b"/latest/meta-data/" + b"p" * 282)
    elif mode == "huge-path":
        with_path(host, b"/latest/meta-data/" + b"q" * 1982)
    elif mode == "cut-version":
        with_path(host, b"/latest/meta-data/" + b"v" * 997)
    elif mode == "body-then-get":
        put = b"PUT /latest/api/token HTTP/1.1\r\nHost: " + h + b"\r\n"
        put += TOKEN_HEADER.encode() + b"-ttl-seconds: 60\r\nContent-Length: 4\r\n\r\nSTOP"
        send_parts(host, [put, b"GET /latest/meta-data/ HTTP/1.1\r\nHost: " + h + b"\r\nConnection: close\r\n\r\n"])
    elif mode == "other-protocol":
        version_less(host, b"GET /latest/meta-data/ RTSP/1.0")
    else:
        sys.exit("unknown mode " + mode)


if __name__ == "__main__":
    main()
