"""Shared test settings: hypothesis profiles, and the rule that CI never skips.

Under ``CI=true`` a test that needs torch, graphviz's ``dot`` or the browser *fails* when it is
missing; on a user's machine it is skipped with a message that says what to install.
"""

from __future__ import annotations

import importlib
import os
import shutil
from types import ModuleType

import pytest
from hypothesis import HealthCheck, settings

CI = os.environ.get("CI", "").strip().lower() in ("1", "true", "yes")

settings.register_profile(
    "ci", derandomize=True, deadline=None, print_blob=True, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile("dev", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if CI else "dev"))


def require_module(name: str, install: str) -> ModuleType:
    """Import ``name``; skip without it, except under CI where it must be there."""
    if CI:
        try:
            return importlib.import_module(name)
        except ImportError as error:
            pytest.fail(f"CI=true needs {name!r} ({install}): {error}")
    return pytest.importorskip(name, reason=f"needs {name} ({install})")


def require_executable(name: str, install: str) -> str:
    """The path of ``name`` on PATH; skip without it, except under CI where it must be there."""
    path = shutil.which(name)
    if path is None:
        message = f"needs the {name!r} program on PATH ({install})"
        if CI:
            pytest.fail("CI=true " + message)
        pytest.skip(message)
    return path


@pytest.fixture(scope="session")
def torch() -> ModuleType:
    """PyTorch, with float64 as the default dtype: the oracle."""
    module = require_module("torch", "pip install torch==2.13.0")
    module.set_default_dtype(module.float64)
    return module
