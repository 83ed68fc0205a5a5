"""Fixtures of the reporting tests: one generated fleet and its report, shared by the session.

Generating and loading take about a second, so they are session-scoped; every test only reads.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from patchctl.report.duck import DuckDBSource
from patchctl.report.fleet import generate_fleet
from patchctl.report.queries import QueryResult, report_queries
from tests.report.helpers import SPEC, Fleet


@pytest.fixture(scope="session")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> Fleet:
    root = tmp_path_factory.mktemp("bucket")
    return Fleet(root, SPEC, generate_fleet(root, SPEC))


@pytest.fixture(scope="session")
def duck(fleet: Fleet) -> Iterator[DuckDBSource]:
    source = DuckDBSource(fleet.root)
    yield source
    source.close()


@pytest.fixture(scope="session")
def results(duck: DuckDBSource) -> dict[str, QueryResult]:
    return {query.name: duck.run(query) for query in report_queries()}
