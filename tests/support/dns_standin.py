#!/usr/bin/env python3
"""A stand-in DNS resolver on UDP port 53, for tests: answers every query it
receives with an empty response (QR set, same ID, NXDOMAIN), so that clients
of a connected socket never see ECONNREFUSED. Runs inside a private network
namespace on the addresses given (default 169.254.169.253 and fd00:ec2::253).
Prints "ready" once every socket is bound, then serves until killed.
"""
import select
import socket
import sys


def main():
    addresses = sys.argv[1:] or ["169.254.169.253", "fd00:ec2::253"]
    sockets = []
    for address in addresses:
        family = socket.AF_INET6 if ":" in address else socket.AF_INET
        s = socket.socket(family, socket.SOCK_DGRAM)
        s.bind((address, 53))
        sockets.append(s)
    print("ready", flush=True)
    while True:
        readable, _, _ = select.select(sockets, [], [])
        for s in readable:
            query, peer = s.recvfrom(4096)
            if len(query) < 12:
                continue
            # the question echoed back, QR and RCODE=3 set
            s.sendto(query[:2] + bytes([0x80 | query[2], 0x83]) + query[4:], peer)


if __name__ == "__main__":
    main()
