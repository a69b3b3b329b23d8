#!/usr/bin/env python3
"""DNS on the wire for wiresign's scale benchmark and fair-scheduling test,
with no library beyond Python's own (raw RFC 1035 messages).

usage:
  scale_probe.py soa PORT ZONELIST            every zone's SOA over UDP, pipelined;
                                              prints "answered N of M" and the zones not answered
  scale_probe.py notify PORT ZONELIST         a NOTIFY (RFC 1996) per zone, as fast as the socket
                                              takes them; prints how many were acknowledged
  scale_probe.py latency PORT ZONE SECONDS [FILE TEXT]
                                              SOA over UDP every 10 ms and AXFR over TCP every
                                              200 ms for SECONDS (or until a line of FILE has
                                              TEXT); prints p50/p99/max of each
  scale_probe.py margin PORT SECONDS ZONE...  AXFR of every ZONE once a second for SECONDS;
                                              prints per zone the least (earliest RRSIG
                                              expiration - now) seen, in seconds
ZONELIST is a file with one zone name per line. Every wait is bounded.
"""
import calendar
import random
import select
import socket
import struct
import sys
import time

SOA, AXFR, RRSIG = 6, 252, 46


def wire_name(name):
    out = b""
    for label in name.rstrip(".").split("."):
        if label:
            out += bytes([len(label)]) + label.encode()
    return out + b"\0"


def query(name, qtype, ident, opcode=0):
    flags = (opcode << 11) | (0x0400 if opcode == 4 else 0x0000)
    return struct.pack(">HHHHHH", ident, flags, 1, 0, 0, 0) + wire_name(name) + struct.pack(">HH", qtype, 1)


def skip_name(msg, pos):
    while True:
        length = msg[pos]
        if length == 0:
            return pos + 1
        if length & 0xC0 == 0xC0:
            return pos + 2
        pos += 1 + length


def records(msg):
    """(type, rdata offset, rdata length) of every answer record."""
    qd, an = struct.unpack(">HH", msg[4:8])
    pos = 12
    for _ in range(qd):
        pos = skip_name(msg, pos) + 4
    for _ in range(an):
        pos = skip_name(msg, pos)
        rtype, _, _, rdlen = struct.unpack(">HHIH", msg[pos:pos + 10])
        yield rtype, pos + 10, rdlen
        pos += 10 + rdlen


def read_zones(path):
    return [line.strip() for line in open(path) if line.strip()]


def soa_all(port, zones):
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    pending = {i: z for i, z in enumerate(zones)}
    for _attempt in range(5):
        ids = list(pending)
        for start in range(0, len(ids), 200):  # in windows, so the socket buffers never overflow
            for i in ids[start:start + 200]:
                sock.sendto(query(pending[i], SOA, i % 65536), ("127.0.0.1", port))
            deadline = time.time() + 2
            while time.time() < deadline:
                ready, _, _ = select.select([sock], [], [], 0.05)
                if not ready:
                    if all(j not in pending for j in ids[start:start + 200]):
                        break
                    continue
                msg = sock.recv(65535)
                ident, flags = struct.unpack(">HH", msg[:4])
                for j in ids[start:start + 200]:
                    if j % 65536 == ident and j in pending and flags & 0xF == 0 and any(
                            t == SOA for t, _, _ in records(msg)):
                        del pending[j]
                        break
        if not pending:
            break
    return len(zones) - len(pending), sorted(pending.values())


def notify_all(port, zones):
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    acked = 0
    for start in range(0, len(zones), 500):
        window = zones[start:start + 500]
        for k, zone in enumerate(window):
            sock.sendto(query(zone, SOA, (start + k) % 65536, opcode=4), ("127.0.0.1", port))
        deadline, got = time.time() + 3, 0
        while got < len(window) and time.time() < deadline:
            ready, _, _ = select.select([sock], [], [], 0.1)
            if ready:
                msg = sock.recv(65535)
                got += 1
                acked += (struct.unpack(">H", msg[2:4])[0] & 0xF) == 0
    return acked


