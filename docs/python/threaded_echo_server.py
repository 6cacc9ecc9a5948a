#!/usr/bin/env python3
"""The socket HOWTO's "delegate to threads" answer: a blocking accept() loop, one thread per
connection, blocking calls inside. Run: python3 threaded_echo_server.py [port]
"""
import socket
import sys
import threading

port = int(sys.argv[1]) if len(sys.argv) > 1 else 10000


def handle(conn, addr):
    with conn:
        print("thread", threading.get_ident(), "serving", addr, flush=True)
        while True:
            data = conn.recv(1024)
            if not data:             # the peer closed its side
                break
            conn.sendall(data)
    print("thread", threading.get_ident(), "done with", addr, flush=True)


with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as server:
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(("localhost", port))
    server.listen(128)
    print("starting up on localhost port", port, flush=True)
    try:
        while True:
            conn, addr = server.accept()
            threading.Thread(target=handle, args=(conn, addr), daemon=True).start()
    except KeyboardInterrupt:
        pass                         # daemon threads die with the process
