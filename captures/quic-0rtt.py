#!/usr/bin/env python3
"""QUIC 0-RTT (early data) on loopback with aioquic (PyPI), for record-quic-0rtt.sh.

  quic-0rtt.py server PORT CERT KEY
  quic-0rtt.py client PORT KEYLOG

The server answers every request stream with 200 "hello from PATH" and keeps the session
tickets it issues (in memory), so a client may resume and send early data. The client makes
two connections to 127.0.0.1:PORT: the first sends GET /first and keeps the server's
session ticket; the second resumes with it and sends GET /early before the handshake is
done, in 0-RTT packets (long header type 1, keys from CLIENT_EARLY_TRAFFIC_SECRET). Both
connections append their TLS secrets to KEYLOG (NSS key log format, aioquic's
secrets_log_file). Prints one line per request: connection (1 or 2), stream id, method,
path, the status it got, and whether the server accepted early data, tab-separated."""

import asyncio
import ssl
import sys

from aioquic.asyncio import connect, serve
from aioquic.asyncio.protocol import QuicConnectionProtocol
from aioquic.h3.connection import H3_ALPN, H3Connection
from aioquic.h3.events import DataReceived, HeadersReceived
from aioquic.quic.configuration import QuicConfiguration
from aioquic.quic.events import HandshakeCompleted

AUTHORITY = "layerscope.test"


class H3Protocol(QuicConnectionProtocol):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Made at once (not on ALPN negotiation): a resuming client speaks HTTP/3 in 0-RTT.
        self.h3 = H3Connection(self._quic)
        self.streams = {}  # stream id -> [headers, body, future]
        self.early_accepted = None

    def quic_event_received(self, event):
        if isinstance(event, HandshakeCompleted):
            self.early_accepted = event.early_data_accepted
        for ev in self.h3.handle_event(event):
            if isinstance(ev, (HeadersReceived, DataReceived)):
                st = self.streams.setdefault(ev.stream_id, [None, b"", None])
                if isinstance(ev, HeadersReceived):
                    st[0] = st[0] or dict(ev.headers)
                else:
                    st[1] += ev.data
                if ev.stream_ended:
                    self.stream_done(ev.stream_id, st)

    def stream_done(self, stream_id, st):
        raise NotImplementedError


class Server(H3Protocol):
    def stream_done(self, stream_id, st):
        path = (st[0] or {}).get(b":path", b"/")
        out = b"hello from %s\n" % path
        self.h3.send_headers(
            stream_id,
            [
                (b":status", b"200"),
                (b"content-type", b"text/plain"),
                (b"content-length", str(len(out)).encode()),
            ],
        )
        self.h3.send_data(stream_id, out, end_stream=True)
        self.transmit()


class Client(H3Protocol):
    def stream_done(self, stream_id, st):
        if st[2] is not None and not st[2].done():
            st[2].set_result(st[0].get(b":status"))

    def send_request(self, path):
        stream_id = self._quic.get_next_available_stream_id()
        headers = [
            (b":method", b"GET"),
            (b":scheme", b"https"),
            (b":authority", AUTHORITY.encode()),
            (b":path", path.encode()),
        ]
        fut = asyncio.get_running_loop().create_future()
        self.streams[stream_id] = [None, b"", fut]
        self.h3.send_headers(stream_id, headers, end_stream=True)
        self.transmit()
        return stream_id, fut


class TicketStore:
    def __init__(self):
        self.tickets = {}

    def add(self, ticket):
        self.tickets[ticket.ticket] = ticket

    def pop(self, label):
        return self.tickets.pop(label, None)


async def run_server(port, cert, key):
    cfg = QuicConfiguration(is_client=False, alpn_protocols=H3_ALPN)
    cfg.load_cert_chain(cert, key)
    store = TicketStore()
    await serve(
        "127.0.0.1",
        port,
        configuration=cfg,
        create_protocol=Server,
        session_ticket_fetcher=store.pop,
        session_ticket_handler=store.add,
    )
    await asyncio.Future()


async def run_client(port, keylog):
    tickets = []
    with open(keylog, "a") as secrets:
        for n, path in ((1, "/first"), (2, "/early")):
            cfg = QuicConfiguration(
                is_client=True,
                alpn_protocols=H3_ALPN,
                server_name=AUTHORITY,
                verify_mode=ssl.CERT_NONE,
                secrets_log_file=secrets,
            )
            if tickets:
                cfg.session_ticket = tickets[-1]
            async with connect(
                "127.0.0.1",
                port,
                configuration=cfg,
                create_protocol=Client,
                session_ticket_handler=tickets.append,
                wait_connected=n == 1,
            ) as c:
                stream_id, fut = c.send_request(path)
                status = await asyncio.wait_for(fut, 5)
                # Let the server's NewSessionTicket arrive before closing.
                await asyncio.sleep(0.2)
                print(f"{n}\t{stream_id}\tGET\t{path}\t{status.decode()}\t{c.early_accepted}", flush=True)
                c.close()
                await c.wait_closed()


if __name__ == "__main__":
    if sys.argv[1] == "server":
        asyncio.run(run_server(int(sys.argv[2]), sys.argv[3], sys.argv[4]))
    else:
        asyncio.run(run_client(int(sys.argv[2]), sys.argv[3]))
