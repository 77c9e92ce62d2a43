#!/usr/bin/env python3
"""Stand-ins for the link-local services, for the linklocal tests and bench:
a metadata HTTP server (TCP 80), a resolver (UDP 53) and a time server
(UDP 123) on every ADDR given. The HTTP server closes each connection first,
after its answer. Prints "ready" once every socket is bound.

usage: linklocal_peer.py ADDR...
"""
import selectors
import socket
import struct
import sys
import threading


def serve_http(listener):
    while True:
        conn, _ = listener.accept()
        with conn:
            request = b""
            while b"\r\n\r\n" not in request:
                chunk = conn.recv(4096)
                if not chunk:
                    break
                request += chunk
            body = b"ami-id\nhostname\ninstance-id\n"
            conn.sendall(b"HTTP/1.0 200 OK\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s" % (len(body), body))
            conn.shutdown(socket.SHUT_WR)  # the server closes first: the client never holds TIME_WAIT
            while conn.recv(4096):
                pass


def dns_answer(query):
    # the query back with QR and an empty answer section: enough for a client
    if len(query) < 12:
        return query
    flags = struct.unpack("!H", query[2:4])[0] | 0x8000
    return query[:2] + struct.pack("!H", flags) + query[4:]


def main():
    selector = selectors.DefaultSelector()
    for address in sys.argv[1:]:
        family = socket.AF_INET6 if ":" in address else socket.AF_INET
        listener = socket.socket(family, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((address, 80))
        listener.listen(64)
        threading.Thread(target=serve_http, args=(listener,), daemon=True).start()
        for port in (53, 123):
            udp = socket.socket(family, socket.SOCK_DGRAM)
            udp.bind((address, port))
            selector.register(udp, selectors.EVENT_READ, port)
    print("ready", flush=True)
    while True:
        for key, _ in selector.select():
            data, peer = key.fileobj.recvfrom(4096)
            key.fileobj.sendto(dns_answer(data) if key.data == 53 else data[:48], peer)


if __name__ == "__main__":
    main()
