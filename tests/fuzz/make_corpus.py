#!/usr/bin/env python3
"""Writes the fuzz seed corpus, tests/fuzz/corpus/<harness>/, from scratch.

Real messages a signer sees: queries, NOTIFY, an AXFR answer, IXFR answers
(diffs, AXFR form, up to date), TSIG-signed requests and answers; a small zone
file and a config. Standard library only; the output is deterministic, so
running it again changes nothing. usage: tests/fuzz/make_corpus.py
"""
import hashlib
import hmac
import os
import shutil
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
ID = 0x2A2A  # transfer_fuzz.cpp's kId
NOW = 1764000000  # tsig_fuzz.cpp's kNow
KEY_SECRET = bytes([0x5A]) * 32  # the harnesses' "xfr.key"
SOA, NS, A, MX, TXT, AAAA, OPT, IXFR, AXFR, TSIG = 6, 2, 1, 15, 16, 28, 41, 251, 252, 250


def name(text):
    out = b""
    for label in text.rstrip(".").split("."):
        if label:
            out += bytes([len(label)]) + label.encode()
    return out + b"\0"


class Message:
    """A DNS message builder with simple name compression (RFC 1035 §4.1.4)."""

    def __init__(self, id_=ID, flags=0):
        self.id, self.flags = id_, flags
        self.body = b""
        self.counts = [0, 0, 0, 0]
        self.offsets = {}

    def name(self, text, compress=True):
        labels = [l for l in text.rstrip(".").split(".") if l]
        out = b""
        for i in range(len(labels)):
            suffix = ".".join(labels[i:]).lower()
            if compress and suffix in self.offsets:
                return out + struct.pack("!H", 0xC000 | self.offsets[suffix])
            where = 12 + len(self.body) + len(out)
            if where < 0x4000:
                self.offsets.setdefault(suffix, where)
            out += bytes([len(labels[i])]) + labels[i].encode()
        return out + b"\0"

    def question(self, qname, qtype):
        self.body += self.name(qname) + struct.pack("!HH", qtype, 1)
        self.counts[0] += 1

    def record(self, section, owner, rtype, rdata_parts, ttl=3600, rclass=1):
        head = self.name(owner) + struct.pack("!HHI", rtype, rclass, ttl)
        rdata_at = 12 + len(self.body) + len(head) + 2
        rdata = b""
        for part in rdata_parts:  # str: a compressible name; bytes: as is
            if isinstance(part, str):
                saved = self.body
                self.body += head + b"\0\0" + rdata  # so that offsets are right
                encoded = self.name(part)
                self.body = saved
                rdata += encoded
            else:
                rdata += part
        assert rdata_at  # offsets above computed against the final layout
        self.body += head + struct.pack("!H", len(rdata)) + rdata
        self.counts[section] += 1

    def edns(self, size=1232, do=False):
        self.body += b"\0" + struct.pack("!HHIH", OPT, size, 0x8000 if do else 0, 0)
        self.counts[3] += 1

    def wire(self):
        return struct.pack("!HHHHHH", self.id, self.flags, *self.counts) + self.body


def soa_rdata(serial):
    return ["ns1.example.test.", "hostmaster.example.test.", struct.pack("!IIIII", serial, 3600, 900, 1209600, 300)]


def answer(records, question=None, qtype=AXFR):
    m = Message(flags=0x8400)  # QR, AA
    if question:
        m.question(question, qtype)
    for owner, rtype, parts in records:
        m.record(1, owner, rtype, parts)
    return m.wire()


