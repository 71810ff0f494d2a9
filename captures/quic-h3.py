#!/usr/bin/env python3
"""HTTP/3 over QUIC on loopback with aioquic (PyPI), for record-quic-h3.sh.

  quic-h3.py server PORT CERT KEY
  quic-h3.py client PORT KEYLOG

The server answers every request stream: /missing 404, a POST 201 with the body length,
/big 200 with a 6000-byte body (several packets), anything else 200 "hello from PATH".
The client opens one connection to 127.0.0.1:PORT and sends, one after another,
GET /index.html, GET /missing, POST /post (body "name=layerscope&x=1"), GET /big, then
two GETs at once (/a and /b), appends the TLS secrets to KEYLOG (NSS key log format,
aioquic's secrets_log_file) and prints one line per request: stream id, method, path and
the status it got, tab-separated."""

import asyncio
import ssl
import sys

from aioquic.asyncio import connect, serve
from aioquic.asyncio.protocol import QuicConnectionProtocol
from aioquic.h3.connection import H3_ALPN, H3Connection
from aioquic.h3.events import DataReceived, HeadersReceived
from aioquic.quic.configuration import QuicConfiguration
from aioquic.quic.events import ProtocolNegotiated

AUTHORITY = "layerscope.test"


class H3Protocol(QuicConnectionProtocol):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.h3 = None
        self.streams = {}  # stream id -> [headers, body, future]

    def quic_event_received(self, event):
        if isinstance(event, ProtocolNegotiated):
            self.h3 = H3Connection(self._quic)
        if self.h3 is None:
            return
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
        headers, body = st[0] or {}, st[1]
        method = headers.get(b":method", b"GET")
        path = headers.get(b":path", b"/").decode()
        if path == "/missing":
            status, out = 404, b"no such page\n"
        elif method == b"POST":
            status, out = 201, b"stored %d bytes\n" % len(body)
        elif path == "/big":
            status, out = 200, bytes(ord("a") + i % 26 for i in range(6000))
        else:
            status, out = 200, b"hello from %s\n" % path.encode()
        self.h3.send_headers(
            stream_id,
            [
                (b":status", str(status).encode()),
                (b"server", b"layerscope-h3-test"),
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

    async def request(self, method, path, body=b""):
        stream_id = self._quic.get_next_available_stream_id()
        headers = [
            (b":method", method),
            (b":scheme", b"https"),
            (b":authority", AUTHORITY.encode()),
            (b":path", path.encode()),
            (b"user-agent", b"aioquic-layerscope"),
        ]
        if body:
            headers.append((b"content-type", b"application/x-www-form-urlencoded"))
        fut = asyncio.get_running_loop().create_future()
        self.streams[stream_id] = [None, b"", fut]
        self.h3.send_headers(stream_id, headers, end_stream=not body)
        if body:
            self.h3.send_data(stream_id, body, end_stream=True)
        self.transmit()
        status = await asyncio.wait_for(fut, 5)
        print(f"{stream_id}\t{method.decode()}\t{path}\t{status.decode()}", flush=True)


async def run_server(port, cert, key):
    cfg = QuicConfiguration(is_client=False, alpn_protocols=H3_ALPN)
    cfg.load_cert_chain(cert, key)
    await serve("127.0.0.1", port, configuration=cfg, create_protocol=Server)
    await asyncio.Future()


async def run_client(port, keylog):
    with open(keylog, "a") as secrets:
        cfg = QuicConfiguration(
            is_client=True,
            alpn_protocols=H3_ALPN,
            server_name=AUTHORITY,
            verify_mode=ssl.CERT_NONE,
            secrets_log_file=secrets,
        )
        async with connect("127.0.0.1", port, configuration=cfg, create_protocol=Client) as c:
            await c.request(b"GET", "/index.html")
            await c.request(b"GET", "/missing")
            await c.request(b"POST", "/post", b"name=layerscope&x=1")
            await c.request(b"GET", "/big")
            await asyncio.gather(c.request(b"GET", "/a"), c.request(b"GET", "/b"))
            c.close()
            await c.wait_closed()


if __name__ == "__main__":
    if sys.argv[1] == "server":
        asyncio.run(run_server(int(sys.argv[2]), sys.argv[3], sys.argv[4]))
    else:
        asyncio.run(run_client(int(sys.argv[2]), sys.argv[3]))
