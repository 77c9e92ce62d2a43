#!/usr/bin/env python3
"""A TCP listener for connection storms: accepts and closes as fast as it can.

Usage: accept_sink.py ADDR:PORT   (prints "ready" once listening)
"""
import socket
import sys

host, port = sys.argv[1].rsplit(":", 1)
listener = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
listener.bind((host.strip("[]"), int(port)))
listener.listen(4096)
print("ready", flush=True)
while True:
    connection, _ = listener.accept()
    connection.close()
