#!/usr/bin/env python3
"""Clients of the link-local services, for the linklocal tests and bench.
Each waits for every answer before it closes, so that every packet of its
exchange reaches its own socket, and prints the local ports it used
("ports P1 P2 ...") and "done".

usage: linklocal_client.py dns-flood COUNT ADDR [NAME...]
                                                    COUNT queries, unconnected sendto; for the NAMEs
                                                    in turn if given (dot-separated labels, any bytes)
       linklocal_client.py poll COUNT ADDR          COUNT HTTP GETs, one TCP connection each
       linklocal_client.py ntp COUNT ADDR           COUNT 48-byte requests on a connected socket
"""
import os
import socket
import struct
import sys


def family_of(address):
    return socket.AF_INET6 if ":" in address else socket.AF_INET


def wire_name(labels):
    return b"".join(bytes([len(label)]) + label for label in labels) + b"\0"


def dns_flood(count, address, names=()):
    wire_names = [wire_name(os.fsencode(name).split(b".")) for name in names]
    s = socket.socket(family_of(address), socket.SOCK_DGRAM)
    s.bind(("::" if ":" in address else "0.0.0.0", 0))
    s.settimeout(5)
    for i in range(count):
        name = wire_names[i % len(wire_names)] if wire_names else wire_name((b"q%d" % i, b"flood", b"test"))
        query = struct.pack("!HHHHHH", i & 0xFFFF, 0x0100, 1, 0, 0, 0) + name + struct.pack("!HH", 1, 1)
        s.sendto(query, (address, 53))
        s.recvfrom(4096)
    return [s.getsockname()[1]]


def poll(count, address):
    ports = []
    for _ in range(count):
        s = socket.create_connection((address, 80), timeout=5)
        ports.append(s.getsockname()[1])
        s.sendall(b"GET /latest/meta-data/ HTTP/1.0\r\nHost: metadata\r\n\r\n")
        while s.recv(4096):  # to the server's FIN
            pass
        s.close()
    return ports


def ntp(count, address):
    s = socket.socket(family_of(address), socket.SOCK_DGRAM)
    s.settimeout(5)
    s.connect((address, 123))
    for _ in range(count):
        s.send(b"\x23" + b"\0" * 47)
        s.recv(4096)
    return [s.getsockname()[1]]


def main():
    role, count, address = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    if role == "dns-flood":
        ports = dns_flood(count, address, sys.argv[4:])
    else:
        ports = {"poll": poll, "ntp": ntp}[role](count, address)
    print("ports", *ports, flush=True)
    print("done", flush=True)


if __name__ == "__main__":
    main()
