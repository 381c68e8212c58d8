"""Settings for the session stack shared by every test file that uses `stack`."""

import pytest


@pytest.fixture(scope="session")
def devstack_extra_env() -> dict[str, str]:
    # Cheap bcrypt keeps the suite fast; production keeps the default cost.
    return {"BCRYPT_ROUNDS": "4"}
