#!/usr/bin/env python3
"""Write a deterministic unsigned zone for wiresign's tests and benchmarks.

usage: gen_zone.py ORIGIN NAMES [SEED] > zone

NAMES numbered entries follow a fixed apex. Per entry (by a seeded RNG, so the
same arguments always give the same bytes):
  ~74%  host h<i>: A, often AAAA, sometimes MX, TXT (some >255 octets, split
        into several strings), SRV or CAA; ~1% written with an upper-case owner
  ~10%  delegation d<i>: NS, half in-bailiwick with glue, half out-of-bailiwick, ~30%
        with DS, ~10% with occluded data below the cut (not authoritative)
  ~5%   CNAME c<i> to a host
  ~5%   host below an empty non-terminal: x.e<i> (e<i> has no data)
  ~3%   wildcard *.w<i> with a sibling host, ~3% SRV service names
The apex adds a wildcard, a three-level empty non-terminal and mixed case.
Every owner name is unique ignoring case, so no CNAME shares a name with
other data. A million entries take a few seconds.
"""
import random
import sys

# A fixed pool of text, so long TXT strings cost a slice instead of an RNG call
# per character.
_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789"


def _text_pool(rng: random.Random) -> str:
    return "".join(rng.choice(_ALPHABET) for _ in range(4096))


def _apex(origin: str) -> list[str]:
    return [
        f"$ORIGIN {origin}\n",
        "$TTL 3600\n",
        "@ IN SOA ns1 hostmaster 1 3600 900 1209600 300\n",
        "@ IN NS ns1\n",
        "@ IN NS ns2.example.net.\n",
        "ns1 IN A 192.0.2.53\n",
        "ns1 IN AAAA 2001:db8::53\n",
        "@ IN MX 10 mail\n",
        "mail IN A 192.0.2.25\n",
        '@ IN TXT "v=spf1 mx -all"\n',
        '@ IN CAA 0 issue "ca.example.net"\n',
        '* IN TXT "apex wildcard"\n',
        "_sip._tcp IN SRV 10 60 5060 sip\n",
        "sip IN A 192.0.2.60\n",
        "a.b.c.deep IN A 192.0.2.99\n",  # b.c.deep, c.deep, deep: empty non-terminals
        "Mixed.CASE IN A 192.0.2.98\n",  # CASE is an empty non-terminal too
        "alias IN CNAME mail\n",
        "apexsub 7200 IN NS ns.apexsub\n",
        "ns.apexsub IN A 192.0.2.200\n",  # glue: neither signed nor in the chain
        "occluded.apexsub IN TXT \"below a cut\"\n",
    ]


def _host(w, rng: random.Random, pool: str, i: int) -> None:
    owner = f"H{i}" if rng.random() < 0.01 else f"h{i}"
    w(f"{owner} IN A 10.{i >> 16 & 255}.{i >> 8 & 255}.{i & 255}\n")
    r = rng.random()
    if r < 0.4:
        w(f"{owner} IN AAAA 2001:db8:{i >> 16 & 0xffff:x}::{i & 0xffff:x}\n")
    r = rng.random()
    if r < 0.08:
        w(f"{owner} IN MX 10 mail\n")
    elif r < 0.16:
        start = (i * 37) % 3000
        w(f'{owner} IN TXT "{pool[start:start + 120]}"\n')
    elif r < 0.18:
        # Longer than one character-string: two strings of 255 and 45 octets.
        start = (i * 53) % 3500
        w(f'{owner} IN TXT "{pool[start:start + 255]}" "{pool[start + 255:start + 300]}"\n')
    elif r < 0.19:
        w(f'{owner} IN CAA 0 issuewild ";"\n')


def _delegation(w, rng: random.Random, i: int) -> None:
    d = f"d{i}"
    if rng.random() < 0.5:
        # In-bailiwick name server: needs glue, which is neither signed nor
        # part of the NSEC/NSEC3 chain.
        w(f"{d} 86400 IN NS ns1.{d}\n{d} 86400 IN NS ns.example.net.\n")
        w(f"ns1.{d} IN A 203.0.113.{i % 250 + 1}\n")
        if rng.random() < 0.3:
            w(f"ns1.{d} IN AAAA 2001:db8:ffff::{i & 0xffff:x}\n")
    else:
        w(f"{d} 86400 IN NS ns1.example.net.\n{d} 86400 IN NS ns.example.net.\n")
    if rng.random() < 0.3:
        digest = f"{rng.getrandbits(256):064X}"
        w(f"{d} IN DS {rng.randint(1, 65535)} 13 2 {digest}\n")
    if rng.random() < 0.1:
        w(f"www.{d} IN A 198.51.100.{i % 250 + 1}\n")  # occluded


def main() -> None:
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    origin = sys.argv[1].rstrip(".") + "."
    count = int(sys.argv[2])
    rng = random.Random(int(sys.argv[3]) if len(sys.argv) > 3 else 1)
    pool = _text_pool(rng)
    out = open(sys.stdout.fileno(), "w", buffering=1 << 20, closefd=False, encoding="ascii")
    w = out.write
    for line in _apex(origin):
        w(line)
    hosts = max(1, count)
    for i in range(count):
        kind = rng.random()
        if kind < 0.10:
            _delegation(w, rng, i)
        elif kind < 0.15:
            # Points at h<j>, which may be absent or upper-case: both are fine.
            w(f"c{i} IN CNAME h{rng.randrange(hosts)}\n")
        elif kind < 0.20:
            w(f"x.e{i} IN A 192.0.2.{i % 250 + 1}\n")
        elif kind < 0.23:
            w(f"*.w{i} IN A 192.0.2.{i % 250 + 1}\nw{i} IN A 192.0.2.{i % 250 + 2}\n")
        elif kind < 0.26:
            w(f"_imap._tcp.s{i} IN SRV 0 1 143 s{i}\ns{i} IN A 192.0.2.{i % 250 + 3}\n")
        else:
            _host(w, rng, pool, i)
    out.flush()


if __name__ == "__main__":
    main()
