#!/usr/bin/env python3
"""A client that makes COUNT TCP connections to HOST:PORT at RATE per second
(0: as fast as it can), each closed at once; refused connections count too.
Prints "done COUNT" at the end. For the `top` and --alert tests and demo.

usage: connect_loop.py COUNT RATE HOST PORT
"""
import socket
import sys
import time


def main():
    count, rate, host, port = int(sys.argv[1]), float(sys.argv[2]), sys.argv[3], int(sys.argv[4])
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    start = time.monotonic()
    for i in range(count):
        if rate > 0:
            delay = start + i / rate - time.monotonic()
            if delay > 0:
                time.sleep(delay)
        s = socket.socket(family, socket.SOCK_STREAM)
        try:
            s.connect((host, port))
        except OSError:
            pass
        finally:
            s.close()
    print("done", count, flush=True)


if __name__ == "__main__":
    main()
