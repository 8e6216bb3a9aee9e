"""The dashboard's API against a real SQLite store made by short trainings, served by `aip dashboard`."""

from __future__ import annotations

import http.client
import json
from typing import Any

import numpy as np
import pytest

pytestmark = [pytest.mark.server, pytest.mark.slow]


def request(
    server: Any, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None
) -> tuple[int, dict[str, str], bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
    sent = {"Host": f"127.0.0.1:{server.port}", **(headers or {})}
    data = None
    if body is not None:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        sent.setdefault("Content-Type", "application/json")
    conn.request(method, path, body=data, headers=sent)
    response = conn.getresponse()
    out = response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    conn.close()
    return out


def get(server: Any, path: str) -> Any:
    status, _, body = request(server, "GET", path)
    assert status == 200, (path, status, body[:300])
    return json.loads(body)


def test_runs_metrics_and_replays_come_from_the_store(server: Any, store: Any) -> None:
    runs = get(server, "/api/runs")["runs"]
    assert set(store.run_ids) <= {r["run_id"] for r in runs}  # other tests may train more
    run = next(r for r in runs if r["run_id"] == store.run_ids[0])
    assert run["task"] == "chase-v1" and run["status"] == "FINISHED"
    metrics = get(server, f"/api/runs/{run['run_id']}/metrics?keys=success_rate,steps_per_second")
    steps = [p[0] for p in metrics["metrics"]["steps_per_second"]]
    assert steps == sorted(steps) and steps[-1] == 8192
    assert "loss/entropy" in metrics["keys"]
    replays = get(server, f"/api/runs/{run['run_id']}/replays")["replays"]
    assert [r["update"] for r in replays] == [0, 8, 16]


def test_a_replay_holds_the_engine_s_positions(server: Any, store: Any) -> None:
    import aip_engine
    from aip_ml.tracking import make_client

    run_id = store.run_ids[0]
    replay = get(server, f"/api/runs/{run_id}/replays/update-000016.aipreplay")
    assert replay["header"]["task"] == "chase-v1" and replay["header"]["update"] == 16
    ep = replay["episodes"][0]
    # The same episode played again by the engine with the registered policy of that run.
    client = make_client(store.uri)
    version = next(v for v in client.search_model_versions("name='chase-v1-enemy'") if v.run_id == run_id)
    from aip_ml.tracking import cached_policy

    policy = aip_engine.load_policy(cached_policy(store.uri, "chase-v1-enemy", version.version))
    worlds = aip_engine.Worlds(
        "chase-v1", len(replay["episodes"]), seed=replay["header"]["seed"], threads=1, auto_reset=False
    )
    obs = worlds.reset(seed=replay["header"]["seed"])
    for t in range(1, min(ep["frames"], 120) + 1):
        obs = worlds.step(policy.act(np.asarray(obs))).obs
        st = worlds.state()
        assert ep["player"][t] == pytest.approx(list(st["player_pos"][0]), abs=0.01)
        assert ep["enemy"][t] == pytest.approx(list(st["enemy_pos"][0]), abs=0.01)


def test_a_game_recording_is_played_again_exactly(server: Any, store: Any) -> None:
    listed = get(server, "/api/recordings")["recordings"]
    assert [r["name"] for r in listed] == [store.recording]
    assert listed[0]["role"] == "player" and listed[0]["complete"]
    replay = get(server, f"/api/recordings/{store.recording}")
    ep = replay["episodes"][0]
    assert ep["note"] == ""  # every recorded observation matched the replayed one
    assert ep["frames"] == listed[0]["frames"]


def test_models_show_scores_beside_the_bots(server: Any) -> None:
    versions = get(server, "/api/models")["versions"]
    references = [v["reference"] for v in versions]
    assert references[-2:] == ["chase-v1-enemy/2", "chase-v1-enemy/1"]  # newest first
    first = versions[-2]
    assert set(first["bots"]) == {"chase", "intercept"} and 0 <= first["agent"]["success_rate"] <= 1
    assert first["lineage"] == {} and first["ratings"] == {}


def test_promote_goes_through_the_command_s_checks(server: Any) -> None:
    headers = {"X-AIP-Request": "1", "Origin": f"http://127.0.0.1:{server.port}"}
    status, _, body = request(server, "POST", "/api/models/promote", {"reference": "chase-v1-enemy"}, headers)
    assert status == 400 and b"NAME/VERSION" in body
    status, _, body = request(
        server, "POST", "/api/models/promote", {"reference": "chase-v1-enemy/1", "episodes": 8}, headers
    )
    assert status == 200, body
    assert json.loads(body)["promoted"] is True  # no champion yet
    status, _, body = request(
        server, "POST", "/api/models/promote", {"reference": "chase-v1-enemy/2", "episodes": 8}, headers
    )
    outcome = json.loads(body)
    assert status == 200 and outcome["champion"] == "chase-v1-enemy/1" and "success" in outcome["reason"]
    aliases = {v["reference"]: v["aliases"] for v in get(server, "/api/models")["versions"]}
    winner = "chase-v1-enemy/2" if outcome["promoted"] else "chase-v1-enemy/1"
    assert aliases[winner] == ["champion"]
    status, _, _ = request(server, "POST", "/api/models/promote", {"reference": "nope/1", "episodes": 8}, headers)
    assert status == 404
    status, _, body = request(
        server, "POST", "/api/models/promote", {"reference": "chase-v1-enemy/1", "episodes": True}, headers
    )
    assert status == 400 and b"episodes" in body


def test_behaviour_pictures(server: Any) -> None:
    bot = get(server, "/api/behaviour?of=bot:chase&task=chase-v1&episodes=8")
    assert bot["success_rate"] > 0.5 and any(kind == "catch" for _, _, kind in bot["events"])
    assert sum(map(sum, bot["occupancy"])) > 8
    field = bot["field"]
    centre = np.array(field["centre"])
    for point, move, contact in zip(field["points"], field["moves"], field["contact"], strict=True):
        if contact:
            continue
        towards = np.array(point) - centre  # no wrap is shorter inside half the arena
        if abs(towards[0]) < 600 and abs(towards[1]) < 330:
            assert float(np.dot(towards, move)) > 0  # the chase bot moves towards the player
    model = get(server, "/api/behaviour?of=chase-v1-enemy/1&episodes=8")
    assert model["reference"] == "chase-v1-enemy/1" and len(model["field"]["moves"]) == len(field["points"])
    status, _, body = request(server, "GET", "/api/behaviour?of=bot:chase&task=nope")
    assert status == 400 and b"task" in body
    status, _, body = request(server, "GET", "/api/behaviour?of=chase-v1-enemy/1&episodes=99999")
    assert status == 400 and b"episodes" in body
