"""Play in the browser: the game runs here at 60 frames per second, the page draws it and sends keys.

One WebSocket per game. The page sends ``start`` (side, opponent), then ``in`` messages with the keys
held (a bit mask) whenever they change, and ``pause`` or ``quit``; the server answers ``ready``, then
one ``f`` message per frame (positions, events, score, lives, level, and ``a``: the last input it has
applied, so that the page can measure input-to-screen latency), and ``over`` at the end.

The frames follow real time: a game steps as many frames as the clock asks for (a few at most per
tick, so a stalled machine skips time instead of running fast afterwards). Every message is checked
(JSON object, known type, field types and ranges, at most ``MAX_MESSAGE`` characters) and rate-limited
per game; a flood of input is dropped and, past a bound, the game is closed. The number of games is
limited in all and per client address, so no client can crowd out the others.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from aip_cli._dashboard._security import RateLimiter

__all__ = ["FPS", "KEYS", "MAX_MESSAGE", "GameLimits", "PlayHub"]

FPS = 60
#: Bits of the ``k`` field of an ``in`` message.
KEYS = {"left": 1, "right": 2, "up": 4, "down": 8, "fire": 16}
MAX_MESSAGE = 512
_MAX_CATCH_UP = 4
_OPPONENT = re.compile(r"^(bot:[a-z_]{1,32}|model:[A-Za-z0-9][A-Za-z0-9._-]{0,120}(/\d{1,9}|@[A-Za-z0-9_-]{1,60})?)$")


@dataclass(frozen=True)
class GameLimits:
    """How many games and messages the dashboard accepts.

    Attributes:
        games: Games at once, in all.
        games_per_client: Games at once from one client address.
        messages_per_second: Input messages a game accepts per second (bursts up to twice that).
        drop_limit: Dropped or invalid messages after which the game is closed.
    """

    games: int = 8
    games_per_client: int = 2
    messages_per_second: float = 120.0
    drop_limit: int = 600


class MessageError(ValueError):
    """A message from the page that is not valid."""


def parse_message(text: Any) -> dict[str, Any]:
    """Check one message from the page.

    Args:
        text: The WebSocket message (it must be text).

    Returns:
        The message: ``{"t": "start", "side", "opponent", "seed"?}``, ``{"t": "in", "k", "s"}``,
        ``{"t": "pause"}`` or ``{"t": "quit"}``.

    Raises:
        MessageError: What is wrong with it.
    """
    if not isinstance(text, str):
        raise MessageError("messages must be JSON text")
    if len(text) > MAX_MESSAGE:
        raise MessageError(f"messages are at most {MAX_MESSAGE} characters")
    try:
        msg = json.loads(text)
    except ValueError:
        raise MessageError("a message must be JSON") from None
    if not isinstance(msg, dict) or not isinstance(msg.get("t"), str):
        raise MessageError("a message is a JSON object with a type 't'")
    kind = msg["t"]
    allowed = {"start": {"t", "side", "opponent", "seed"}, "in": {"t", "k", "s"}, "pause": {"t"}, "quit": {"t"}}
    if kind not in allowed:
        raise MessageError(f"unknown message type {kind[:20]!r}")
    extra = set(msg) - allowed[kind]
    if extra:
        raise MessageError(f"unknown fields in a {kind!r} message: {sorted(extra)[:5]}")
    if kind == "in":
        k, s = msg.get("k"), msg.get("s")
        if not _int_in(k, 0, 31) or not _int_in(s, 0, 2**31 - 1):
            raise MessageError("an input is {t: 'in', k: 0..31 (keys held), s: 0..2^31-1 (sequence)}")
    elif kind == "start":
        if msg.get("side") not in ("player", "enemy"):
            raise MessageError("side must be 'player' or 'enemy'")
        opponent = msg.get("opponent")
        if not isinstance(opponent, str) or not _OPPONENT.match(opponent):
            raise MessageError("opponent must be bot:NAME or model:NAME/VERSION (or NAME@ALIAS)")
        if "seed" in msg and not _int_in(msg["seed"], 0, 2**63 - 1):
            raise MessageError("seed must be a whole number in [0, 2^63)")
    return msg


def _int_in(value: Any, low: int, high: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and low <= value <= high


def _action(keys: int, role: str, tapped: bool) -> np.ndarray:
    # The pygame game's mapping: arrows/WASD give a unit step per axis, SPACE fires.
    dx = float(bool(keys & KEYS["right"])) - float(bool(keys & KEYS["left"]))
    dy = float(bool(keys & KEYS["down"])) - float(bool(keys & KEYS["up"]))
    if role == "player":
        return np.array([dx, dy, 1.0 if (keys & KEYS["fire"]) or tapped else 0.0], dtype=np.float32)
    return np.array([dx, dy], dtype=np.float32)


@dataclass
class _Stats:
    frames: int = 0
    skipped: int = 0
    busy_s: float = 0.0
    started: float = field(default_factory=time.perf_counter)
    intervals: list[float] = field(default_factory=list)


class PlayHub:
    """Runs the games of all connected pages.

    Args:
        opponent_for: Makes the opponent of a ``start`` message (a bot or a registered model) for a
            role; may block (a download), so it runs in a worker thread. Raises ``ValueError`` with a
            message for the page when the opponent cannot be had.
        limits: The limits.
    """

    def __init__(self, opponent_for: Callable[[str, str], Any], limits: GameLimits | None = None) -> None:
        self.opponent_for = opponent_for
        self.limits = limits or GameLimits()
        self.games: dict[int, tuple[str, _Stats]] = {}
        self._next_id = 0

    def stats(self) -> list[dict[str, Any]]:
        """Pacing figures of the games in progress (frames, skipped frames, tick intervals, busy time).

        Returns:
            One dictionary per game.
        """
        out = []
        for gid, (client, st) in list(self.games.items()):
            iv = np.array(st.intervals[-600:]) * 1000 if st.intervals else np.zeros(1)
            wall = max(time.perf_counter() - st.started, 1e-9)
            out.append(
                {
                    "id": gid,
                    "client": client,
                    "frames": st.frames,
                    "skipped": st.skipped,
                    "fps": st.frames / wall,
                    "tick_ms_mean": float(iv.mean()),
                    "tick_ms_p99": float(np.percentile(iv, 99)),
                    "busy_fraction": st.busy_s / wall,
                }
            )
        return out

    async def serve(self, ws: Any, client: str) -> None:
        """Run one page's game over its (accepted) Starlette WebSocket until it ends or the page leaves.

        Args:
            ws: The WebSocket.
            client: The client's address.
        """
        from starlette.websockets import WebSocketDisconnect

        in_use = sum(1 for c, _ in self.games.values() if c == client)
        if len(self.games) >= self.limits.games or in_use >= self.limits.games_per_client:
            await self._send(ws, {"t": "error", "message": "too many games at once; end another game first"})
            await ws.close(code=1013)
            return
        gid = self._next_id
        self._next_id += 1
        stats = _Stats()
        self.games[gid] = (client, stats)
        try:
            await self._game(ws, stats)
        except WebSocketDisconnect:
            pass
        finally:
            self.games.pop(gid, None)

    async def _game(self, ws: Any, stats: _Stats) -> None:
        limiter = RateLimiter(self.limits.messages_per_second, 2 * self.limits.messages_per_second)
        start = await self._first(ws)
        if start is None:
            return
        side = start["side"]
        other = "enemy" if side == "player" else "player"
        try:
            opponent = await asyncio.to_thread(self.opponent_for, start["opponent"], other)
            import aip_game

            seed = int(start.get("seed", np.random.SeedSequence().generate_state(1, np.uint64)[0] >> 1))
            session = aip_game.GameSession(side, opponent, seed=seed)
        except (ValueError, KeyError, OSError) as exc:
            await self._send(ws, {"t": "error", "message": str(exc)[:300]})
            await ws.close(code=1008)
            return
        cfg = session.config
        await self._send(
            ws,
            {
                "t": "ready",
                "side": side,
                "opponent": opponent.label,
                "seed": seed,
                "fps": FPS,
                "arena": [cfg.arena_width, cfg.arena_height],
                "radius": {"player": cfg.player_radius, "enemy": cfg.enemy_radius, "missile": cfg.missile_radius},
                "max_missiles": cfg.max_missiles,
                "boundary": cfg.boundary,
            },
        )
        state = {"keys": 0, "seq": 0, "tapped": False, "paused": False, "quit": False, "dropped": 0}
        reader = asyncio.create_task(self._read(ws, state, limiter))
        loop = asyncio.get_running_loop()
        period = 1.0 / FPS
        origin = loop.time()
        done_frames = 0
        last_tick = time.perf_counter()
        try:
            while not session.over and not state["quit"] and not reader.done():
                now = loop.time()
                due = int((now - origin) / period) - done_frames
                if state["paused"]:
                    origin += max(0, due) * period  # paused time does not count
                    due = 0
                elif due > _MAX_CATCH_UP:
                    stats.skipped += due - _MAX_CATCH_UP
                    origin += (due - _MAX_CATCH_UP) * period  # a stall: skip time rather than run fast
                    due = _MAX_CATCH_UP
                if due > 0:
                    t0 = time.perf_counter()
                    events = np.zeros(5, np.int64)
                    for _ in range(due):
                        session.set_human_action(_action(state["keys"], side, bool(state["tapped"])))
                        state["tapped"] = False
                        session.step()
                        events += session.frame_events
                        done_frames += 1
                        stats.frames += 1
                        if session.over:
                            break
                    await self._send(ws, self._frame(session, events, int(state["seq"])))
                    stats.busy_s += time.perf_counter() - t0
                    tick = time.perf_counter()
                    stats.intervals.append(tick - last_tick)
                    del stats.intervals[:-1200]
                    last_tick = tick
                next_at = origin + (done_frames + 1) * period
                await asyncio.sleep(max(0.0, next_at - loop.time()))
            if session.over or state["quit"]:
                reason = session.end_reason or "quit"
                session.end(reason)
                await self._send(ws, {"t": "over", "score": session.score, "frames": session.frame, "reason": reason})
                await ws.close(code=1000)
            elif state["dropped"] > self.limits.drop_limit:
                await ws.close(code=1008, reason="too many invalid or excess messages")
        finally:
            reader.cancel()

    async def _first(self, ws: Any) -> dict[str, Any] | None:
        try:
            message = await asyncio.wait_for(ws.receive(), timeout=30)
        except TimeoutError:
            await ws.close(code=1008, reason="no start message")
            return None
        if message.get("type") == "websocket.disconnect":
            return None
        try:
            msg = parse_message(message.get("text"))
        except MessageError as exc:
            await self._send(ws, {"t": "error", "message": str(exc)})
            await ws.close(code=1008)
            return None
        if msg["t"] != "start":
            await self._send(ws, {"t": "error", "message": "the first message must be 'start'"})
            await ws.close(code=1008)
            return None
        return msg

    async def _read(self, ws: Any, state: dict[str, Any], limiter: RateLimiter) -> None:
        while True:
            message = await ws.receive()
            if message.get("type") == "websocket.disconnect":
                state["quit"] = True
                return
            if not limiter.allow("input"):
                state["dropped"] += 1
            else:
                try:
                    msg = parse_message(message.get("text"))
                except MessageError as exc:
                    state["dropped"] += 1
                    if state["dropped"] <= 3:
                        await self._send(ws, {"t": "error", "message": str(exc)})
                    msg = None
                if msg is not None:
                    kind = msg["t"]
                    if kind == "in":
                        if msg["k"] & KEYS["fire"] and not state["keys"] & KEYS["fire"]:
                            state["tapped"] = True  # a tap shorter than a frame still fires
                        state["keys"], state["seq"] = msg["k"], msg["s"]
                    elif kind == "pause":
                        state["paused"] = not state["paused"]
                    elif kind == "quit":
                        state["quit"] = True
                        return
            if state["dropped"] > self.limits.drop_limit:
                return

    @staticmethod
    def _frame(session: Any, events: np.ndarray, ack: int) -> dict[str, Any]:
        st = session.state()
        missiles = [
            [round(float(p[0]), 2), round(float(p[1]), 2)] if alive else None
            for p, alive in zip(st["missile_pos"], st["missile_alive"], strict=True)
        ]
        return {
            "t": "f",
            "n": session.frame,
            "p": [round(float(v), 2) for v in (*st["player_pos"], *st["player_vel"])],
            "e": [round(float(st["enemy_pos"][0]), 2), round(float(st["enemy_pos"][1]), 2)],
            "ea": int(bool(st["enemy_active"])),
            "ef": int(st["enemy_fade"]),
            "m": missiles,
            "i": int(st["player_invulnerable"]),
            "cd": int(st["player_cooldown"]),
            "ev": events.tolist(),
            "sc": session.score,
            "l": session.lives,
            "lv": session.level,
            "a": ack,
            "ms": round(time.time() * 1000.0, 1),
        }

    @staticmethod
    async def _send(ws: Any, payload: dict[str, Any]) -> None:
        await ws.send_text(json.dumps(payload, separators=(",", ":"), allow_nan=False))
