#!/usr/bin/env python3
"""A client of IGBank's raw-sockets protocol, written from
raw-sockets/PROTOCOL.md alone, with the Python standard library only.

Used as a library (RawClient) or as a program that runs one scenario
against a server and prints what it saw as one JSON object on stdout, for
transports' TestForeignClients to check:

    python3 rawclient.py HOST:PORT ACCOUNT MONTH KEY PAGE_SIZE

health; the balance of ACCOUNT; its statement for MONTH read with op 5 in
pages of PAGE_SIZE; a deposit of 150 cents with idempotency key KEY and
its replay; the balance of an account that does not exist (not_found).
Exit 0 when every call answered as the protocol says it must, 1 otherwise
(with the reason on stderr).
"""

import json
import socket
import struct
import sys

VERSION = 1
OP_BALANCE, OP_STATEMENT, OP_DEPOSIT, OP_AUTH, OP_STATEMENT_PAGE, OP_HEALTH = 1, 2, 3, 4, 5, 6
OP_GOODBYE = 0x80
REPLY = 0x80
MAX_REPLY_FRAME = 16 * 1024 * 1024  # the whole frame, length field included
MAX_REQUEST_FRAME = 64 * 1024

# The status byte of a reply, by the protocol's own table.
STATUS_CODES = {
    0: "ok", 1: "not_found", 2: "invalid_argument", 3: "idempotency_key_reused",
    4: "in_flight", 5: "unavailable", 6: "deadline_exceeded", 7: "unauthenticated",
    8: "permission_denied", 9: "internal", 10: "canceled",
}
HEALTH = {1: "SERVING", 2: "NOT_SERVING"}


def _crc32c_table():
    table = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
        table.append(c)
    return table


_TABLE = _crc32c_table()


def crc32c(data):
    """CRC-32C (Castagnoli): reflected polynomial 0x82F63B78, initial value
    and final XOR 0xFFFFFFFF."""
    c = 0xFFFFFFFF
    for b in data:
        c = _TABLE[(c ^ b) & 0xFF] ^ (c >> 8)
    return c ^ 0xFFFFFFFF


assert crc32c(b"123456789") == 0xE3069283, "CRC-32C check value"


class BankError(Exception):
    """An error reply: code is the status's name (such as "not_found")."""

    def __init__(self, code, message):
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


class ProtocolError(Exception):
    """The server sent something the protocol does not allow."""


def _str(s):
    b = s.encode("utf-8")
    if len(b) > 0xFFFF:
        raise BankError("invalid_argument", "string over 65535 bytes")
    return struct.pack(">H", len(b)) + b


class _Reader:
    def __init__(self, data):
        self.data, self.at = data, 0

    def take(self, n):
        if self.at + n > len(self.data):
            raise ProtocolError("payload cut short")
        b = self.data[self.at:self.at + n]
        self.at += n
        return b

    def u8(self):
        return self.take(1)[0]

    def u32(self):
        return struct.unpack(">I", self.take(4))[0]

    def i64(self):
        return struct.unpack(">q", self.take(8))[0]

    def str(self):
        (n,) = struct.unpack(">H", self.take(2))
        return self.take(n).decode("utf-8")

    def done(self):
        if self.at != len(self.data):
            raise ProtocolError("trailing bytes in payload")


