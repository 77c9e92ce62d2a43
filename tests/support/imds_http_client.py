#!/usr/bin/env python3
"""IMDS clients that send their requests in different ways, for the HTTP
capture tests. Each prints the session token it used (if any) and the status
of every response, so a test can check both the server's answer and that
the token never shows up in connsnoop's output.

  keepalive HOST  PUT a token, then two GETs with it, on ONE connection (http.client)
  writev HOST     an IMDSv1 GET sent with os.writev, three buffers
  sendmsg HOST    an IMDSv1 GET sent with socket.sendmsg, three buffers
"""
import http.client
import os
import socket
import sys

TOKEN_HEADER = "X-aws-ec2-metadata-token"


def keepalive(host):
    conn = http.client.HTTPConnection(host, 80, timeout=5)
    conn.request("PUT", "/latest/api/token", headers={TOKEN_HEADER + "-ttl-seconds": "60"})
    response = conn.getresponse()
    token = response.read().decode()
    print("status", response.status)
    for path in ("/latest/meta-data/", "/latest/meta-data/instance-id"):
        conn.request("GET", path, headers={TOKEN_HEADER: token, "User-Agent": "keepalive-client/1.0"})
        response = conn.getresponse()
        response.read()
        print("status", response.status)
    print("token", token)
    conn.close()


def send_buffers(host, use_sendmsg):
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.create_connection((host, 80), timeout=5)
    agent = "sendmsg-client/1.0" if use_sendmsg else "writev-client/1.0"
    buffers = [
        b"GET /latest/meta-data/ HTTP/1.1\r\n",
        b"Host: " + host.encode() + b"\r\n",
        b"User-Agent: " + agent.encode() + b"\r\nConnection: close\r\n\r\n",
    ]
    if use_sendmsg:
        sock.sendmsg(buffers)
    else:
        os.writev(sock.fileno(), buffers)
    reply = b""
    while chunk := sock.recv(4096):
        reply += chunk
    print("status", reply.split(b" ", 2)[1].decode(), family)


def main():
    mode, host = sys.argv[1], sys.argv[2]
    if mode == "keepalive":
        keepalive(host)
    else:
        send_buffers(host, mode == "sendmsg")


if __name__ == "__main__":
    main()
