"""Suite-wide settings: hypothesis profiles and the CI rule that service tests never skip.

Tests that need PostgreSQL or Redis read ``MULTISTORE_TEST_POSTGRES_URL`` /
``MULTISTORE_TEST_REDIS_URL`` and skip when unset. Under ``CI=true`` a skipped test marked
``postgres`` or ``redis`` fails the run instead, so CI can never pass without them.
"""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile(
    "default", max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile(
    "ci",
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    derandomize=True,
)
settings.load_profile("ci" if os.environ.get("CI") == "true" else "default")

SERVICE_MARKERS = ("postgres", "redis")


def _in_ci() -> bool:
    return os.environ.get("CI", "").lower() == "true"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):  # type: ignore[no-untyped-def]
    """Turn a skip of a PostgreSQL/Redis test into a failure when running under CI."""
    outcome = yield
    report = outcome.get_result()
    if _in_ci() and report.skipped and any(item.get_closest_marker(m) for m in SERVICE_MARKERS):
        report.outcome = "failed"
        report.longrepr = (
            f"{item.nodeid} needs a service (postgres/redis) but was skipped under CI=true; "
            "set MULTISTORE_TEST_POSTGRES_URL and MULTISTORE_TEST_REDIS_URL"
        )


@pytest.fixture(scope="session")
def postgres_url() -> str:
    """The PostgreSQL URL for integration tests; skips (fails under CI) when unset."""
    url = os.environ.get("MULTISTORE_TEST_POSTGRES_URL")
    if not url:
        pytest.skip("MULTISTORE_TEST_POSTGRES_URL is not set")
    return url


@pytest.fixture(scope="session")
def redis_url() -> str:
    """The Redis URL for integration tests; skips (fails under CI) when unset."""
    url = os.environ.get("MULTISTORE_TEST_REDIS_URL")
    if not url:
        pytest.skip("MULTISTORE_TEST_REDIS_URL is not set")
    return url
