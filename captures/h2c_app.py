"""A tiny ASGI app for record-h2c.sh, served by hypercorn (PyPI) in cleartext, which
speaks HTTP/1.1, h2c by Upgrade (RFC 7540 §3.2) and h2c by prior knowledge on one port.
/missing answers 404, a POST 201 with the body's length, anything else 200
"hello from PATH"."""


async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    body = b""
    while True:
        msg = await receive()
        body += msg.get("body", b"")
        if not msg.get("more_body"):
            break
    path = scope["path"]
    if path == "/missing":
        status, out = 404, b"no such page\n"
    elif scope["method"] == "POST":
        status, out = 201, b"stored %d bytes\n" % len(body)
    else:
        status, out = 200, b"hello from %s\n" % path.encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"text/plain"), (b"content-length", str(len(out)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": out})
