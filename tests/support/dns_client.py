#!/usr/bin/env python3
"""Sends DNS queries over UDP the ways resolvers do, for tests.

usage: dns_client.py MODE ADDRESS SOCKETS QUERY...
MODE: sendto (unconnected: sendto with the address every time), connect
(connect() then send), or mapped (an AF_INET6 socket sending to the
v4-mapped form of an IPv4 ADDRESS). Every QUERY is sent on each of SOCKETS
new sockets, to ADDRESS port 53, and its answer awaited (2 s at most).
QUERY is TYPE:NAME, TYPE a number or A/AAAA/TXT/PTR, NAME dotted (\\xHH for
any byte, a label may hold a dot as \\.), or TYPE:hex:HEX for a raw question
section (name, type and class) given in hex. Prints "sent N" at the end.
"""
import socket
import struct
import sys

TYPES = {"A": 1, "NS": 2, "PTR": 12, "TXT": 16, "AAAA": 28, "SRV": 33, "HTTPS": 65}


def labels(name):
    """Splits at unescaped dots; \\. is a dot inside a label, \\xHH any byte."""
    out, label, i = [], b"", 0
    while i < len(name):
        c = name[i]
        if c == "\\" and name[i + 1] == ".":
            label += b"."
            i += 2
        elif c == "\\" and name[i + 1] == "x":
            label += bytes([int(name[i + 2:i + 4], 16)])
            i += 4
        elif c == ".":
            out.append(label)
            label = b""
            i += 1
        else:
            label += c.encode()
            i += 1
    if label:
        out.append(label)
    return out


def question(query):
    kind, rest = query.split(":", 1)
    if rest.startswith("hex:"):
        return bytes.fromhex(rest[4:])
    qtype = TYPES.get(kind) or int(kind)
    wire = b"".join(bytes([len(label)]) + label for label in labels(rest)) + b"\0"
    return wire + struct.pack("!HH", qtype, 1)


def main():
    mode, address, sockets, queries = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4:]
    family = socket.AF_INET6 if ":" in address or mode == "mapped" else socket.AF_INET
    target = "::ffff:" + address if mode == "mapped" else address
    sent = 0
    for _ in range(sockets):
        s = socket.socket(family, socket.SOCK_DGRAM)
        s.settimeout(2)
        if mode == "connect":
            s.connect((target, 53))
        for number, query in enumerate(queries):
            message = struct.pack("!HHHHHH", 0x1000 + number, 0x0100, 1, 0, 0, 0) + question(query)
            if mode == "connect":
                s.send(message)
            else:
                s.sendto(message, (target, 53))
            sent += 1
            try:
                s.recv(4096)
            except socket.timeout:
                pass
        s.close()
    print(f"sent {sent}", flush=True)


if __name__ == "__main__":
    main()
