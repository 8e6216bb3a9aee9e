"""The dashboard's defences: token, Host and Origin checks, paths, message validation, limits, headers."""

from __future__ import annotations

import http.client
import json
import os
import time
from pathlib import Path
from typing import Any

import pytest

from aip_cli._dashboard._play import MessageError, parse_message
from aip_cli._dashboard._security import CSP, PathRefused, RateLimiter, contained_file, is_loopback

pytestmark = [pytest.mark.server, pytest.mark.slow]


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


def ws_connect(port: int, origin: str | None, **headers: str) -> Any:
    from websockets.sync.client import connect

    extra = dict(headers)
    return connect(f"ws://127.0.0.1:{port}/api/play", origin=origin, additional_headers=extra, open_timeout=20)  # type: ignore[arg-type]


def test_every_answer_carries_the_security_headers(server: Any) -> None:
    for path in ("/", "/static/js/main.js", "/api/info", "/api/nothing"):
        status, headers, _ = raw(server.port, "GET", path)
        assert status in (200, 404)
        assert headers["content-security-policy"] == CSP
        assert "'unsafe-inline'" not in CSP and "script-src 'self'" in CSP
        assert headers["x-content-type-options"] == "nosniff" and headers["x-frame-options"] == "DENY"
        assert headers["referrer-policy"] == "no-referrer"
    _, _, page = raw(server.port, "GET", "/")
    assert b"<script>" not in page and b"onclick" not in page and b'src="/static/js/main.js"' in page


def test_host_and_origin_are_checked(server: Any) -> None:
    status, _, _ = raw(server.port, "GET", "/api/info", {"Host": "evil.example:80"})
    assert status == 421  # DNS rebinding: another name for this address
    headers = {"Content-Type": "application/json", "X-AIP-Request": "1", "Origin": "http://evil.example"}
    status, _, body = raw(server.port, "POST", "/api/models/promote", headers, b"{}")
    assert status == 403 and b"not accepted" in body
    status, _, body = raw(server.port, "POST", "/api/models/promote", {"Content-Type": "application/json"}, b"{}")
    assert status == 403 and b"x-aip-request" in body
    from websockets.exceptions import InvalidStatus

    for origin in ("http://evil.example", None):
        with pytest.raises(InvalidStatus), ws_connect(server.port, origin):
            pass


def test_paths_outside_the_allowed_folders_cannot_be_read(server: Any, store: Any, tmp_path: Path) -> None:
    secret = store.root / "secret.aiprec"
    secret.write_bytes(b"AIPREC\x00\x01 the secret")
    (store.recordings / "leak.aiprec").symlink_to(secret)
    try:
        attempts = [
            "/api/recordings/..%2Fsecret.aiprec",
            "/api/recordings/%2e%2e%2fsecret.aiprec",
            "/api/recordings/%252e%252e%252fsecret.aiprec",
            "/api/recordings/..%5csecret.aiprec",
            "/api/recordings/%2Fetc%2Fpasswd",
            "/api/recordings/leak.aiprec",
            "/api/recordings/.hidden.aiprec",
            "/static/..%2F..%2F_security.py",
            "/static/%2e%2e/%2e%2e/_app.py",
            "/static/../_app.py",
            "/api/runs/..%2F..%2Fmlflow.db/replays",
            f"/api/runs/{store.run_ids[0]}/replays/..%2F..%2Fcheckpoints%2Ffinal.ckpt",
            f"/api/runs/{store.run_ids[0]}/replays/%2e%2e%2fpolicy",
        ]
        for path in attempts:
            status, _, body = raw(server.port, "GET", path)
            assert status in (400, 404), (path, status)
            assert b"the secret" not in body and b"import" not in body, path
        listed = json.loads(raw(server.port, "GET", "/api/recordings")[2])["recordings"]
        assert "leak.aiprec" not in {r["name"] for r in listed}  # a symlink out of the folder is not listed
    finally:
        (store.recordings / "leak.aiprec").unlink()


def test_contained_file_refuses_everything_but_a_plain_name(tmp_path: Path) -> None:
    (tmp_path / "a.aiprec").write_bytes(b"x")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b.aiprec").write_bytes(b"x")
    outside = tmp_path.parent / f"{tmp_path.name}-outside.aiprec"
    outside.write_bytes(b"x")
    (tmp_path / "out.aiprec").symlink_to(outside)
    (tmp_path / "in.aiprec").symlink_to(tmp_path / "a.aiprec")
    os.mkfifo(tmp_path / "pipe.aiprec")
    assert contained_file(tmp_path, "a.aiprec", suffix=".aiprec") == (tmp_path / "a.aiprec").resolve()
    assert contained_file(tmp_path, "in.aiprec") == (tmp_path / "a.aiprec").resolve()  # a link that stays inside
    for name in [
        "../a.aiprec",
        "sub/b.aiprec",
        "/etc/passwd",
        "%2e%2e",
        "..",
        ".a.aiprec",
        "out.aiprec",
        "pipe.aiprec",
        "a.aiprec\x00",
        " a.aiprec",
        "sub",
        "a.txt",
    ]:
        with pytest.raises(PathRefused):
            contained_file(tmp_path, name, suffix=".aiprec")
    outside.unlink()


