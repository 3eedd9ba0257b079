"""Shared by the browser tests: Debian's Chromium, or a skip (a failure on CI, which installs it)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")


def browser_or_skip() -> None:
    if CHROMIUM.exists():
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"{CHROMIUM} is missing on CI; `make test` installs it (apt-get install chromium)")
    pytest.skip(f"{CHROMIUM} is missing; install Debian's chromium (apt-get install chromium) "
                "to run the browser test")
