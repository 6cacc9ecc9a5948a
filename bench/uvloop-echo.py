#!/usr/bin/env python3
"""uvloop's protocol echo server, as uvloop's own benchmark runs it: asyncio on uvloop (libuv), one
asyncio.Protocol whose data_received() writes back what it was given (MagicStack/vmbench,
servers/asyncioecho.py --proto --uvloop, the "uvloop/minproto" line of uvloop's published figures).

  python3 bench/uvloop-echo.py [--host 127.0.0.1] [--port 10000]

Says "starting up on HOST port P" on stderr once listening; SIGINT or SIGTERM closes the listener
and every connection and exits 0. Needs Debian's python3-uvloop (or uvloop from PyPI).
"""
import argparse
import asyncio
import resource
import signal
import socket
import sys

import uvloop


class EchoProtocol(asyncio.Protocol):
    def connection_made(self, transport):
        self.transport = transport
        transports.add(transport)
        sock = transport.get_extra_info("socket")
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def connection_lost(self, exc):
        transports.discard(self.transport)
        self.transport = None

    def data_received(self, data):
        self.transport.write(data)


transports = set()


def raise_nofile():
    """Python keeps the soft open-file limit it was given (Node raises its own): 10,000 connections need more."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


async def serve(host, port):
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for signo in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signo, stop.set)
    server = await loop.create_server(EchoProtocol, host, port, backlog=128)
    print("starting up on %s port %d" % (host, server.sockets[0].getsockname()[1]), file=sys.stderr, flush=True)
    await stop.wait()
    server.close()
    for transport in list(transports):
        transport.abort()
    await server.wait_closed()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=10000)
    args = parser.parse_args()
    raise_nofile()
    loop = uvloop.new_event_loop()
    asyncio.set_event_loop(loop)
    try:
        loop.run_until_complete(serve(args.host, args.port))
    finally:
        loop.close()


if __name__ == "__main__":
    main()
