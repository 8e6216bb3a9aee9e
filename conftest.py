"""Settings shared by every test folder: the Hypothesis profiles of the property tests.

``ci`` (the default) keeps the property tests within a few minutes on two busy cores; ``release``
runs about twenty times as many examples per property (docs/security.md, "Fuzzing"). Choose with
``AIP_HYPOTHESIS_PROFILE=release`` or pytest's ``--hypothesis-profile=release``.
"""

from __future__ import annotations

import os

try:
    from hypothesis import HealthCheck, settings
except ImportError:  # the property tests skip themselves where Hypothesis is not installed
    pass
else:
    _COMMON = {
        "deadline": None,  # a shared, loaded machine makes per-example timings meaningless
        "print_blob": True,  # a failure prints the line that reproduces it
        "suppress_health_check": [HealthCheck.too_slow, HealthCheck.data_too_large],
    }
    settings.register_profile("ci", max_examples=40, **_COMMON)
    settings.register_profile("release", max_examples=800, **_COMMON)
    settings.load_profile(os.environ.get("AIP_HYPOTHESIS_PROFILE", "ci"))
