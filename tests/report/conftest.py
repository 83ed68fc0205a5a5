"""Fixtures of the reporting tests: the report over the generated fleet, shared by the session.

Generating and loading take about a second, so they are session-scoped; every test only reads.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from patchctl.report.duck import DuckDBSource
from patchctl.report.queries import QueryResult, report_queries
from tests.report.helpers import Fleet

# ``fleet`` (the generated fleet itself) is in tests/conftest.py: the dev kit's tests read it too.


@pytest.fixture(scope="session")
def duck(fleet: Fleet) -> Iterator[DuckDBSource]:
    source = DuckDBSource(fleet.root)
    yield source
    source.close()


@pytest.fixture(scope="session")
def results(duck: DuckDBSource) -> dict[str, QueryResult]:
    return {query.name: duck.run(query) for query in report_queries()}
