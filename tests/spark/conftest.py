"""One Spark session in local mode (``local[2]``) for the whole test session.

Started on first use and stopped at the end; a module that needs another master
(``local-cluster``) stops it, and the next test that asks for ``spark`` starts it again.
"""

import pytest

_shared: dict = {}


@pytest.fixture
def spark(tmp_path_factory):
    session = _shared.get("session")
    if session is None or session.sparkContext._jsc is None:  # never started, or stopped
        from tests.spark.session import start_session

        steps = start_session("local[2]", "cust-tests", tmp_path_factory.mktemp("spark"))
        _shared.update(session=next(steps), steps=steps)
    return _shared["session"]


def pytest_sessionfinish(session, exitstatus):
    steps = _shared.pop("steps", None)
    if steps is not None:
        steps.close()  # stops the session (the generator's code after its yield)