class RawClient:
    """One connection, one call at a time (the protocol allows many in
    flight; this client needs none)."""

    def __init__(self, addr, timeout=10.0):
        host, port = addr.rsplit(":", 1)
        self.timeout = timeout
        self.sock = socket.create_connection((host, int(port)), timeout=timeout)
        self.next_id = 1

    def close(self):
        self.sock.close()

    def _recv(self, n):
        buf = bytearray()
        while len(buf) < n:
            chunk = self.sock.recv(n - len(buf))
            if not chunk:
                raise BankError("unavailable", "connection closed by the server")
            buf += chunk
        return bytes(buf)

    def call(self, op, payload=b""):
        rid = self.next_id
        self.next_id += 1
        timeout_us = min(int(self.timeout * 1_000_000), 0xFFFFFFFF)
        body = struct.pack(">BBBBQI", VERSION, op, 0, 0, rid, timeout_us) + payload
        head = struct.pack(">I", len(body) + 4) + body
        frame = head + struct.pack(">I", crc32c(head))
        if len(frame) > MAX_REQUEST_FRAME:
            raise BankError("invalid_argument", "request frame over 64 KiB")
        self.sock.sendall(frame)

        (length,) = struct.unpack(">I", self._recv(4))
        if length < 20 or length + 4 > MAX_REPLY_FRAME:
            raise ProtocolError(f"reply frame length {length}")
        rest = self._recv(length)
        (crc,) = struct.unpack(">I", rest[-4:])
        if crc32c(struct.pack(">I", length) + rest[:-4]) != crc:
            raise ProtocolError("reply checksum mismatch")
        version, rop, status, _flags, reply_id, _timeout = struct.unpack(">BBBBQI", rest[:16])
        message = rest[16:-4]
        if version != VERSION:
            raise ProtocolError(f"reply version {version}")
        if rop == OP_GOODBYE:
            code = STATUS_CODES.get(status, f"internal (unknown status {status})")
            raise BankError(code, "goodbye: " + message.decode("utf-8", "replace"))
        if rop != op | REPLY or reply_id != rid:
            raise ProtocolError(f"reply op {rop:#x} id {reply_id} to op {op} id {rid}")
        if status != 0:
            # The bare UTF-8 bytes of the message, no length prefix.
            code = STATUS_CODES.get(status, f"internal (unknown status {status})")
            raise BankError(code, message.decode("utf-8", "replace"))
        return _Reader(message)

    def health(self):
        r = self.call(OP_HEALTH)
        st = r.u8()
        r.done()
        return HEALTH.get(st, "UNKNOWN")

    def balance(self, account):
        r = self.call(OP_BALANCE, _str(account))
        bal = r.i64()
        r.done()
        return bal

    def statement_page(self, account, month, page_size=0, page_token=""):
        page_size = -1 if page_size < 0 else min(page_size, 1000)
        r = self.call(OP_STATEMENT_PAGE, _str(account) + _str(month) + struct.pack(">i", page_size) + _str(page_token))
        st = {"account": r.str(), "month": r.str(), "opening": r.i64(), "closing": r.i64()}
        count = r.u32()
        if count * 34 > len(r.data) - r.at:
            raise ProtocolError(f"count {count} past the payload")
        st["transactions"] = [
            {"id": r.i64(), "time": r.i64(), "amount": r.i64(), "balance_after": r.i64(), "key": r.str()}
            for _ in range(count)
        ]
        st["next_page_token"] = r.str()
        r.done()
        return st

    def deposit(self, account, amount, key):
        r = self.call(OP_DEPOSIT, _str(account) + struct.pack(">q", amount) + _str(key))
        tx, bal, replayed = r.i64(), r.i64(), r.u8()
        r.done()
        if replayed not in (0, 1):
            raise ProtocolError(f"replayed = {replayed}")
        return {"transaction_id": tx, "balance": bal, "replayed": bool(replayed)}


def scenario(addr, account, month, key, page_size):
    c = RawClient(addr)
    try:
        out = {"health": c.health(), "balance": c.balance(account)}
        ids, token, pages = [], "", 0
        while True:
            page = c.statement_page(account, month, page_size, token)
            pages += 1
            ids += [tx["id"] for tx in page["transactions"]]
            token = page["next_page_token"]
            if not token:
                break
            if pages > 10000:
                raise ProtocolError("statement: more than 10000 pages")
        out["statement"] = {"pages": pages, "opening": page["opening"], "closing": page["closing"], "ids": ids}
        out["deposit"] = c.deposit(account, 150, key)
        out["replay"] = c.deposit(account, 150, key)
        try:
            c.balance("999999999")
            raise ProtocolError("balance of account 999999999 succeeded; want not_found")
        except BankError as e:
            if e.code != "not_found":
                raise
            out["not_found"] = {"code": e.code, "message": e.message}
        return out
    finally:
        c.close()


def main(argv):
    if len(argv) != 6:
        print("usage: rawclient.py HOST:PORT ACCOUNT MONTH KEY PAGE_SIZE", file=sys.stderr)
        return 2
    try:
        out = scenario(argv[1], argv[2], argv[3], argv[4], int(argv[5]))
    except (BankError, ProtocolError, OSError) as e:
        print(f"rawclient: {e}", file=sys.stderr)
        return 1
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
