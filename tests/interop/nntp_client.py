#!/usr/bin/env python3
"""Tiny NNTP/IMAP client for tests/interop/inn-peering.sh (raw sockets: no nntplib, which Python 3.13 removed).

  nntp_client.py post HOST PORT [--reader] [--user U --password P] < article   -> prints the reply to the article
                                                      (with --user: STARTTLS first when the server offers it)
  nntp_client.py article HOST PORT MSGID [--reader] [--user U --password P]    -> prints the article, exit 1 if not 220
  nntp_client.py imap HOST PORT USER PASSWORD MAILBOX MSGID                     -> exit 0 if MAILBOX holds MSGID
"""
import imaplib
import socket
import ssl
import sys


class Nntp:
    def __init__(self, host, port):
        self.sock = socket.create_connection((host, int(port)), timeout=15)
        self.file = self.sock.makefile("rb")
        self.greeting = self.line()

    def starttls(self):
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        self.sock = ctx.wrap_socket(self.sock)
        self.file = self.sock.makefile("rb")

    def line(self):
        return self.file.readline().decode("utf-8", "replace").rstrip("\r\n")

    def cmd(self, text):
        self.sock.sendall((text + "\r\n").encode())
        return self.line()

    def block(self):
        lines = []
        while True:
            raw = self.file.readline()
            if raw in (b".\r\n", b"") :
                return lines
            if raw.startswith(b".."):
                raw = raw[1:]
            lines.append(raw.decode("utf-8", "replace").rstrip("\r\n"))


def opt(name, default=None):
    return sys.argv[sys.argv.index(name) + 1] if name in sys.argv else default


def main():
    verb = sys.argv[1]
    if verb == "imap":
        host, port, user, password, mailbox, msgid = sys.argv[2:8]
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        imap = imaplib.IMAP4(host, int(port))
        imap.starttls(ssl_context=ctx)
        imap.login(user, password)
        typ, _ = imap.select('"' + mailbox + '"', readonly=True)
        if typ != "OK":
            print("cannot select", mailbox)
            return 1
        typ, data = imap.search(None, "HEADER", "Message-ID", msgid)
        found = typ == "OK" and data and data[0].split()
        print(mailbox, "holds" if found else "lacks", msgid)
        imap.logout()
        return 0 if found else 1

    c = Nntp(sys.argv[2], sys.argv[3])
    if not c.greeting.startswith(("200", "201")):
        print("greeting:", c.greeting)
        return 1
    if "--reader" in sys.argv:
        c.cmd("MODE READER")
    if opt("--user"):
        # RFC 4642: credentials only after STARTTLS (Postern refuses them in clear text by default).
        if c.cmd("STARTTLS").startswith("382"):
            c.starttls()
        r = c.cmd("AUTHINFO USER " + opt("--user"))
        if r.startswith("381"):
            r = c.cmd("AUTHINFO PASS " + opt("--password"))
        if not r.startswith("281"):
            print("AUTHINFO:", r)
            return 1
    if verb == "caps":
        r = c.cmd("CAPABILITIES")
        print("\n".join(c.block()) if r.startswith("101") else r)
        return 0
    if verb == "post":
        r = c.cmd("POST")
        if not r.startswith("340"):
            print("POST:", r)
            return 1
        body = sys.stdin.read().replace("\r\n", "\n").rstrip("\n").split("\n")
        data = "".join(("." + l if l.startswith(".") else l) + "\r\n" for l in body) + ".\r\n"
        c.sock.sendall(data.encode())
        r = c.line()
        print(r)
        c.cmd("QUIT")
        return 0 if r.startswith("240") else 1
    if verb == "post-many":
        # post-many HOST PORT COUNT ID-PREFIX GROUP: COUNT articles over this one session, Message-ID <ID-PREFIX.N@postern.test>
        count, prefix, group = int(sys.argv[4]), sys.argv[5], sys.argv[6]
        for n in range(count):
            r = c.cmd("POST")
            if not r.startswith("340"):
                print("POST:", r)
                return 1
            c.sock.sendall((f"From: Interop <interop@interop.test>\r\nNewsgroups: {group}\r\nSubject: Burst {n}\r\n"
                            f"Message-ID: <{prefix}.{n}@postern.test>\r\n\r\nBurst article {n}.\r\n.\r\n").encode())
            r = c.line()
            if not r.startswith("240"):
                print(f"article {n}:", r)
                return 1
        c.cmd("QUIT")
        return 0
    if verb == "have-all":
        # have-all HOST PORT COUNT ID-PREFIX: STAT every <ID-PREFIX.N@postern.test>; prints and counts the missing ones
        count, prefix = int(sys.argv[4]), sys.argv[5]
        missing = [n for n in range(count) if not c.cmd(f"STAT <{prefix}.{n}@postern.test>").startswith("223")]
        if missing:
            print(f"{len(missing)} of {count} missing, first {missing[:5]}")
        c.cmd("QUIT")
        return 1 if missing else 0
    if verb == "article":
        r = c.cmd("ARTICLE " + sys.argv[4])
        if not r.startswith("220"):
            print(r)
            return 1
        print("\n".join(c.block()))
        c.cmd("QUIT")
        return 0
    print("unknown verb", verb)
    return 2


if __name__ == "__main__":
    sys.exit(main())
