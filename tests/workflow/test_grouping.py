"""`make test` (pytest-xdist, ``--dist loadgroup``) keeps the end-to-end tests on one worker:
the xdist_group mark of tests/workflow/conftest.py reaches pytest-xdist, which tags each
node id with its group. From pytest 9.2 on it cannot (pytest-dev/pytest-xdist#1386), and
the tests would spread over the workers silently; pyproject.toml pins pytest below."""

from __future__ import annotations

import pytest


def test_end_to_end_tests_are_grouped_onto_one_worker(request):
    if not getattr(request.config.option, "loadgroup", False):  # set in xdist workers only
        pytest.skip("not run under pytest-xdist --dist loadgroup")
    assert request.node.nodeid.endswith("@workflow"), (
        f"pytest {pytest.__version__} with this pytest-xdist does not group tests: "
        "reinstall with `make install` (pyproject.toml pins a pair that does)")
