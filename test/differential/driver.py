#!/usr/bin/env python3
"""The oracle's side of test/differential.test.js: runs sequences of socket calls through
Python's own socket and select modules and says what each call returned or raised.

One JSON request per line on stdin ({"setup": ..., "steps": [...]}, see driver.js for the same
language spoken by select-reactor), one JSON answer per line on stdout ({"results": [...]}).
A call that would wait forever on a blocking socket is cut short by an alarm and reported as
{"blocked": true}; the sequence ends there (the other side never runs that step).
"""
import errno
import json
import os
import select
import shutil
import signal
import socket
import sys
import tempfile

BLOCKED_AFTER = 0.05  # seconds a call on a blocking socket may take before it counts as blocked


class Blocked(Exception):
    pass


def on_alarm(signum, frame):
    raise Blocked()


signal.signal(signal.SIGALRM, on_alarm)
BASE = tempfile.mkdtemp(prefix="srd-py-")
LOOPBACK = ("127.0.0.1", 0)


def pattern(step, n):
    """The bytes step `step` sends: the same on both sides."""
    return bytes((step * 31 + k * 7) & 0xFF for k in range(n))


def flags_of(names):
    value = 0
    for name in names or []:
        value |= getattr(socket, name)
    return value


class FileObject:
    """select() accepts any object with fileno()."""

    def __init__(self, s):
        self.s = s

    def fileno(self):
        return self.s.fileno()


class Run:
    """One sequence: its sockets (slots), their outboxes, their names, its directory."""

    def __init__(self, number):
        self.slots = []
        self.outbox = {}  # slot -> list of bytes: the model of select-reactor's socket.outbox
        self.names = {}  # slot -> getsockname() after the last step
        self.prefix = f"srd-{os.getpid()}-{number}-"
        self.dir = os.path.join(BASE, str(number))
        os.mkdir(self.dir)

    def close(self):
        for s in self.slots:
            s.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    def add(self, s):
        self.slots.append(s)
        self.outbox[len(self.slots) - 1] = []
        return len(self.slots) - 1

    # ---- addresses: the same symbol on both sides, whatever the ports and paths ----

    def address(self, spec, family):
        """An address from its symbol: a slot's name, an unused one, or a path of this run."""
        if "slot" in spec:
            return self.names.get(spec["slot"], LOOPBACK if family == socket.AF_INET else "")
        if family == socket.AF_UNIX:
            if "abstract" in spec:
                return "\0" + self.prefix + spec["abstract"]
            return os.path.join(self.dir, spec.get("path", "nowhere"))
        return ("127.0.0.1", 9) if spec.get("closed") else LOOPBACK

    def symbol(self, address):
        if address is None or address == "" or address == b"":
            return address if address is None else ""
        for slot, name in self.names.items():
            if name == address and name not in ("", b""):
                return {"slot": slot}
        if isinstance(address, tuple):
            return {"host": address[0], "port": 0 if address[1] == 0 else "other"}
        if isinstance(address, bytes):
            address = address.decode("latin-1")
        if address.startswith("\0"):
            name = address[1:]
            return {"abstract": name[len(self.prefix):] if name.startswith(self.prefix) else "other"}
        if address.startswith(self.dir + "/"):
            return {"path": address[len(self.dir) + 1:]}
        return {"unix": address}

    def remember_names(self):
        for slot, s in enumerate(self.slots):
            if s.fileno() >= 0:
                try:
                    self.names[slot] = s.getsockname()
                except OSError:
                    pass