def tsig_sign(wire, key_name, secret, time_signed, request_mac=b"", timers_only=False, algorithm="hmac-sha256"):
    """RFC 8945 §4.3: the MAC over (request MAC,) message, TSIG variables."""
    digest = {"hmac-sha256": hashlib.sha256, "hmac-sha1": hashlib.sha1}[algorithm]
    data = (struct.pack("!H", len(request_mac)) + request_mac) if request_mac else b""
    data += wire
    if not timers_only:
        data += name(key_name) + struct.pack("!HI", 255, 0) + name(algorithm)
    data += struct.pack("!HIH", time_signed >> 32, time_signed & 0xFFFFFFFF, 300)
    if not timers_only:
        data += struct.pack("!HH", 0, 0)
    mac = hmac.new(secret, data, digest).digest()
    rdata = name(algorithm) + struct.pack("!HIHH", time_signed >> 32, time_signed & 0xFFFFFFFF, 300, len(mac))
    rdata += mac + struct.pack("!HHH", struct.unpack("!H", wire[:2])[0], 0, 0)
    record = name(key_name) + struct.pack("!HHIH", TSIG, 255, 0, len(rdata)) + rdata
    arcount = struct.unpack("!H", wire[10:12])[0] + 1
    return wire[:10] + struct.pack("!H", arcount) + wire[12:] + record, mac


def framed(messages):
    return b"".join(struct.pack("!H", len(m)) + m for m in messages)


def zone_records():
    return [
        ("example.test.", NS, ["ns1.example.test."]),
        ("example.test.", MX, [struct.pack("!H", 10), "mail.example.test."]),
        ("example.test.", TXT, [b"\x0ev=spf1 mx -all"]),
        ("ns1.example.test.", A, [bytes([192, 0, 2, 53])]),
        ("ns1.example.test.", AAAA, [bytes.fromhex("20010db8000000000000000000000053")]),
        ("www.example.test.", A, [bytes([192, 0, 2, 80])]),
    ]


