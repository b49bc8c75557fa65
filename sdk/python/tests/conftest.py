"""Fixtures for the SDK tests: a gateway started by `make sdk-test` (sdk/sdk.sh test).

ZL_GATEWAY_URL, ZL_API_KEY and ZL_TOPIC name it; without them the tests
fail, they do not skip.
"""

import os
import time
import uuid
from collections.abc import Callable

import pytest

import zeroloss


def _env(name: str) -> str:
    value = os.environ.get(name)
    if not value:
        pytest.fail(f"{name} is not set: run the SDK tests with `make sdk-test`")
    return value


@pytest.fixture(scope="session")
def client() -> zeroloss.AuthenticatedClient:
    return zeroloss.connect(_env("ZL_GATEWAY_URL"), _env("ZL_API_KEY"), raise_on_unexpected_status=True)


@pytest.fixture(scope="session")
def topic() -> str:
    return _env("ZL_TOPIC")


@pytest.fixture
def run_id() -> str:
    """A tag-safe id unique to one test run."""
    return "py" + uuid.uuid4().hex[:10]


def eventually(what: str, within: float, check: Callable[[], object]) -> object:
    """Poll check until it returns a truthy value, failing after `within` seconds."""
    deadline = time.monotonic() + within
    last = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(0.1)
    pytest.fail(f"{what}: not within {within}s (last: {last!r})")
