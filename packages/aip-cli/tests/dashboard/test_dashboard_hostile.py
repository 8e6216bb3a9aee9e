"""The dashboard under hostile requests, sent to the real ``aip dashboard`` server as an attacker would.

Seeded random HTTP requests (odd methods, paths with traversal, encodings and control bytes, query
values out of range, bodies that are huge, deeply nested, not UTF-8 or not JSON), malformed HTTP at
the socket, and WebSocket abuse (no or another origin, frames past the size limit, binary frames,
junk and deeply nested messages). Every answer must be a refusal with a clear message (never a 500,
never an "unexpected" error or a traceback in the server's log), nothing may hang, and the server
must go on answering normal requests; on another address than loopback every request without the
token is refused, whatever else it carries.
"""

from __future__ import annotations

import http.client
import json
import random
import socket
import time
from typing import Any
from urllib.parse import quote

import pytest

pytestmark = [pytest.mark.server, pytest.mark.slow]

ANSWERS = {200, 303, 400, 401, 403, 404, 405, 413, 421, 429}
DEEP = b"[" * 2000 + b"]" * 2000


def raw(
    port: int, method: str, path: str, headers: dict[str, str] | None = None, body: bytes | None = None
) -> tuple[int, dict[str, str], bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
        for key, value in {"Host": f"127.0.0.1:{port}", **(headers or {})}.items():
            conn.putheader(key, value)
        if body is not None:
            conn.putheader("Content-Length", str(len(body)))
        conn.endheaders(body)
        response = conn.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        conn.close()


def ws_connect(port: int, origin: str | None) -> Any:
    from websockets.sync.client import connect

    return connect(f"ws://127.0.0.1:{port}/api/play", origin=origin, open_timeout=20)  # type: ignore[arg-type]


def _pieces(rng: random.Random, run_id: str, recording: str) -> str:
    return rng.choice(
        [
            run_id,
            recording,
            "..",
            "%2e%2e",
            "%2e%2e%2f%2e%2e%2fetc%2fpasswd",
            "..%2f..%2fetc%2fpasswd",
            "%00",
            "a%00b",
            "%ff%fe",
            "%C3%A9",
            quote("名前"),
            "x" * 3000,
            "etc/passwd",
            "%252e%252e",
            "~root",
            ".git",
            "-1",
            "0" * 40,
            run_id + "%00",
            quote(recording + "/../../x"),
            "%0d%0aSet-Cookie:%20a=b",
        ]
    )


def _request(rng: random.Random, run_id: str, recording: str) -> tuple[str, str, dict[str, str], bytes | None]:
    piece = _pieces(rng, run_id, recording)
    path = rng.choice(
        [
            f"/api/runs/{piece}/metrics",
            f"/api/runs/{run_id}/metrics?keys={quote(','.join(['k'] * rng.choice([1, 17, 300])))}",
            f"/api/runs/{piece}/replays",
            f"/api/runs/{run_id}/replays/{piece}",
            f"/api/recordings/{piece}",
            f"/static/{piece}",
            f"/static/js/{piece}",
            f"/{piece}",
            f"/api/behaviour?of={quote(rng.choice(['bot:nope', 'bot:chase', piece, 'chase-v1-enemy@nope', 'x/1']))}"
            f"&task={rng.choice(['chase-v1', 'nope', piece])}"
            f"&episodes={rng.choice(['1', '0', '513', '1e9', '%C2%B2', '%D9%A1', '-1', ''])}",
            f"/api/stream?runs={quote(','.join([piece] * rng.choice([0, 1, 9])))}",
            "/api/models",
            "/api/models/promote",
            "/api/info?token=" + piece,
            "//api//info",
            "/api/info/../../../etc/passwd",
        ]
    )
    method = rng.choice(["GET", "GET", "GET", "HEAD", "POST", "POST", "PUT", "DELETE", "OPTIONS", "PATCH", "TRACE"])
    headers: dict[str, str] = {}
    body: bytes | None = None
    if method not in ("GET", "HEAD") or rng.random() < 0.1:
        headers["Content-Type"] = rng.choice(["application/json", "application/json; charset=utf-16", "text/plain", ""])
        if rng.random() < 0.9:
            headers["X-AIP-Request"] = "1"
        body = rng.choice(
            [
                b"{}",
                b'{"model": "chase-v1-enemy/1"}',
                b'{"model": ' + b'"' + b"x" * 3000 + b'"}',
                DEEP,
                b"\xff\xfe\x00",
                b"NaN",
                b'{"model": NaN}',
                b"[]",
                b'{"model": {"$gt": ""}}',
                b'{"model": ["chase-v1-enemy/1"]}',
                b'{"model": "chase-v1-enemy/1", "by": "rating"}',
                b"{" * 2000,
                b" " * 5000,
                b"",
            ]
        )
    if rng.random() < 0.1:
        headers["Cookie"] = rng.choice(["aip_token=" + "x" * 4000, "=;;;=", '"', "aip_token"])
    if rng.random() < 0.1:
        headers["Authorization"] = rng.choice(["Bearer", "Bearer " + "\u00e9", "Basic Og==", "Bearer " + "a" * 5000])
    if rng.random() < 0.05:
        headers["Range"] = rng.choice(
            ["bytes=0-", "bytes=-1", "bytes=99999999-", "bytes=1-0,5-2", "bytes=" + "0-1," * 200]
        )
    return method, path, headers, body


def _check_answer(status: int, body: bytes, what: str) -> None:
    assert status in ANSWERS, f"{what}: status {status}: {body[:300]!r}"
    if status >= 400 and body:
        try:
            message = json.loads(body)["error"]
        except ValueError:
            raise AssertionError(
                f"{what}: status {status} with a body that is not a JSON error: {body[:200]!r}"
            ) from None
        assert message and "unexpected" not in message and "Traceback" not in message, (what, message)


def _alive(server: Any) -> None:
    for _ in range(50):
        status = raw(server.port, "GET", "/api/info")[0]
        if status != 429:
            assert status == 200
            return
        time.sleep(0.2)
    raise AssertionError("the dashboard stopped answering")


def _log_is_clean(server: Any) -> None:
    text = "".join(server.lines)
    assert "Traceback" not in text and "Exception in ASGI" not in text, text[-3000:]


def test_random_hostile_requests_get_clear_refusals(server: Any, store: Any) -> None:
    rng = random.Random(15)
    seen: set[int] = set()
    for i in range(260):
        method, path, headers, body = _request(rng, store.run_ids[0], store.recording)
        status, _, answer = raw(server.port, method, path, headers, body)
        seen.add(status)
        _check_answer(status, answer, f"#{i} {method} {path[:120]} {headers} {body[:40] if body else None!r}")
        time.sleep(0.02)  # under the rate limit (60 a second): the answers are the handlers', not 429s
    assert {200, 400, 404} <= seen, seen
    _alive(server)


def test_nested_and_odd_json_bodies_are_refused_as_bad_input(server: Any) -> None:
    headers = {"Content-Type": "application/json", "X-AIP-Request": "1"}
    for body in (DEEP, b"\xff\xfe", b"NaN", b'{"model": NaN}', b"[1]", b'{"model": 1e999}', b'"x"'):
        status, _, answer = raw(server.port, "POST", "/api/models/promote", headers, body)
        assert status == 400, (body[:20], status, answer[:200])
        assert "unexpected" not in json.loads(answer)["error"]


def _exchange(port: int, data: bytes, timeout: float = 15.0) -> bytes:
    """Send raw bytes and read until the server closes or stops sending (bounded)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(data)
        sock.shutdown(socket.SHUT_WR)
        chunks = []
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                chunk = sock.recv(65536)
            except (ConnectionResetError, TimeoutError):
                break
            if not chunk:
                break
            chunks.append(chunk)
        return b"".join(chunks)


def test_malformed_http_is_refused_and_the_server_goes_on(server: Any) -> None:
    host = f"Host: 127.0.0.1:{server.port}\r\n".encode()
    cases = [
        b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + b"\x00" * 64,  # a TLS hello on the plain port
        b"GET\r\n\r\n",
        b"GET / HTTP/9.9\r\n" + host + b"\r\n",
        b"GET /" + b"a" * 70000 + b" HTTP/1.1\r\n" + host + b"\r\n",  # a request line past the limit
        b"GET / HTTP/1.1\r\n" + host + b"X-Big: " + b"b" * 70000 + b"\r\n\r\n",  # a header past the limit
        b"GET / HTTP/1.1\r\n" + host + b"".join(b"X-%d: v\r\n" % i for i in range(3000)) + b"\r\n",
        b"POST /api/models/promote HTTP/1.1\r\n" + host + b"Content-Length: abc\r\n\r\n{}",
        b"POST /api/models/promote HTTP/1.1\r\n" + host + b"Content-Length: -5\r\n\r\n{}",
        b"POST /api/models/promote HTTP/1.1\r\n" + host + b"Content-Length: 99999999999999999999\r\n\r\n{}",
        b"POST /api/models/promote HTTP/1.1\r\n" + host + b"Content-Length: 2\r\nContent-Length: 3\r\n\r\n{}",
        b"POST /api/models/promote HTTP/1.1\r\n" + host + b"Transfer-Encoding: chunked\r\n"
        b"Content-Type: application/json\r\nX-AIP-Request: 1\r\n\r\nZZ\r\n{}\r\n0\r\n\r\n",
        b"POST /api/models/promote HTTP/1.1\r\n" + host + b"Transfer-Encoding: chunked\r\n"
        b"Content-Type: application/json\r\nX-AIP-Request: 1\r\n\r\n" + b"1\r\n[\r\n" * 5000 + b"0\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: 127.0.0.1:1\r\nHost: evil\r\n\r\n",
        b"GET / HTTP/1.1\r\n\r\n",  # no Host at all
        b"G\x00T / HTTP/1.1\r\n" + host + b"\r\n",
        b"GET /\xff\xfe HTTP/1.1\r\n" + host + b"\r\n",
        b"GET / HTTP/1.1\r\n" + host + b"Upgrade: websocket\r\nConnection: Upgrade\r\n\r\n",
        b"\r\n" * 20000,
        bytes(random.Random(3).randbytes(20000)),
    ]
    for i, data in enumerate(cases):
        answer = _exchange(server.port, data)
        if answer:
            status = int(answer.split(b" ", 2)[1]) if answer.startswith(b"HTTP/1.1 ") else 0
            assert status and status != 500 and status < 600, (i, answer[:300])
            assert b"Traceback" not in answer, i
        time.sleep(0.05)
    # A client that opens connections and sends nothing, or half a request, does not block the others.
    idle = [socket.create_connection(("127.0.0.1", server.port), timeout=10) for _ in range(20)]
    try:
        for s in idle[:10]:
            s.sendall(b"GET /api/info HTTP/1.1\r\nHost: 127.0.0.1")
        t0 = time.monotonic()
        _alive(server)
        assert time.monotonic() - t0 < 10
    finally:
        for s in idle:
            s.close()
    _alive(server)
    _log_is_clean(server)


def test_websocket_abuse_is_closed_cleanly(server: Any) -> None:
    from websockets.exceptions import ConnectionClosed, InvalidStatus

    origin = f"http://127.0.0.1:{server.port}"
    for bad_origin in (None, "http://evil.example", "null", origin + ".evil.example"):
        try:
            with ws_connect(server.port, bad_origin) as ws:
                with pytest.raises(ConnectionClosed):
                    ws.recv(timeout=10)
                assert ws.close_code in (1008, 1006, 403), bad_origin
        except InvalidStatus as exc:
            assert exc.response.status_code == 403, bad_origin  # noqa: PT017
    messages: list[Any] = [
        "not json",
        json.dumps({"t": "start", "side": "player", "opponent": "bot:chase", "seed": 10**400}),
        "[" * 2000 + "]" * 2000,
        json.dumps({"t": "start", "side": {"x": 1}, "opponent": ["bot:chase"]}),
        json.dumps({"t": "start", "side": "player", "opponent": "model:../../etc/passwd"}),
        json.dumps({"t": "start", "side": "player", "opponent": "model:chase-v1-enemy@nope"}),
        json.dumps({"t": "in", "k": -1, "s": "x"}),
        json.dumps({"t": "\u0000" * 100}),
        b"\x00\xff binary",
        "x" * 10_000,  # past the 4 KiB message limit
    ]
    for message in messages:
        with ws_connect(server.port, origin) as ws:
            ws.send(message)
            answers = []
            try:
                for _ in range(5):
                    answers.append(ws.recv(timeout=10))
            except ConnectionClosed:
                pass
            except TimeoutError:
                pass  # the game went on waiting for a valid start: no answer is owed
            for answer in answers:
                if isinstance(answer, str) and answer.startswith("{"):
                    doc = json.loads(answer)
                    if doc.get("t") == "error":
                        assert doc["message"] and "unexpected" not in doc["message"], doc
        time.sleep(0.05)
    _alive(server)
    status, _, body = raw(server.port, "GET", "/api/play/stats")
    assert status == 200 and json.loads(body)["games"] == []  # nothing left running
    _log_is_clean(server)


def test_without_the_token_nothing_else_helps(store: Any, start_server: Any) -> None:
    srv = start_server(["--host", "0.0.0.0", "--tracking-uri", store.uri], store.root)
    try:
        host = f"127.0.0.1:{srv.port}"
        near = srv.token[:-1] + ("A" if srv.token[-1] != "A" else "B")
        for headers in (
            {"Host": host},
            {"Host": host, "Authorization": f"Bearer {near}"},
            {"Host": host, "Authorization": f"bearer  {srv.token[:10]}"},
            {"Host": host, "Cookie": f"aip_token={near}"},
            {"Host": host, "Cookie": "aip_token=" + srv.token + "x"},
            {"Host": host, "Origin": f"http://{host}", "X-AIP-Request": "1"},
        ):
            for path in (
                "/",
                "/api/info",
                "/api/models",
                f"/api/runs/{store.run_ids[0]}/metrics",
                "/static/style.css",
                f"/api/info?token={near}",
                "/static/../api/info",
            ):
                status, _, _ = raw(srv.port, "GET", path, headers)
                assert status == 401, (path, headers)
        from websockets.exceptions import ConnectionClosed, InvalidStatus

        try:
            with ws_connect(srv.port, f"http://{host}") as ws, pytest.raises(ConnectionClosed):
                ws.recv(timeout=10)
        except InvalidStatus as exc:
            assert exc.response.status_code in (401, 403)  # noqa: PT017
        assert raw(srv.port, "GET", f"/api/info?token={srv.token}", {"Host": host})[0] == 200
    finally:
        srv.stop()


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--port", "70000"], "'--port': Input should be less than or equal to 65535"),
        (["--port", "-1"], "'--port': Input should be greater than or equal to 0"),
        (["--port", "abc"], "'--port': Input should be a valid integer"),
        (["--host", "300.1.2.3"], "300.1.2.3"),
        (["--host", "0.0.0.0", "--token", "short"], "at least 16"),
        (["--max-games", "0"], "'--max-games': Input should be greater than or equal to 1"),
    ],
)
def test_bad_addresses_and_options_are_usage_errors(args: list[str], needle: str, store: Any) -> None:
    from typer.testing import CliRunner

    from aip_cli import app

    result = CliRunner().invoke(app, ["dashboard", *args, "--tracking-uri", store.uri])
    assert result.exit_code == 2, result.output
    assert needle in result.output and "Traceback" not in result.output
