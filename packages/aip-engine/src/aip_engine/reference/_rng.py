"""The per-world random number generator (SplitMix64), as docs/rules.md defines it.

Every world owns one generator. All arithmetic is modulo 2**64, which Python's
unbounded integers express with an explicit mask.
"""

from __future__ import annotations

import math

__all__ = ["TWO_PI", "Rng", "mix64"]

_MASK = (1 << 64) - 1
_GOLDEN = 0x9E3779B97F4A7C15
_WORLD_SALT = 0x632BE59BD9B4E019
_TWO_POW_MINUS_53 = 2.0**-53

TWO_PI = 6.283185307179586
"""2π, written as the rules page writes it."""


def mix64(z: int) -> int:
    """The SplitMix64 output function (a bijection of 64-bit integers).

    Args:
        z: Any integer; it is taken modulo 2**64.

    Returns:
        The mixed 64-bit value.
    """
    z &= _MASK
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK
    return z ^ (z >> 31)


class Rng:
    """SplitMix64 generator of one world.

    Args:
        seed: The batch seed (taken modulo 2**64).
        world_index: The world's index in the whole batch.
    """

    __slots__ = ("state",)

    def __init__(self, seed: int = 0, world_index: int = 0) -> None:
        self.state = 0
        self.seed(seed, world_index)

    def seed(self, seed: int, world_index: int) -> None:
        """Reseed from (seed, world index) so that a world's numbers never depend on the batch.

        Args:
            seed: The batch seed (taken modulo 2**64).
            world_index: The world's index in the whole batch.
        """
        self.state = mix64(seed & _MASK) ^ mix64(world_index + _WORLD_SALT)

    def next(self) -> int:
        """Advance the state and return the next 64-bit output."""
        self.state = (self.state + _GOLDEN) & _MASK
        return mix64(self.state)

    def uniform(self, a: float = 0.0, b: float = 1.0) -> float:
        """A float in [a, b): ``a + (b - a) * u`` with ``u`` on a 2**-53 grid in [0, 1).

        Args:
            a: Lower bound.
            b: Upper bound.

        Returns:
            The drawn number.
        """
        u = (self.next() >> 11) * _TWO_POW_MINUS_53
        if a == 0.0 and b == 1.0:
            return u
        return a + (b - a) * u

    def randint(self, lo: int, hi: int) -> int:
        """An integer in [lo, hi], both inclusive.

        Args:
            lo: Smallest value.
            hi: Largest value.

        Returns:
            The drawn integer.
        """
        return lo + min(math.floor(self.uniform() * (hi - lo + 1)), hi - lo)

    def angle(self) -> float:
        """An angle in [0, 2π)."""
        return self.uniform(0.0, TWO_PI)
