"""Sound effects synthesised with numpy at start-up (no sound files); silent where there is no audio device."""

from __future__ import annotations

import logging

import numpy as np
import numpy.typing as npt
import pygame

__all__ = ["Sounds"]

log = logging.getLogger("aip_game")

_RATE = 22050


def _envelope(n: int, attack: float = 0.005, power: float = 2.0) -> npt.NDArray[np.float64]:
    t = np.linspace(0.0, 1.0, n, endpoint=False)
    a = max(1, int(attack * _RATE))
    env = (1.0 - t) ** power
    env[:a] *= np.linspace(0.0, 1.0, a)
    return env


def _pew(seconds: float = 0.12) -> npt.NDArray[np.float64]:
    n = int(seconds * _RATE)
    t = np.arange(n) / _RATE
    freq = np.linspace(1400.0, 500.0, n)
    return 0.35 * np.sign(np.sin(2 * np.pi * np.cumsum(freq) / _RATE)) * _envelope(n) * (t >= 0)


def _boom(seconds: float = 0.45, seed: int = 1) -> npt.NDArray[np.float64]:
    n = int(seconds * _RATE)
    noise = np.random.default_rng(seed).uniform(-1.0, 1.0, n)
    smooth = np.convolve(noise, np.ones(6) / 6, mode="same")  # a darker rumble
    return 0.6 * smooth * _envelope(n, power=3.0)


def _hurt(seconds: float = 0.35) -> npt.NDArray[np.float64]:
    n = int(seconds * _RATE)
    freq = np.linspace(300.0, 90.0, n)
    return 0.45 * np.sin(2 * np.pi * np.cumsum(freq) / _RATE) * _envelope(n, power=1.5)


def _chime(seconds: float = 0.5) -> npt.NDArray[np.float64]:
    n = int(seconds * _RATE)
    t = np.arange(n) / _RATE
    tone = sum(np.sin(2 * np.pi * f * t) * (t >= d) for f, d in ((660.0, 0.0), (880.0, 0.1), (1320.0, 0.2)))
    return 0.2 * tone * _envelope(n, power=1.0)


class Sounds:
    """The game's sound effects: ``fire``, ``hit``, ``catch``, ``level``.

    Args:
        enabled: Play sounds at all (the Sound setting).
    """

    def __init__(self, enabled: bool = True) -> None:
        self.enabled = enabled
        self.sounds: dict[str, pygame.mixer.Sound] = {}
        try:
            if not pygame.mixer.get_init():
                pygame.mixer.init(frequency=_RATE, size=-16, channels=1)
            freq, _, channels = pygame.mixer.get_init()
        except pygame.error as exc:
            log.info("no sound: %s", exc)
            return
        waves = {"fire": _pew(), "hit": _boom(), "catch": _hurt(), "level": _chime()}
        for name, wave in waves.items():
            if freq != _RATE:
                wave = np.interp(np.arange(int(len(wave) * freq / _RATE)) * _RATE / freq, np.arange(len(wave)), wave)
            pcm = (np.clip(wave, -1.0, 1.0) * 32000).astype(np.int16)
            if channels > 1:
                pcm = np.repeat(pcm[:, None], channels, axis=1)
            self.sounds[name] = pygame.sndarray.make_sound(np.ascontiguousarray(pcm))

    def play(self, name: str) -> None:
        """Play a sound (nothing when sound is off or unavailable)."""
        sound = self.sounds.get(name)
        if sound is not None and self.enabled:
            sound.play()
