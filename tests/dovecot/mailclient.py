#!/usr/bin/env python3
"""Log in to IMAP or POP3 with the standard library's clients, for tests/dovecot.

    mailclient.py imap|pop3|submission HOST PORT USER PASSWORD

Exit 0: the login succeeded and the mailbox could be used (IMAP: SELECT INBOX;
POP3: STAT; submission: AUTH PLAIN accepted, then NOOP). Exit 1: the server refused
the login. Exit 2: anything else (no
connection, protocol error, timeout), so that a broken server never passes for a
refused login.
"""
import imaplib
import poplib
import smtplib
import socket
import sys

TIMEOUT = 15


def imap(host, port, user, password):
    try:
        conn = imaplib.IMAP4(host, port, timeout=TIMEOUT)
    except (OSError, imaplib.IMAP4.error) as e:
        print(f"imap: cannot connect: {e}", file=sys.stderr)
        return 2
    try:
        try:
            conn.login(user, password)
        except imaplib.IMAP4.error as e:
            print(f"imap: login refused: {e}", file=sys.stderr)
            return 1
        typ, data = conn.select("INBOX")
        if typ != "OK":
            print(f"imap: SELECT INBOX failed: {typ} {data}", file=sys.stderr)
            return 2
        conn.logout()
        return 0
    except (OSError, imaplib.IMAP4.error) as e:
        print(f"imap: error after login: {e}", file=sys.stderr)
        return 2


def pop3(host, port, user, password):
    try:
        conn = poplib.POP3(host, port, timeout=TIMEOUT)
    except (OSError, poplib.error_proto) as e:
        print(f"pop3: cannot connect: {e}", file=sys.stderr)
        return 2
    try:
        conn.user(user)
        try:
            conn.pass_(password)
        except poplib.error_proto as e:
            print(f"pop3: login refused: {e}", file=sys.stderr)
            return 1
        conn.stat()
        conn.quit()
        return 0
    except (OSError, poplib.error_proto) as e:
        print(f"pop3: error: {e}", file=sys.stderr)
        return 2


def submission(host, port, user, password):
    try:
        conn = smtplib.SMTP(host, port, timeout=TIMEOUT)
    except (OSError, smtplib.SMTPException) as e:
        print(f"submission: cannot connect: {e}", file=sys.stderr)
        return 2
    try:
        conn.ehlo("client.example")
        try:
            conn.login(user, password)
        except smtplib.SMTPAuthenticationError as e:
            print(f"submission: login refused: {e}", file=sys.stderr)
            return 1
        code, msg = conn.noop()
        if code != 250:
            print(f"submission: NOOP after AUTH: {code} {msg}", file=sys.stderr)
            return 2
        conn.quit()
        return 0
    except (OSError, smtplib.SMTPException) as e:
        print(f"submission: error: {e}", file=sys.stderr)
        return 2


def main(argv):
    if len(argv) != 6 or argv[1] not in ("imap", "pop3", "submission"):
        print(__doc__, file=sys.stderr)
        return 2
    proto, host, port, user, password = argv[1], argv[2], int(argv[3]), argv[4], argv[5]
    socket.setdefaulttimeout(TIMEOUT)
    return {"imap": imap, "pop3": pop3, "submission": submission}[proto](host, port, user, password)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
