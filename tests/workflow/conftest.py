"""One completed smoke run per pytest run, shared by the end-to-end tests.

A smoke run is a minute or more of Snakemake jobs; the tests that only read its outputs, or
extend it (a report, a DVC repository, a dry run after a config change), take a copy of this
one (``copy_run`` keeps file times and Snakemake's metadata) instead of running their own.
Only the tests whose claim is about a run itself (a kill and recovery, a retried fault,
another folder, SLURM) run Snakemake jobs of their own.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers.workflow import SMOKE, ok, scratch, snakemake, snapshot


@pytest.fixture(scope="session")
def smoke_run(tmp_path_factory) -> Path:
    """The folder of a finished `snakemake --cores 2 --configfile config/smoke.yaml` run.
    Read it or copy it (``copy_run``); never write into it."""
    root = scratch(tmp_path_factory.mktemp("smoke") / "wf")
    ok(snakemake(*SMOKE, cwd=root))
    before = snapshot(root / "results")
    yield root
    assert snapshot(root / "results") == before, "a test wrote into the shared smoke run"


# tryfirst: pytest-xdist's own hook reads the group marks to tag the node ids; it must see
# the marks added here.
@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items):
    """A test that uses the smoke run is an end-to-end test: it must carry the slow marker,
    so that `make test-fast` (-m "not slow") never starts the run.

    Under pytest-xdist (`make test` runs two workers) every test of this folder goes to one
    worker (``--dist loadgroup``): the shared smoke run and the SLURM run are made once, and
    the pipelines run one at a time, beside the other worker's unit and reliability tests."""
    here = Path(__file__).parent
    for item in items:
        if here in Path(item.path).parents:
            item.add_marker(pytest.mark.xdist_group("workflow"))
    unmarked = [item.nodeid for item in items
                if "smoke_run" in getattr(item, "fixturenames", ())
                and item.get_closest_marker("slow") is None]
    if unmarked:
        raise pytest.UsageError("mark these end-to-end tests @pytest.mark.slow: "
                                + ", ".join(unmarked))

