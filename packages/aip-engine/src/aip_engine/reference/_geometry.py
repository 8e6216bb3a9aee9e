"""Geometry of the arena: boundaries, shortest displacements, clipping and rotation.

Every function evaluates its formula in the order docs/rules.md writes it, so the
C++ engine (compiled with ``-ffp-contract=off``) gets the same bits.
"""

from __future__ import annotations

import math

__all__ = [
    "Arena",
    "clip_to_unit_disc",
    "norm",
    "rotate",
    "unit_or_zero",
]


def norm(x: float, y: float) -> float:
    """``sqrt(x*x + y*y)``, the length of a vector."""
    return math.sqrt(x * x + y * y)


def clip_to_unit_disc(dx: float, dy: float) -> tuple[float, float]:
    """Clip a move action to the unit disc, so a diagonal is not faster than a straight line."""
    n2 = dx * dx + dy * dy
    if n2 > 1.0:
        s = 1.0 / math.sqrt(n2)
        dx *= s
        dy *= s
    return dx, dy


def rotate(x: float, y: float, a: float) -> tuple[float, float]:
    """Rotate ``(x, y)`` by ``a`` radians (counter-clockwise in a y-up frame)."""
    c = math.cos(a)
    s = math.sin(a)
    return x * c - y * s, x * s + y * c


def unit_or_zero(x: float, y: float, eps: float = 1e-9) -> tuple[float, float]:
    """``(x, y) / norm`` or ``(0, 0)`` when the norm is below ``eps``."""
    n = norm(x, y)
    if n < eps:
        return 0.0, 0.0
    return x / n, y / n


class Arena:
    """One world's arena: size and boundary rule.

    Args:
        width: Arena width in px.
        height: Arena height in px.
        wrap: True for the toroidal ``wrap`` rule, False for ``clamp`` (walls).
    """

    __slots__ = ("half_diagonal", "height", "norm_x", "norm_y", "width", "wrap")

    def __init__(self, width: float, height: float, wrap: bool) -> None:
        self.width = width
        self.height = height
        self.wrap = wrap
        if wrap:
            # Relative vectors are normalised by the half arena under wrap (the largest
            # shortest displacement), by the whole arena under clamp.
            self.norm_x = width / 2.0
            self.norm_y = height / 2.0
        else:
            self.norm_x = width
            self.norm_y = height
        self.half_diagonal = math.sqrt(self.norm_x * self.norm_x + self.norm_y * self.norm_y)

    def displacement(self, ax: float, ay: float, bx: float, by: float) -> tuple[float, float]:
        """The shortest displacement from a to b (the plain difference under clamp)."""
        dx = bx - ax
        dy = by - ay
        if self.wrap:
            w = self.width
            h = self.height
            if dx > w / 2.0:
                dx -= w
            elif dx < -w / 2.0:
                dx += w
            if dy > h / 2.0:
                dy -= h
            elif dy < -h / 2.0:
                dy += h
        return dx, dy

    def distance(self, ax: float, ay: float, bx: float, by: float) -> float:
        """The length of the shortest displacement from a to b."""
        dx, dy = self.displacement(ax, ay, bx, by)
        return norm(dx, dy)

    def bound_body(self, x: float, y: float, radius: float) -> tuple[float, float]:
        """Apply the boundary rule to a player or enemy centre after a move."""
        if self.wrap:
            return self._wrap(x, y)
        w = self.width
        h = self.height
        x = min(max(x, radius), w - radius)
        y = min(max(y, radius), h - radius)
        return x, y

    def wrap_point(self, x: float, y: float) -> tuple[float, float]:
        """Wrap a point once onto the torus (used for missiles under ``wrap``)."""
        return self._wrap(x, y)

    def inside(self, x: float, y: float) -> bool:
        """Whether a centre lies in ``[0, W] x [0, H]`` (a missile outside it expires under clamp)."""
        return 0.0 <= x <= self.width and 0.0 <= y <= self.height

    def _wrap(self, x: float, y: float) -> tuple[float, float]:
        w = self.width
        h = self.height
        if x < 0.0:
            x += w
        elif x >= w:
            x -= w
        if y < 0.0:
            y += h
        elif y >= h:
            y -= h
        return x, y
