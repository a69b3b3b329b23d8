#!/usr/bin/env python3
"""A misbehaving primary for wiresignd's tests (no real server misbehaves on
demand). Serves one zone on 127.0.0.1:PORT over UDP (SOA) and TCP (AXFR; IXFR
gets NOTIMP, so the client must fall back). What it does is read from
MODE_FILE at every request: "MODE SERIAL", where MODE is
  good       the zone (SOA, NS, A records), serial SERIAL
  cut        an AXFR that stops after its first message (connection closed)
  outside    an AXFR holding a record outside the zone
  big        an AXFR of 500 extra records
  fat        an AXFR of 40 extra TXT records of 2,000 octets each (80 KB)
  trickle    an AXFR sent one octet every 50 ms (never ends in time)
usage: hostile_primary.py ZONE PORT MODE_FILE
"""
import socket
import struct
import sys
import threading
import time

ZONE, PORT, MODE_FILE = sys.argv[1].rstrip(".") + ".", int(sys.argv[2]), sys.argv[3]


def wire_name(name):
    labels = [label for label in name.rstrip(".").split(".") if label]
    return b"".join(bytes([len(label)]) + label.encode() for label in labels) + b"\0"


def record(owner, rtype, rdata, ttl=3600):
    return wire_name(owner) + struct.pack("!HHIH", rtype, 1, ttl, len(rdata)) + rdata


def soa(serial):
    # refresh 2 s, retry 1 s: the client checks often.
    rdata = wire_name("ns1." + ZONE) + wire_name("hostmaster." + ZONE) + struct.pack("!IIIII", serial, 2, 1, 1209600, 300)
    return record(ZONE, 6, rdata)


def zone_records(mode, serial):
    out = [record(ZONE, 2, wire_name("ns1." + ZONE)),
           record("ns1." + ZONE, 1, bytes([192, 0, 2, 53])),
           record("www." + ZONE, 1, bytes([192, 0, 2, serial % 250 + 1]))]
    for i in range(20):
        out.append(record(f"h{i}.{ZONE}", 1, bytes([192, 0, 2, i + 1])))
    if mode == "outside":
        out.append(record("evil.example.org.", 1, bytes([203, 0, 113, 66])))
    if mode == "fat":
        for i in range(40):
            text = bytes([250]) + b"x" * 250
            out.append(record(f"fat{i}.{ZONE}", 16, text * 8))
    if mode == "big":
        for i in range(500):
            out.append(record(f"big{i}.{ZONE}", 1, bytes([198, 51, 100, i % 250 + 1])))
    return out


def current():
    mode, serial = open(MODE_FILE).read().split()
    return mode, int(serial)


def parse_question(message):
    pos, labels = 12, []
    while message[pos]:
        labels.append(message[pos + 1:pos + 1 + message[pos]].decode().lower())
        pos += 1 + message[pos]
    qtype, = struct.unpack("!H", message[pos + 1:pos + 3])
    return ".".join(labels) + ".", qtype, message[12:pos + 5]


def header(query_id, rcode, answers):
    return struct.pack("!HHHHHH", query_id, 0x8400 | rcode, 1, answers, 0, 0)


def answer_messages(query):
    query_id, = struct.unpack("!H", query[:2])
    qname, qtype, question = parse_question(query)
    mode, serial = current()
    if qname != ZONE:
        return [header(query_id, 5, 0) + question]  # REFUSED
    if qtype == 6:
        return [header(query_id, 0, 1) + question + soa(serial)]
    if qtype == 251:
        return [header(query_id, 4, 0) + question]  # NOTIMP: fall back to AXFR
    if qtype != 252:
        return [header(query_id, 4, 0) + question]
    records = [soa(serial)] + zone_records(mode, serial) + [soa(serial)]
    messages, chunk = [], []
    for rr in records:
        chunk.append(rr)
        if len(chunk) == 10:
            messages.append(chunk)
            chunk = []
    if chunk:
        messages.append(chunk)
    built = [header(query_id, 0, len(c)) + (question if i == 0 else b"") + b"".join(c) for i, c in enumerate(messages)]
    if mode == "cut":
        return built[:1]
    return built


def fix_qdcount(message, first):
    # Later messages carry no question (RFC 5936 §2.2.1).
    return message if first else message[:4] + b"\0\0" + message[6:]


def serve_udp(sock):
    while True:
        data, peer = sock.recvfrom(4096)
        try:
            sock.sendto(answer_messages(data)[0], peer)
        except Exception as error:  # a bad packet: ignore it, keep serving
            print("udp:", error, file=sys.stderr)


def serve_tcp_client(conn):
    with conn:
        conn.settimeout(10)
        try:
            length, = struct.unpack("!H", conn.recv(2))
            query = b""
            while len(query) < length:
                query += conn.recv(length - len(query))
            trickle = current()[0] == "trickle"
            for i, message in enumerate(answer_messages(query)):
                message = fix_qdcount(message, i == 0)
                framed = struct.pack("!H", len(message)) + message
                if not trickle:
                    conn.sendall(framed)
                    continue
                for octet in framed:  # each octet well within any per-read timeout
                    conn.sendall(bytes([octet]))
                    time.sleep(0.05)
        except Exception as error:
            print("tcp:", error, file=sys.stderr)


def serve_tcp(sock):
    while True:
        conn, _ = sock.accept()
        threading.Thread(target=serve_tcp_client, args=(conn,), daemon=True).start()


udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
udp.bind(("127.0.0.1", PORT))
tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
tcp.bind(("127.0.0.1", PORT))
tcp.listen(8)
threading.Thread(target=serve_udp, args=(udp,), daemon=True).start()
serve_tcp(tcp)
