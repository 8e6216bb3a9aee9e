"""A small numpy rasteriser for ``render_mode="rgb_array"`` (the game itself draws with pygame)."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

__all__ = ["render_world"]

_BACKGROUND = (16, 18, 28)
_PLAYER = (80, 160, 255)
_ENEMY = (240, 70, 70)
_ENEMY_INACTIVE = (90, 40, 40)
_MISSILE = (255, 220, 80)


def _disc(img: NDArray[np.uint8], cx: float, cy: float, r: float, colour: tuple[int, int, int]) -> None:
    h, w, _ = img.shape
    x0, x1 = max(int(cx - r), 0), min(int(cx + r) + 2, w)
    y0, y1 = max(int(cy - r), 0), min(int(cy + r) + 2, h)
    if x0 >= x1 or y0 >= y1:
        return
    ys, xs = np.ogrid[y0:y1, x0:x1]
    inside = (xs + 0.5 - cx) ** 2 + (ys + 0.5 - cy) ** 2 <= r * r
    img[y0:y1, x0:x1][inside] = colour


def render_world(worlds: Any, index: int = 0, scale: float = 0.5) -> NDArray[np.uint8]:
    """Draw one world of a batch as an RGB image (height, width, 3), ``scale`` pixels per arena pixel.

    Args:
        worlds: An `aip_engine.Worlds` (or reference) batch.
        index: The world to draw.
        scale: Image pixels per arena pixel.

    Returns:
        The image.
    """
    cfg = worlds.config
    width = float(worlds.params["arena_width"][index])
    height = float(worlds.params["arena_height"][index])
    img = np.empty((max(int(height * scale), 1), max(int(width * scale), 1), 3), np.uint8)
    img[:] = _BACKGROUND
    st = worlds.state()
    px, py = st["player_pos"][index]
    _disc(img, px * scale, py * scale, cfg.player_radius * scale, _PLAYER)
    ex, ey = st["enemy_pos"][index]
    colour = _ENEMY if st["enemy_active"][index] else _ENEMY_INACTIVE
    _disc(img, ex * scale, ey * scale, cfg.enemy_radius * scale, colour)
    for k in range(st["missile_alive"].shape[1]):
        if st["missile_alive"][index, k]:
            mx, my = st["missile_pos"][index, k]
            _disc(img, mx * scale, my * scale, max(cfg.missile_radius * scale, 1.5), _MISSILE)
    return img