def soa_once(port, zone, timeout=2.0):
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.settimeout(timeout)
    ident = random.randrange(65536)
    start = time.perf_counter()
    sock.sendto(query(zone, SOA, ident), ("127.0.0.1", port))
    try:
        while True:
            msg = sock.recv(65535)
            if struct.unpack(">H", msg[:2])[0] == ident:
                return time.perf_counter() - start
    except socket.timeout:
        return None
    finally:
        sock.close()


def recv_exact(sock, n):
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise ConnectionError("closed")
        data += chunk
    return data


def axfr(port, zone, timeout=10.0):
    """The answer messages of an AXFR (a list of bytes)."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    try:
        q = query(zone, AXFR, random.randrange(65536))
        sock.sendall(struct.pack(">H", len(q)) + q)
        messages, soas = [], 0
        while soas < 2:
            length = struct.unpack(">H", recv_exact(sock, 2))[0]
            msg = recv_exact(sock, length)
            if struct.unpack(">H", msg[2:4])[0] & 0xF:
                raise RuntimeError("AXFR refused")
            messages.append(msg)
            soas += sum(1 for t, _, _ in records(msg) if t == SOA)
        return messages
    finally:
        sock.close()


def percentiles(values):
    if not values:
        return "no answers"
    values = sorted(values)
    pick = lambda q: values[min(len(values) - 1, int(q * len(values)))] * 1000
    return f"p50 {pick(0.5):.1f} ms, p99 {pick(0.99):.1f} ms, max {values[-1] * 1000:.1f} ms ({len(values)} answers)"


def logged(path, text):
    try:
        with open(path, errors="replace") as f:
            return any(text in line for line in f)
    except OSError:
        return False


def latency(port, zone, seconds, until=None):
    soa_times, axfr_times, lost = [], [], 0
    start_time = time.time()
    end, next_axfr, next_look = start_time + seconds, 0.0, 0.0
    while time.time() < end:
        if until and time.time() >= next_look:
            next_look = time.time() + 1
            if logged(*until):
                break
        t = soa_once(port, zone)
        if t is None:
            lost += 1
        else:
            soa_times.append(t)
        if time.time() >= next_axfr:
            next_axfr = time.time() + 0.2
            start = time.perf_counter()
            try:
                axfr(port, zone)
                axfr_times.append(time.perf_counter() - start)
            except Exception:
                lost += 1
        time.sleep(0.01)
    print(f"over {time.time() - start_time:.0f} s: SOA {percentiles(soa_times)}; AXFR {percentiles(axfr_times)}; "
          f"unanswered: {lost}")


def least_margin(port, zone):
    now = int(time.time())
    least = None
    for msg in axfr(port, zone):
        for rtype, pos, _ in records(msg):
            if rtype == RRSIG:
                expiration = struct.unpack(">I", msg[pos + 8:pos + 12])[0]
                # RFC 4034 §3.1.5: serial arithmetic around now
                delta = (expiration - now + 2**31) % 2**32 - 2**31
                least = delta if least is None else min(least, delta)
    return least


def margin(port, seconds, zones):
    least = {z: None for z in zones}
    end = time.time() + seconds
    while time.time() < end:
        for zone in zones:
            try:
                m = least_margin(port, zone)
            except Exception:
                continue
            if m is not None and (least[zone] is None or m < least[zone]):
                least[zone] = m
        time.sleep(1)
    for zone in zones:
        print(f"{zone} {least[zone]}")


def main():
    mode = sys.argv[1]
    port = int(sys.argv[2])
    if mode == "soa":
        zones = read_zones(sys.argv[3])
        answered, missing = soa_all(port, zones)
        print(f"answered {answered} of {len(zones)}")
        for zone in missing[:10]:
            print(f"not answered: {zone}")
    elif mode == "notify":
        zones = read_zones(sys.argv[3])
        print(f"acknowledged {notify_all(port, zones)} of {len(zones)}")
    elif mode == "latency":
        latency(port, sys.argv[3], float(sys.argv[4]), tuple(sys.argv[5:7]) if len(sys.argv) > 6 else None)
    elif mode == "margin":
        margin(port, float(sys.argv[3]), sys.argv[4:])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
