"""The tests of one ``xdist_group`` run in one worker under ``make test`` (``--dist
loadgroup``): the group must be in each test's id, which is what the scheduler groups by
(tests/conftest.py, ``pytest_collection_modifyitems``)."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.xdist_group("grouping-check")


def test_a_test_of_a_group_carries_its_group_in_its_id(request: pytest.FixtureRequest) -> None:
    if not getattr(request.config.option, "loadgroup", False):
        pytest.skip("only under pytest-xdist's --dist loadgroup (make test)")
    assert request.node.nodeid.endswith("@grouping-check")