def setup(run, kind):
    if kind in ("unix-stream", "unix-dgram", "unix-seqpacket"):
        kind_type = {"unix-stream": socket.SOCK_STREAM, "unix-dgram": socket.SOCK_DGRAM, "unix-seqpacket": socket.SOCK_SEQPACKET}
        a, b = socket.socketpair(socket.AF_UNIX, kind_type[kind])
    elif kind in ("tcp-listen", "unix-listen"):
        family = socket.AF_INET if kind == "tcp-listen" else socket.AF_UNIX
        a = socket.socket(family, socket.SOCK_STREAM)
        a.bind(LOOPBACK if family == socket.AF_INET else os.path.join(run.dir, "listener"))
        a.listen(5)
        b = socket.socket(family, socket.SOCK_STREAM)
        b.connect(a.getsockname())  # queued in the backlog: accept() steps take it
    elif kind == "tcp":
        listener = socket.socket()
        listener.bind(LOOPBACK)
        listener.listen(1)
        a = socket.create_connection(listener.getsockname())
        b, _ = listener.accept()
        listener.close()
    else:  # udp, udp-unconnected
        a, b = socket.socket(socket.AF_INET, socket.SOCK_DGRAM), socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        a.bind(LOOPBACK)
        b.bind(LOOPBACK)
        if kind == "udp":
            a.connect(b.getsockname())
            b.connect(a.getsockname())
    for s in (a, b):
        s.settimeout(0)  # non-blocking to start with: a call that would wait says so
        run.add(s)


def as_bytes(data):
    return {"hex": bytes(data).hex()}


def flush(run, slot, s):
    """The outbox's flush() as select-reactor documents it, on Python's calls: one gather write
    (a datagram each, on a message socket) after another until the kernel takes less than offered;
    never waiting unless the socket blocks. Returns the bytes written."""
    if s.fileno() < 0:
        raise OSError(errno.EBADF, os.strerror(errno.EBADF))
    queue = run.outbox[slot]
    timeout = s.gettimeout()
    if timeout is not None:
        s.setblocking(False)
    try:
        written = 0
        while queue:
            if s.type in (socket.SOCK_DGRAM, socket.SOCK_SEQPACKET):
                try:
                    written += s.send(queue[0])
                except BlockingIOError:
                    break
                except OSError as e:
                    if e.errno == errno.EMSGSIZE:
                        queue.pop(0)  # refused: reported once, and dropped
                    raise
                queue.pop(0)
                continue
            want = sum(len(b) for b in queue[:64])
            try:
                n = s.sendmsg(queue[:64])
            except BlockingIOError:
                break
            written += n
            left = n
            while left > 0:
                if left >= len(queue[0]):
                    left -= len(queue.pop(0))
                else:
                    queue[0] = queue[0][left:]
                    left = 0
            if n < want:
                break  # the kernel took what it could for now
        return written
    finally:
        if timeout is not None:
            s.settimeout(timeout)


