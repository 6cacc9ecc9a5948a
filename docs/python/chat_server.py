#!/usr/bin/env python3
"""The socket HOWTO's "simple chat" on the select() echo server's loop: every line a client sends
goes to every other client, each with its own outbound queue. Run: python3 chat_server.py [port]
"""
import select
import socket
import sys

port = int(sys.argv[1]) if len(sys.argv) > 1 else 10000

server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
server.setblocking(False)
server.bind(("localhost", port))
server.listen(128)
print("starting up on localhost port", port, flush=True)

inputs = [server]
outputs = []
outbox = {}    # bytes queued for each client
partial = {}   # the start of a line not yet ended, per client
peers = {}


def drop(s):
    for lst in (inputs, outputs):
        if s in lst:
            lst.remove(s)
    for d in (outbox, partial, peers):
        d.pop(s, None)
    s.close()


def broadcast(sender, line):
    for s in peers:
        if s is not sender:
            outbox[s] += line
            if s not in outputs:
                outputs.append(s)


while inputs:
    readable, writable, exceptional = select.select(inputs, outputs, inputs)
    for s in readable:
        if s is server:
            conn, addr = s.accept()
            conn.setblocking(False)
            inputs.append(conn)
            outbox[conn], partial[conn], peers[conn] = b"", b"", addr
            print("new connection from", addr, flush=True)
        else:
            data = s.recv(65536)
            if not data:
                print("closing", peers[s], flush=True)
                drop(s)
                continue
            *lines, partial[s] = (partial[s] + data).split(b"\n")
            for line in lines:
                broadcast(s, b"%s:%d: %s\n" % (peers[s][0].encode(), peers[s][1], line))
    for s in writable:
        if s in outbox:
            sent = s.send(outbox[s])
            outbox[s] = outbox[s][sent:]
            if not outbox[s]:
                outputs.remove(s)
    for s in exceptional:
        drop(s)
