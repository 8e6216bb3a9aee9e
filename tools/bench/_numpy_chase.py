"""chase-v1 vectorised over all worlds with numpy: the strongest pure-Python baseline.

It does the work of the engine's chase-v1 step (the ``patterns`` player bot with its
wander state, the enemy's clipped move, wrap, the catch, distance shaping, the enemy-v1
observation, truncation at 600 frames and same-step auto-reset with the respawn rule)
with numpy operations over arrays of N worlds. Random numbers come from numpy, so its
trajectories are not the engine's; the amount of work per world-step is the same.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

__all__ = ["NumpyChase"]

W, H = 1280.0, 720.0
PLAYER_SPEED = ENEMY_SPEED = 5.0
CATCH_RANGE = 50.0
TIME_LIMIT = 600
MARGIN = 50.0
RESPAWN_TRIES = 16
RESPAWN_MIN = 200.0
HALF_DIAG = float(np.hypot(W / 2, H / 2))
C02, S02 = np.cos(0.02), np.sin(0.02)
F64 = NDArray[np.float64]


def _shortest(d: F64, size: float) -> F64:
    return np.where(d > size / 2, d - size, np.where(d < -size / 2, d + size, d))


class NumpyChase:
    """N worlds of chase-v1 (enemy = agent) stepped by numpy array operations.

    Args:
        num_worlds: How many worlds.
        seed: Seed of numpy's generator.
    """

    obs_size = 24

    def __init__(self, num_worlds: int, seed: int = 0) -> None:
        n = self.n = num_worlds
        self.rng = np.random.default_rng(seed)
        self.player = np.zeros((n, 2))
        self.player_vel = np.zeros((n, 2))
        self.enemy = np.zeros((n, 2))
        self.enemy_vel = np.zeros((n, 2))
        self.wander = np.zeros((n, 2))
        self.wander_timer = np.zeros(n, np.int64)
        self.mode = np.zeros(n, np.int64)
        self.mode_timer = np.zeros(n, np.int64)
        self.centre = np.zeros((n, 2))
        self.radius = np.zeros(n)
        self.phase = np.zeros((n, 2))
        self.diagonal = np.zeros((n, 2))
        self.frame = np.zeros(n, np.int64)
        self.obs = np.zeros((n, self.obs_size), np.float32)
        self.final_obs = np.zeros((n, self.obs_size), np.float32)
        self.reward = np.zeros(n, np.float32)
        self._reset(np.ones(n, bool))
        self._observe()

    # --- pieces ---------------------------------------------------------------------------

    def _draw_wander(self, idx: NDArray[np.intp]) -> None:
        theta = self.rng.uniform(0, 2 * np.pi, idx.size)
        self.wander[idx, 0] = np.cos(theta)
        self.wander[idx, 1] = np.sin(theta)
        self.wander_timer[idx] = self.rng.integers(30, 91, idx.size)

    def _enter_mode(self, idx: NDArray[np.intp]) -> None:
        k = idx.size
        self.mode[idx] = self.rng.integers(0, 3, k)
        self.mode_timer[idx] = self.rng.integers(180, 301, k)
        self.centre[idx] = self.player[idx]
        self.radius[idx] = self.rng.uniform(50, 150, k)
        phi = self.rng.uniform(0, 2 * np.pi, k)
        self.phase[idx, 0] = np.cos(phi)
        self.phase[idx, 1] = np.sin(phi)
        corner = self.rng.integers(0, 4, k)
        self.diagonal[idx, 0] = np.where(corner & 1, -1.0, 1.0) * 0.7071067811865476
        self.diagonal[idx, 1] = np.where(corner & 2, -1.0, 1.0) * 0.7071067811865476

    def _respawn(self, idx: NDArray[np.intp]) -> None:
        k = idx.size
        cand_x = self.rng.uniform(MARGIN, W - MARGIN, (k, RESPAWN_TRIES))
        cand_y = self.rng.uniform(MARGIN, H - MARGIN, (k, RESPAWN_TRIES))
        dx = _shortest(cand_x - self.player[idx, 0:1], W)
        dy = _shortest(cand_y - self.player[idx, 1:2], H)
        dist = np.sqrt(dx * dx + dy * dy)
        far = dist >= RESPAWN_MIN
        pick = np.where(far.any(axis=1), far.argmax(axis=1), dist.argmax(axis=1))
        rows = np.arange(k)
        self.enemy[idx, 0] = cand_x[rows, pick]
        self.enemy[idx, 1] = cand_y[rows, pick]

    def _reset(self, mask: NDArray[np.bool_]) -> None:
        idx = np.flatnonzero(mask)
        if idx.size == 0:
            return
        self.player[idx, 0] = self.rng.uniform(MARGIN, W - MARGIN, idx.size)
        self.player[idx, 1] = self.rng.uniform(MARGIN, H - MARGIN, idx.size)
        self._respawn(idx)
        self.player_vel[idx] = 0.0
        self.enemy_vel[idx] = 0.0
        self._draw_wander(idx)
        self._enter_mode(idx)
        self.frame[idx] = 0

    def _player_moves(self) -> F64:
        self._draw_wander(np.flatnonzero(self.wander_timer == 0))
        self.wander_timer -= 1
        self._enter_mode(np.flatnonzero(self.mode_timer == 0))
        self.mode_timer -= 1
        c, s = self.phase[:, 0].copy(), self.phase[:, 1].copy()
        circling = self.mode == 1
        self.phase[:, 0] = np.where(circling, c * C02 - s * S02, c)
        self.phase[:, 1] = np.where(circling, s * C02 + c * S02, s)
        target = self.centre + self.radius[:, None] * self.phase
        e = np.stack(
            (_shortest(target[:, 0] - self.player[:, 0], W), _shortest(target[:, 1] - self.player[:, 1], H)), 1
        )
        n = np.sqrt((e * e).sum(1))
        scale = np.where(n > PLAYER_SPEED, n, PLAYER_SPEED)
        circle = np.where(n[:, None] > 0, e / scale[:, None], 0.0)
        mode = self.mode[:, None]
        return np.where(mode == 0, self.wander, np.where(mode == 2, self.diagonal, circle))

    def _enemy_to_player(self) -> tuple[F64, F64]:
        d = np.stack(
            (_shortest(self.player[:, 0] - self.enemy[:, 0], W), _shortest(self.player[:, 1] - self.enemy[:, 1], H)), 1
        )
        return d, np.sqrt((d * d).sum(1))

    def _observe(self, out: NDArray[np.float32] | None = None) -> None:
        o = self.obs if out is None else out
        d, dist = self._enemy_to_player()
        o[:, 0] = 2 * self.enemy[:, 0] / W - 1
        o[:, 1] = 2 * self.enemy[:, 1] / H - 1
        o[:, 2:4] = self.enemy_vel / ENEMY_SPEED
        o[:, 4] = d[:, 0] / (W / 2)
        o[:, 5] = d[:, 1] / (H / 2)
        o[:, 6] = dist / HALF_DIAG
        o[:, 7:9] = self.player_vel / PLAYER_SPEED
        o[:, 9:] = 0.0  # no missiles in chase-v1

    # --- the step -------------------------------------------------------------------------

    def step(
        self, actions: NDArray[np.float32]
    ) -> tuple[NDArray[np.float32], NDArray[np.float32], NDArray[np.bool_], NDArray[np.bool_]]:
        """Advance every world by one frame (enemy actions ``(N, 2)``).

        Returns:
            ``(observations, rewards, terminated, truncated)``.
        """
        _, before = self._enemy_to_player()
        pmove = self._player_moves()
        emove = actions.astype(np.float64)
        n2 = (emove * emove).sum(1)
        emove = np.where(n2[:, None] > 1, emove / np.sqrt(np.maximum(n2, 1e-300))[:, None], emove)
        self.player_vel = pmove * PLAYER_SPEED
        self.enemy_vel = emove * ENEMY_SPEED
        self.player = (self.player + self.player_vel) % (W, H)
        self.enemy = (self.enemy + self.enemy_vel) % (W, H)
        _, after = self._enemy_to_player()
        caught = after < CATCH_RANGE
        self.frame += 1
        truncated = ~caught & (self.frame >= TIME_LIMIT)
        self.reward[:] = (before - after) / ENEMY_SPEED + np.where(caught, 10.0, 0.0)
        done = caught | truncated
        if done.any():
            self._observe(self.final_obs)
            self._reset(done)
        self._observe()
        return self.obs, self.reward, caught, truncated