def step(run, i, st):
    op = st["op"]
    if op == "create":
        s = socket.socket(getattr(socket, st["family"]), getattr(socket, st["type"]))
        before = s.gettimeout()
        if "timeout" in st:
            s.settimeout(st["timeout"])
        return [run.add(s), before]
    if op == "select":
        lists = []
        for entries in (st["r"], st["w"], st["x"]):
            lists.append([entry(run, e) for e in entries])
        ready = select.select(*lists, 0)
        return [positions(lists[l], ready[l]) for l in range(3)]
    slot = st["s"]
    if slot >= len(run.slots):
        return {"skip": True}
    s = run.slots[slot]
    flags = flags_of(st.get("flags"))
    if op == "send":
        return s.send(pattern(i, st["n"]), flags)
    if op == "sendall":
        return s.sendall(pattern(i, st["n"]), flags)
    if op == "sendto":
        return s.sendto(pattern(i, st["n"]), flags, run.address(st["to"], s.family))
    if op == "recv":
        return as_bytes(s.recv(st["n"], flags))
    if op == "recvfrom":
        data, address = s.recvfrom(st["n"], flags)
        return [as_bytes(data), run.symbol(address)]
    if op == "recv_into":
        buf = bytearray(b"\xee" * st["size"])
        n = s.recv_into(buf, st["nbytes"], flags)
        return [n, as_bytes(buf)]
    if op == "shutdown":
        return s.shutdown(getattr(socket, st["how"]) if isinstance(st["how"], str) else st["how"])
    if op == "close":
        run.outbox[slot] = []
        return s.close()
    if op == "setsockopt":
        level, name = st["opt"]
        return s.setsockopt(getattr(socket, level), getattr(socket, name), st["value"])
    if op == "getsockopt":
        level, name = st["opt"]
        if "buflen" in st:
            return as_bytes(s.getsockopt(getattr(socket, level), getattr(socket, name), st["buflen"]))
        return s.getsockopt(getattr(socket, level), getattr(socket, name))
    if op == "settimeout":
        return s.settimeout(st["t"])
    if op == "setblocking":
        return s.setblocking(st["flag"])
    if op == "state":
        return [s.gettimeout(), s.getblocking(), s.fileno() < 0, int(s.family), int(s.type), s.proto]
    if op == "setattr":
        setattr(s, st["name"], st["value"])
        return None
    if op == "getsockname":
        return run.symbol(s.getsockname())
    if op == "getpeername":
        return run.symbol(s.getpeername())
    if op == "bind":
        return s.bind(run.address(st["addr"], s.family))
    if op == "connect":
        return s.connect(run.address(st["to"], s.family))
    if op == "connect_ex":
        code = s.connect_ex(run.address(st["to"], s.family))
        return errno.errorcode.get(code, code) if code else 0
    if op == "listen":
        return s.listen(st["backlog"])
    if op == "accept":
        conn, address = s.accept()
        return [run.add(conn), run.symbol(address)]
    if op == "put":
        if s.fileno() < 0:
            raise OSError(errno.EBADF, os.strerror(errno.EBADF))
        run.outbox[slot].append(pattern(i, st["n"]))
        return None
    if op == "flush":
        return flush(run, slot, s)
    if op == "pending":
        return sum(len(b) for b in run.outbox[slot])
    raise ValueError(f"unknown op {op}")


def entry(run, e):
    """A select() list entry: the socket itself, its descriptor, or an object with fileno()."""
    s = run.slots[e["s"]]
    if e["as"] == "fd":
        return s.fileno()
    return FileObject(s) if e["as"] == "object" else s


def positions(given, ready):
    """Where each ready entry stands in the list given (select() keeps their order)."""
    out, k = [], 0
    for r in ready:
        while given[k] is not r:
            k += 1
        out.append(k)
        k += 1
    return out


def may_block(run, st):
    s = run.slots[st["s"]] if "s" in st and st["s"] < len(run.slots) else None
    return s is not None and s.fileno() >= 0 and s.gettimeout() is None


def run_sequence(number, request):
    run = Run(number)
    results = []
    try:
        setup(run, request["setup"])
        run.remember_names()
        for i, st in enumerate(request["steps"]):
            armed = may_block(run, st)
            try:
                if armed:
                    signal.setitimer(signal.ITIMER_REAL, BLOCKED_AFTER)
                try:
                    value = step(run, i, st)
                finally:
                    if armed:
                        signal.setitimer(signal.ITIMER_REAL, 0)
                result = value if isinstance(value, dict) and "skip" in value else {"ok": value}
            except Blocked:
                results.append({"blocked": True})
                break
            except Exception as e:  # noqa: BLE001 -- every exception is a result to compare
                code = errno.errorcode.get(e.errno) if isinstance(e, OSError) and e.errno else None
                result = {"error": type(e).__name__, "errno": code}
            if "s" in st and st["s"] < len(run.slots):
                s = run.slots[st["s"]]
                result["ctx"] = [socket.AddressFamily(s.family).name, socket.SocketKind(s.type).name, s.fileno() < 0]
            results.append(result)
            run.remember_names()
    finally:
        run.close()
    return {"results": results}


def main():
    try:
        for number, line in enumerate(sys.stdin):
            answer = run_sequence(number, json.loads(line))
            sys.stdout.write(json.dumps(answer) + "\n")
            sys.stdout.flush()
    finally:
        shutil.rmtree(BASE, ignore_errors=True)


if __name__ == "__main__":
    main()
