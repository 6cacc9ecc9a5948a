#!/usr/bin/env python3
"""The echo server of select_echo_server.py, on the selectors module.

Written the way the selectors documentation writes a server: every registered socket carries,
as its key's data, the function to call when it is ready, the loop only dispatches, and what is
received is sent back at once. The same printed lines and the same guarantees as the select()
version: an outbound queue per client, write interest only while the kernel has not taken
everything queued, everything queued delivered before a half-closed client is closed, a reset
client dropped without disturbing the others.
Run: python3 selectors_echo_server.py [port] [--quiet] [--selector select|poll|epoll]
"""
import queue
import selectors
import socket
import sys

port = int(next((a for a in sys.argv[1:] if a.isdigit()), 10000))
quiet = "--quiet" in sys.argv
backend = sys.argv[sys.argv.index("--selector") + 1] if "--selector" in sys.argv else None


def say(*args):
    if not quiet:
        print(*args, file=sys.stderr, flush=True)


backends = {"select": "SelectSelector", "poll": "PollSelector", "epoll": "EpollSelector"}
sel = getattr(selectors, backends[backend])() if backend else selectors.DefaultSelector()

server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
server.setblocking(False)
say("starting up on localhost port", port)
server.bind(("localhost", port))
server.listen(128)

message_queues = {}        # outgoing data, per socket
peers = {}                 # client address, per socket: getpeername() fails once the peer is gone


def drop(s):
    """Forget a client everywhere and close it."""
    sel.unregister(s)
    message_queues.pop(s, None)
    peers.pop(s, None)
    s.close()


def accept(server, mask):
    connection, client_address = server.accept()
    say("new connection from", client_address)
    connection.setblocking(False)
    message_queues[connection] = queue.Queue()
    peers[connection] = client_address
    sel.register(connection, selectors.EVENT_READ, serve)


def send_queued(s):
    """Send what is queued for s now, as far as the kernel takes it; watch for writable only
    while something is left (writable is almost always true: watching it idle would spin)."""
    while not message_queues[s].empty():
        next_msg = message_queues[s].get_nowait()
        say('sending "%r" to %s' % (next_msg, peers[s]))
        try:
            sent = s.send(next_msg)
        except BlockingIOError:
            sent = 0
        except (BrokenPipeError, ConnectionResetError):
            say("closing", peers[s], "after a failed send")
            drop(s)
            return
        if sent < len(next_msg):
            # keep what the kernel did not take, in front of the queue
            rest = queue.Queue()
            rest.put(next_msg[sent:])
            while not message_queues[s].empty():
                rest.put(message_queues[s].get_nowait())
            message_queues[s] = rest
            break
    reading = sel.get_key(s).events & selectors.EVENT_READ
    if message_queues[s].empty():
        say("output queue for", peers[s], "is empty")
        if not reading:  # half-closed by the peer and fully answered: done
            say("closing", peers[s], "after reading no data")
            drop(s)
            return
    events = reading | (0 if message_queues[s].empty() else selectors.EVENT_WRITE)
    if events != sel.get_key(s).events:
        sel.modify(s, events, serve)


def serve(s, mask):
    if s not in peers:
        return  # closed earlier in this round
    if mask & selectors.EVENT_READ:
        try:
            data = s.recv(65536)
        except ConnectionResetError:
            say("closing", peers[s], "after a reset")
            drop(s)
            return
        if data:
            say('received "%r" from %s' % (data, peers[s]))
            message_queues[s].put(data)
            send_queued(s)  # at once, as the selectors documentation's echo server does
        elif message_queues[s].empty():
            say("closing", peers[s], "after reading no data")
            drop(s)
        else:
            # The peer is done sending: stop reading, deliver what is still queued, then close.
            sel.modify(s, selectors.EVENT_WRITE, serve)
    elif mask & selectors.EVENT_WRITE:
        send_queued(s)


sel.register(server, selectors.EVENT_READ, accept)

while True:
    say("waiting for the next event")
    events = sel.select()
    for key, mask in events:
        callback = key.data
        callback(key.fileobj, mask)
