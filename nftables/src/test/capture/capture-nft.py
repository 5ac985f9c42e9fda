#!/usr/bin/env python3
"""Captures the netlink messages nft sends for a script, as test fixtures for our codec.

Usage (root): capture-nft.py NAME < script.nft > ../resources/nft-netlink/NAME.txt

Runs `nft --debug=mnl -f -` in a throwaway network namespace and rebuilds each message's payload
(nfgenmsg and attributes, bytes as sent: host-order attribute headers, padding included) from
libmnl's dump. Writes the script as '#' comments, then one line per message between BATCH_BEGIN
and BATCH_END: the nf_tables message number (NFT_MSG_*) and the payload in hex. libmnl shows only
the R/M/A/E flags, so flags are not captured (nft's are listed in NFTABLES.md section 5).
"""
import re
import secrets
import struct
import subprocess
import sys

ANSI = re.compile(r"\x1b\[[0-9;]*m")


def messages(dump):
    out = []
    current = None
    for raw in dump.splitlines():
        line = ANSI.sub("", raw)
        m = re.match(r"^\|\s+(\d+)\s+\|\s+\| message length \|", line)
        if m:
            current = {"type": None, "payload": bytearray()}
            out.append(current)
            continue
        m = re.match(r"^\|\s+(\d+)\s+\|\s+[RMAE-]{4}\s+\|\s+\|\s+type \| flags", line)
        if m and current is not None and current["type"] is None:
            current["type"] = int(m.group(1))
            continue
        m = re.match(r"^\|\s*(\d+)\|([N-])([B-])\|\s*(\d+)\|\s+\|len \|flags\| type\|", line)
        if m and current is not None:
            length, nested, order, typ = int(m.group(1)), m.group(2) == "N", m.group(3) == "B", int(m.group(4))
            typ |= (0x8000 if nested else 0) | (0x4000 if order else 0)
            current["payload"] += struct.pack("<HH", length, typ)
            continue
        m = re.match(r"^\| ([0-9a-f]{2}) ([0-9a-f]{2}) ([0-9a-f]{2}) ([0-9a-f]{2})\s+\|\s+\|\s+(data|extra header)", line)
        if m and current is not None:
            current["payload"] += bytes(int(g, 16) for g in m.groups()[:4])
    return out


def main():
    script = sys.stdin.read()
    ns = "cap-nft-" + secrets.token_hex(4)
    subprocess.run(["ip", "netns", "add", ns], check=True)
    try:
        r = subprocess.run(["ip", "netns", "exec", ns, "nft", "--debug=mnl", "-f", "-"], input=script,
                           capture_output=True, text=True)
        if r.returncode != 0:
            sys.exit("nft failed: " + r.stderr)
        dump = r.stdout + r.stderr
    finally:
        subprocess.run(["ip", "netns", "del", ns], check=True)
    # nft first checks its cache (GETGEN, GETTABLE...) in messages of its own; the batch starts at BEGIN (0x10).
    msgs = messages(dump)
    begin = max(i for i, m in enumerate(msgs) if m["type"] == 0x10)
    print("# nft 1.0.6 -f of:")
    for line in script.strip().splitlines():
        print("#   " + line)
    for m in msgs[begin + 1:]:
        if m["type"] == 0x11:
            break
        print("%d %s" % (m["type"] & 0xff, m["payload"].hex()))


if __name__ == "__main__":
    main()