def test_messages_are_validated() -> None:
    assert parse_message('{"t":"in","k":5,"s":1}') == {"t": "in", "k": 5, "s": 1}
    assert parse_message('{"t":"start","side":"enemy","opponent":"model:chase-v1-enemy@champion"}')["side"] == "enemy"
    bad = [
        b'{"t":"in","k":1,"s":1}',  # bytes
        '{"t":"in","k":32,"s":1}',  # a key bit that does not exist
        '{"t":"in","k":true,"s":1}',
        '{"t":"in","k":1.5,"s":1}',
        '{"t":"in","k":1}',
        '{"t":"in","k":1,"s":1,"x":0}',
        '{"t":"start","side":"both","opponent":"bot:chase"}',
        '{"t":"start","side":"player","opponent":"../../etc"}',
        '{"t":"start","side":"player","opponent":"bot:chase","seed":-1}',
        '{"t":"shutdown"}',
        "[1,2]",
        "not json",
        '{"t":"in","k":1,"s":1,"pad":"' + "x" * 600 + '"}',
    ]
    for message in bad:
        with pytest.raises(MessageError):
            parse_message(message)


def test_rate_limiter() -> None:
    limiter = RateLimiter(rate=10, burst=5)
    assert all(limiter.allow("a", now=0.0) for _ in range(5))
    assert not limiter.allow("a", now=0.0)
    assert limiter.allow("b", now=0.0)  # another client has its own bucket
    assert limiter.allow("a", now=0.2)
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.1.4")


def _frames(ws: Any, seconds: float) -> int:
    n, end = 0, time.monotonic() + seconds
    while time.monotonic() < end:
        try:
            message = json.loads(ws.recv(timeout=1))
        except TimeoutError:
            continue
        n += message.get("t") == "f"
    return n


def _drain(ws: Any) -> None:
    for _ in range(400):
        ws.recv(timeout=5)


def test_floods_of_input_and_of_games_are_limited(server: Any) -> None:
    from websockets.exceptions import ConnectionClosed

    origin = f"http://127.0.0.1:{server.port}"
    start = json.dumps({"t": "start", "side": "player", "opponent": "bot:chase", "seed": 1})
    with ws_connect(server.port, origin) as calm, ws_connect(server.port, origin) as flood:
        calm.send(start)
        flood.send(start)
        assert json.loads(calm.recv(timeout=30))["t"] == "ready"
        assert json.loads(flood.recv(timeout=30))["t"] == "ready"
        with ws_connect(server.port, origin) as third:  # a third game from this address is refused
            assert "too many games" in json.loads(third.recv(timeout=30))["message"]
            with pytest.raises(ConnectionClosed):
                third.recv(timeout=10)
        closed = False
        try:
            for i in range(5000):
                flood.send(json.dumps({"t": "in", "k": i % 32, "s": i}))
        except ConnectionClosed:
            closed = True
        frames = _frames(calm, 2.0)
        assert frames >= 60, f"the other game got {frames} frames in 2 s during the flood"
        if not closed:
            with pytest.raises(ConnectionClosed):
                _drain(flood)
        assert flood.close_code == 1008
        status, _, body = raw(server.port, "GET", "/api/play/stats")
        assert status == 200 and len(json.loads(body)["games"]) == 1


def test_request_size_and_http_rate_limits(server: Any) -> None:
    headers = {"Content-Type": "application/json", "X-AIP-Request": "1"}
    status, _, _ = raw(server.port, "POST", "/api/models/promote", headers, b"{" + b" " * 10000 + b"}")
    assert status == 413
    status, _, _ = raw(server.port, "GET", "/api/runs/not-a-run/metrics")
    assert status == 404
    codes = [raw(server.port, "GET", "/static/style.css")[0] for _ in range(400)]
    assert 429 in codes  # past the burst, the client waits
    time.sleep(4.5)  # the bucket refills (60 per second) for the other tests
    assert raw(server.port, "GET", "/api/info")[0] == 200


def test_another_address_requires_the_token(store: Any, start_server: Any) -> None:
    srv = start_server(["--host", "0.0.0.0", "--tracking-uri", store.uri], store.root)
    try:
        assert srv.token and len(srv.token) >= 32
        host = {"Host": f"127.0.0.1:{srv.port}"}
        for path in ("/", "/api/info", "/static/js/main.js"):
            status, headers, _ = raw(srv.port, "GET", path, host)
            assert status == 401 and "www-authenticate" in headers
        assert raw(srv.port, "GET", "/api/info", {**host, "Authorization": "Bearer wrong"})[0] == 401
        assert raw(srv.port, "GET", "/api/info", {**host, "Authorization": f"Bearer {srv.token}"})[0] == 200
        status, headers, _ = raw(srv.port, "GET", f"/?token={srv.token}", host)
        assert status == 303 and headers["location"] == "/"
        cookie = headers["set-cookie"]
        assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
        assert raw(srv.port, "GET", "/api/info", {**host, "Cookie": cookie.split(";")[0]})[0] == 200
    finally:
        srv.stop()
