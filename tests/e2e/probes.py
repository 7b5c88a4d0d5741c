"""Traffic: listeners in destination namespaces (TCP accept, UDP echo; the kernel answers
pings), and probes sent from source namespaces in bounded batches of non-blocking sockets.
A probe connects when a TCP handshake completes, a UDP echo comes back, or a ping is
answered, within the timeout; anything else (a reject, silence) is blocked."""
import errno
import selectors
import socket
import struct
import threading
import time
from dataclasses import dataclass

import netns

IP_PKTINFO = getattr(socket, "IP_PKTINFO", 8)


@dataclass(frozen=True)
class Probe:
    src: str  # model name of the sender (a qube, "@dispvm:T") or "world"
    src_ns: str
    dst: str  # destination address
    proto: str  # tcp, udp or icmp
    port: int  # destination port; ICMP type for icmp (echo only)
    sport: int = 0  # a fixed source port (reply-direction probes), else any
    saddr: str = ""  # a fixed source address (probes from the world), else the route's


class Listeners:
    """Sockets bound in namespaces, served by one thread until stop()."""

    def __init__(self):
        self.sel = selectors.DefaultSelector()
        self.socks = []
        self.stopping = threading.Event()
        self.thread = None

    def open(self, ns, proto, port):
        with netns.inside(ns):
            if proto == "tcp":
                s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
                s.bind(("0.0.0.0", port))
                s.listen(512)
            else:
                s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                s.setsockopt(socket.IPPROTO_IP, IP_PKTINFO, 1)
                s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
                s.bind(("0.0.0.0", port))
        s.setblocking(False)
        self.socks.append(s)
        self.sel.register(s, selectors.EVENT_READ, proto)

    def start(self):
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while not self.stopping.is_set():
            for key, _ in self.sel.select(timeout=0.1):
                try:
                    if key.data == "tcp":
                        conn, _ = key.fileobj.accept()
                        conn.close()
                    else:
                        self._echo(key.fileobj)
                except OSError:
                    pass

    @staticmethod
    def _echo(s):
        data, anc, _, addr = s.recvmsg(2048, socket.CMSG_SPACE(12))
        # Answer from the address the datagram was sent to, as a server bound to it would.
        local = b"\0" * 4
        for level, kind, payload in anc:
            if level == socket.IPPROTO_IP and kind == IP_PKTINFO:
                local = payload[8:12]
        s.sendmsg([data], [(socket.IPPROTO_IP, IP_PKTINFO, struct.pack("I4s4s", 0, local, local))],
                  0, addr)

    def stop(self):
        self.stopping.set()
        if self.thread:
            self.thread.join(timeout=2)
        for s in self.socks:
            s.close()
        self.sel.close()


def _checksum(data):
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    total = (total >> 16) + (total & 0xFFFF)
    total += total >> 16
    return ~total & 0xFFFF


def _start(probe, ident):
    """Opens the probe's socket in its source namespace and sends; returns the socket."""
    with netns.inside(probe.src_ns):
        if probe.proto == "tcp":
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        elif probe.proto == "udp":
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        else:
            s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
    s.setblocking(False)
    if probe.sport or probe.saddr:
        # A listener may hold the port: the reply-direction probes share it (SO_REUSEPORT on
        # both), and run apart from the others so no datagram is taken by the wrong socket.
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        s.bind((probe.saddr or "0.0.0.0", probe.sport))
    if probe.proto == "tcp":
        err = s.connect_ex((probe.dst, probe.port))
        if err not in (0, errno.EINPROGRESS):
            s.close()
            return None
    elif probe.proto == "udp":
        s.connect((probe.dst, probe.port))
        s.send(b"bh-probe-%d" % ident)
    else:
        header = struct.pack("!BBHHH", 8, 0, 0, ident, 1)
        payload = b"bh-probe"
        packet = struct.pack("!BBHHH", 8, 0, _checksum(header + payload), ident, 1) + payload
        s.sendto(packet, (probe.dst, 0))
    return s


def _finish(probe, s, ident):
    """True: connected; False: blocked; None: not decided yet."""
    if probe.proto == "tcp":
        return s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == 0
    try:
        data, addr = s.recvfrom(2048)
    except BlockingIOError:
        return None
    except OSError:  # an ICMP error: rejected on the way
        return False
    if probe.proto == "udp":
        return data == b"bh-probe-%d" % ident
    ihl = (data[0] & 0x0F) * 4
    kind, _, _, rid = struct.unpack("!BBHH", data[ihl:ihl + 6])
    if kind == 0 and rid == ident and addr[0] == probe.dst:
        return True
    return None  # someone else's ICMP: keep waiting


def run(probes, timeout=0.4, parallel=500):
    """Sends every probe, `parallel` at a time, each given `timeout` seconds; returns one
    bool (connected) per probe, in order."""
    results = [False] * len(probes)
    for start in range(0, len(probes), parallel):
        sel = selectors.DefaultSelector()
        pending = 0
        for i in range(start, min(start + parallel, len(probes))):
            ident = (i % 60000) + 1
            s = _start(probes[i], ident)
            if s is None:
                continue
            event = selectors.EVENT_WRITE if probes[i].proto == "tcp" else selectors.EVENT_READ
            sel.register(s, event, (i, ident))
            pending += 1
        deadline = time.monotonic() + timeout
        while pending and time.monotonic() < deadline:
            for key, _ in sel.select(timeout=max(0.0, deadline - time.monotonic())):
                i, ident = key.data
                verdict = _finish(probes[i], key.fileobj, ident)
                if verdict is None:
                    continue
                results[i] = verdict
                sel.unregister(key.fileobj)
                key.fileobj.close()
                pending -= 1
        for key in list(sel.get_map().values()):
            key.fileobj.close()
        sel.close()
    return results
