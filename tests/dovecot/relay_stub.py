#!/usr/bin/env python3
"""A stand-in SMTP relay for Dovecot's submission service in tests/dovecot.

    relay_stub.py PORT

Listens on 127.0.0.1:PORT. Dovecot's submission process connects to its relay as soon
as a client has logged in; this answers the greeting, EHLO/HELO, NOOP, RSET and QUIT,
and refuses mail (nothing is relayed). Runs until killed.
"""
import socketserver
import sys


class Handler(socketserver.StreamRequestHandler):
    def handle(self):
        self.wfile.write(b"220 relay-stub ESMTP\r\n")
        for raw in self.rfile:
            verb = raw.decode("ascii", "replace").strip().split(" ", 1)[0].upper()
            if verb in ("EHLO", "HELO"):
                self.wfile.write(b"250 relay-stub\r\n")
            elif verb in ("NOOP", "RSET"):
                self.wfile.write(b"250 OK\r\n")
            elif verb == "QUIT":
                self.wfile.write(b"221 bye\r\n")
                return
            else:
                self.wfile.write(b"554 relay-stub relays nothing\r\n")


class Server(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True


if __name__ == "__main__":
    with Server(("127.0.0.1", int(sys.argv[1])), Handler) as srv:
        srv.serve_forever()
