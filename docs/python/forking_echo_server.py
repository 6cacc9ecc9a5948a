#!/usr/bin/env python3
"""The Unix answer: a child process per connection (os.fork), blocking calls inside; the parent
closes its copy of the connection and goes back to accept(). Run: python3 forking_echo_server.py [port]
"""
import os
import signal
import socket
import sys

port = int(sys.argv[1]) if len(sys.argv) > 1 else 10000
signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # children that exit are reaped by the kernel


def handle(conn, addr):
    with conn:
        print("process", os.getpid(), "serving", addr, flush=True)
        while True:
            data = conn.recv(1024)
            if not data:
                break
            conn.sendall(data)


with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as server:
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(("localhost", port))
    server.listen(128)
    print("starting up on localhost port", port, flush=True)
    while True:
        conn, addr = server.accept()
        if os.fork() == 0:           # the child: serve this one connection, then exit
            server.close()
            handle(conn, addr)
            os._exit(0)
        conn.close()                 # the parent: the child has its own copy