def main():
    corpus = os.path.join(HERE, "corpus")
    shutil.rmtree(corpus, ignore_errors=True)
    files = {}

    # message: what the server parses (queries, NOTIFY, IXFR request) and what a primary answers.
    q = Message(flags=0x0100)
    q.question("example.test.", SOA)
    q.edns(do=True)
    files["message/soa_query_edns"] = q.wire()
    n = Message(flags=0x2400)  # opcode NOTIFY, AA
    n.question("example.test.", SOA)
    n.record(1, "example.test.", SOA, soa_rdata(2026112302))
    files["message/notify"] = n.wire()
    i = Message()
    i.question("example.test.", IXFR)
    i.record(2, "example.test.", SOA, soa_rdata(41))
    files["message/ixfr_query"] = i.wire()
    axfr_records = [("example.test.", SOA, soa_rdata(45))] + zone_records() + [("example.test.", SOA, soa_rdata(45))]
    files["message/axfr_answer"] = answer(axfr_records, "example.test.")
    signed_axfr_query, _ = tsig_sign(_axfr_query(), "xfr.key", KEY_SECRET, NOW)
    files["message/tsig_signed_axfr_query"] = signed_axfr_query

    # transfer: flags octet (bit 0 IXFR, bit 1 signed) + length-prefixed answer messages.
    files["transfer/axfr_two_messages"] = b"\0" + framed([answer(axfr_records[:4], "example.test."),
                                                          answer(axfr_records[4:])])
    diffs = [
        ("example.test.", SOA, soa_rdata(45)),
        ("example.test.", SOA, soa_rdata(41)),
        ("www.example.test.", A, [bytes([192, 0, 2, 1])]),
        ("old.example.test.", TXT, [b"\x03bye"]),
        ("example.test.", SOA, soa_rdata(42)),
        ("www.example.test.", A, [bytes([192, 0, 2, 2])]),
        ("new.example.test.", TXT, [b"\x05hello"]),
        ("example.test.", SOA, soa_rdata(42)),
        ("new.example.test.", TXT, [b"\x05hello"]),
        ("example.test.", SOA, soa_rdata(45)),
        ("mail.example.test.", A, [bytes([192, 0, 2, 25])]),
        ("example.test.", SOA, soa_rdata(45)),
    ]
    files["transfer/ixfr_diffs"] = b"\1" + framed([answer(diffs[:5], "example.test.", IXFR), answer(diffs[5:])])
    files["transfer/ixfr_axfr_form"] = b"\1" + framed([answer(axfr_records, "example.test.", IXFR)])
    files["transfer/ixfr_up_to_date"] = b"\1" + framed([answer([("example.test.", SOA, soa_rdata(41))],
                                                               "example.test.", IXFR)])
    refused = bytearray(answer([], "example.test."))
    refused[3] = 5  # REFUSED
    files["transfer/axfr_refused"] = b"\0" + framed([bytes(refused)])

    # tsig: flags octet (see tsig_fuzz.cpp) + message.
    files["tsig/signed_request"] = b"\0" + signed_axfr_query
    request_mac = bytes([0x11]) * 32
    signed_answer, _ = tsig_sign(answer(axfr_records, "example.test."), "xfr.key", KEY_SECRET, NOW, request_mac)
    files["tsig/signed_answer"] = b"\4" + signed_answer
    files["tsig/signed_request_late"] = b"\0" + tsig_sign(_axfr_query(), "xfr.key", KEY_SECRET, NOW - 3600)[0]
    files["tsig/sign_mode_notify"] = b"\x10" + struct.pack("!HIH", NOW >> 32, NOW & 0xFFFFFFFF, 300) + n.wire()

    # zone_file: the bundled example zone and a few record types more.
    with open(os.path.join(ROOT, "examples", "example.test.zone"), "rb") as f:
        files["zone_file/example.test.zone"] = f.read()
    files["zone_file/types.zone"] = (
        b"$ORIGIN example.test.\n$TTL 1h\n"
        b"@ 300 IN SOA ns1 hostmaster ( 1 2h 15m 2w 5m )\n"
        b"  IN NS ns1\n"
        b"ns1 IN A 192.0.2.53\n"
        b"txt IN TXT \"quoted ; not a comment\" plain \\\"escaped\n"
        b"caa IN CAA 0 issue \"ca.example.net\"\n"
        b"sshfp IN SSHFP 1 1 0123456789abcdef0123456789abcdef01234567\n"
        b"tlsa._tcp IN TLSA 3 1 1 ( 0123456789abcdef0123456789abcdef\n  0123456789abcdef0123456789abcdef )\n"
        b"unknown IN TYPE65534 \\# 3 abcdef\n"
        b"naptr IN NAPTR 100 10 \"u\" \"E2U+sip\" \"!^.*$!sip:info@example.test!\" .\n"
    )

    # config: the bundled example and one with every section.
    with open(os.path.join(ROOT, "examples", "wiresign.yaml"), "rb") as f:
        files["config/wiresign.yaml"] = f.read()
    files["config/full.yaml"] = b"""server:
  listen: ["127.0.0.1:5353", "[::1]:5353"]
  state-dir: /tmp/state
  tcp-idle-timeout: 10s
  max-tcp-clients: 50
keystores:
  - {name: local, backend: files, directory: keys}
tsig-keys:
  - {name: xfr, algorithm: hmac-sha256, secret: "c2VjcmV0LWtleS1mb3ItdGVzdHMtb25seS0wMTIzNDU2Nzg5"}
policies:
  - name: default
    keystore: local
    algorithm: ecdsap256sha256
    signatures: {validity: 14d, refresh: 5d, jitter: 12h}
    denial: {type: nsec3, iterations: 0, salt-length: 0, opt-out: false}
    serial: increment
zones:
  - name: example.test
    policy: default
    primaries: ["192.0.2.1:53"]
    primary-tsig: xfr
    allow-transfer: ["127.0.0.1", "2001:db8::/32"]
    transfer-tsig: xfr
    notify: ["192.0.2.2:53"]
"""
    for path, data in files.items():
        full = os.path.join(corpus, path)
        os.makedirs(os.path.dirname(full), exist_ok=True)
        with open(full, "wb") as f:
            f.write(data)
    print(f"wrote {len(files)} seeds under {corpus}")


def _axfr_query():
    m = Message()
    m.question("example.test.", AXFR)
    return m.wire()


if __name__ == "__main__":
    main()
