#!/usr/bin/env python3
"""Message framing, from the socket HOWTO's MySocket ("demonstration class only"), with its fixed
MSGLEN replaced by a 4-byte length prefix in network byte order, so that messages may be any size.
send() and recv() may move fewer bytes than asked: mysend and myreceive loop until all has moved.
Run: python3 framing.py  (a receiving thread and a sending main thread over loopback)
"""
import hashlib
import socket
import struct
import threading


class MySocket:
    def __init__(self, sock):
        self.sock = sock

    def mysend(self, msg):
        msg = struct.pack("!I", len(msg)) + msg
        totalsent = 0
        while totalsent < len(msg):
            sent = self.sock.send(msg[totalsent:])
            if sent == 0:
                raise RuntimeError("socket connection broken")
            totalsent = totalsent + sent

    def _receive(self, n):
        chunks = []
        bytes_recd = 0
        while bytes_recd < n:
            chunk = self.sock.recv(min(n - bytes_recd, 65536))
            if chunk == b"":
                raise RuntimeError("socket connection broken")
            chunks.append(chunk)
            bytes_recd = bytes_recd + len(chunk)
        return b"".join(chunks)

    def myreceive(self):
        (n,) = struct.unpack("!I", self._receive(4))
        return self._receive(n)


server = socket.create_server(("localhost", 0))


def receiver():
    conn, _ = server.accept()
    with conn:
        s = MySocket(conn)
        for _ in range(7):
            s.mysend(hashlib.sha256(s.myreceive()).hexdigest().encode())


threading.Thread(target=receiver).start()
with socket.create_connection(server.getsockname()) as sock:
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
    s = MySocket(sock)
    for size in (1, 10, 100, 1000, 10_000, 100_000, 1 << 20):
        msg = bytes(size)
        s.mysend(msg)
        print(size, "bytes:", "intact" if s.myreceive() == hashlib.sha256(msg).hexdigest().encode() else "DAMAGED")
