#!/usr/bin/env python3
"""Writes the seed corpora t/fuzz/corpus/<target>/ (committed; rerun after
changing the byte layout that fuzz_support.c reads). The seeds follow that
layout, so the fuzzers start from inputs that reach every table of every
format, with the hostile strings of issue 4 in them."""
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))

HOSTILE = [
    b"/var/www/<script>alert(1)</script>.php",
    b"/var/www/x\"y'z&amp;.php",
    b"C:\\back\\slash\\",
    b"line\nbreak\rcarriage\ttab\x01\x1b[31m\x7f",
    b"bad utf8 \xff\xfe \xc0\xaf \xed\xa0\x80 \xf4\x90\x80\x80 \xe2\x82",
    b"good utf8 \xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80",
    b"/" + b"a" * 600,
    b'label="x",other="y"} 1\n# EOF',
    b"Key: value\nInjected: 1",
    b"",
]


def u8(v):
    return struct.pack(">B", v & 0xFF)


def u32(v):
    return struct.pack(">I", v & 0xFFFFFFFF)


def u64(v):
    return struct.pack(">Q", v & 0xFFFFFFFFFFFFFFFF)


def s(b, field=None):
    return struct.pack(">H", len(b)) + b


def snapshot(strings, rows, big=False, since=1700000000000000, taken=None):
    out = b""
    out += u64(since) + u64(since + 3600 * 1000000 if taken is None else taken)
    out += u64(2**64 - 1 if big else 1000)
    for c in range(6):
        out += u64(10 * c)
    out += u8(3) + u8(0) + u64(7) + u8(2) + u64(3) + u8(99) + u64(1)
    for _ in range(5):
        out += u64(2**63 if big else 5)
    for _ in range(6):
        out += u64(4)
    pick = lambda i: strings[i % len(strings)]
    out += u8(rows)
    for i in range(rows):
        out += s(pick(i)[:63]) + u32(500 + i) + u64(2**64 - 1 if big else i + 1)
    out += u8(rows) + u8(10)
    for i in range(rows):
        out += u64(2**64 - 1 if big else i + 1) + u64(since) + u64(-1 if big else since + 1)
        out += u32(500) + s(pick(i)[:511]) + s(pick(i + 1)[:63]) + s(pick(i + 2)[:511])
    out += u8(rows) + u8(5)
    for i in range(rows):
        out += u64(-(2**63) if big else since + i) + u64(1234) + u32(4242) + u32(503)
        out += s(b"GET") + s(pick(i)[:511]) + s(pick(i + 3)[:127]) + s(pick(i + 4)[:63])
        out += s(pick(i + 5)[:511]) + s(pick(i + 6)[:511])
    return out


def double(d):
    return struct.pack(">d", d)


def server(strings, async_=True):
    out = b""
    for i, n in enumerate((256, 64, 64, 64, 64)):
        out += u8(1) + s(strings[i % len(strings)][:n])
    out += u32(3) + u32(2) + u32(93665)
    for d in (0.5, float("nan"), float("inf"), -1.5, 1e300, 0.0, 2.25, 12.5):
        out += double(d)
    out += u32(1) + u32(0) + u32(4) + u8(1 if async_ else 0)
    out += u32(2) + u32(0) + u32(3) + u32(1) + u32(1) + u32(1) + u32(0)
    out += u8(1) + s(b"W_RKDCLGI.S_\n<>")
    return out


def write(target, name, data):
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def main():
    for i, h in enumerate(HOSTILE):
        write("escape", "hostile-%02d" % i, h)
    for name, t in (("epoch", 0), ("now", 1700000000123456), ("neg", -1), ("min", -(2**63)),
                    ("max", 2**63 - 1), ("leap", 951782400000000), ("y0", -62167219200 * 10**6)):
        write("time", name, u64(t))
    for q in (b"", b"auto", b"json", b"metrics", b"metrics=", b"auto=", b"json&x", b"AUTO",
              b"tail", b"tail&format=json&since=12", b"%00auto", b"<script>", b"a" * 300):
        write("query", "q-" + (q[:12].decode("latin-1").replace("/", "_") or "empty")
              .replace("%", "pct").replace("&", "amp").replace("<", "lt").replace(">", "gt"), q)
    attr = [
        (b"proxy:fcgi://127.0.0.1:9000/var/www/x.php?secret=1#frag", b"proxy:fcgi://x", b"plain"),
        (b"proxy:unix:/run/php/php-fpm.sock|fcgi://localhost/var/www/<b>.php",
         b"proxy:unix:/run/php.sock|fcgi://localhost", b"PHP message: PHP Warning: x; "
         + b"w" * 600 + b"PHP message: PHP Fatal error: boom in /x.php on line 3"),
        (b"proxy:unix:/nobar", b"application/x-httpd-php", b"PHP Parse error: x" * 40),
        (b"/var/www/\xc3\xa9" + b"\xe2\x82\xac" * 200, b"cgi-script", b""),
        (b"proxy:://x", b"proxy:h" + b"h" * 100 + b"://", b"PHP Fatal error:"),
    ]
    for i, (fn, h, line) in enumerate(attr):
        write("attribution", "a-%d" % i, u8(255) + u8(63) + u8(1) + s(fn) + s(h) + s(line))
    write("attribution", "null-handler", u8(10) + u8(5) + u8(0) + s(b"proxy:http://h/a?b") + s(b"x"))
    # net: selector byte (family, prefix forcing), then the address bytes.
    for name, data in (("v4-loopback", [0, 127, 0, 0, 1] + [0] * 12),
                       ("v4-other", [3, 10, 0, 0, 1] + [0] * 12),
                       ("v6-loopback", [1] + [0] * 15 + [1]),
                       ("v6-mapped-127", [0x31] + [0] * 10 + [0xFF, 0xFF, 127, 0, 0, 1]),
                       ("v6-mapped-other", [0x31] + [0] * 10 + [0xFF, 0xFF, 10, 0, 0, 1]),
                       ("v6-compat-127", [0x11] + [0] * 12 + [127, 0, 0, 1]),
                       ("other-family", [2, 99] + [127] * 16)):
        write("net", name, bytes(data))
    for target in ("format_html", "format_json"):
        # The HTML target reads one more byte first: with_files for the section.
        lead = b"\x01" if target == "format_html" else b""
        write(target, "empty", lead + snapshot(HOSTILE, 0))
        write(target, "hostile", lead + snapshot(HOSTILE, 10))
        write(target, "big", lead + snapshot(HOSTILE[::-1], 12, big=True))
        # since_us and taken_us far apart: taken - since overflowed int64_t.
        write(target, "far-times", lead + snapshot(HOSTILE, 1, since=-(2**63), taken=2**63 - 1))
    for target in ("format_auto", "format_metrics"):
        write(target, "hostile", server(HOSTILE) + snapshot(HOSTILE, 10))
        write(target, "plain", server([b"Apache/2.4.62 (Debian)", b"prefork"], False)
              + snapshot([b"/var/www/a.php", b"/var/www/a.php", b"proxy:fcgi"], 4))
        write(target, "big", server(HOSTILE[::-1]) + snapshot(HOSTILE[::-1], 12, big=True))
        write(target, "far-times", server(HOSTILE) + snapshot(HOSTILE, 1, since=-(2**63), taken=2**63 - 1))


if __name__ == "__main__":
    main()
