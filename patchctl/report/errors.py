"""Errors of the report engine. Each message is one line naming the place and the value."""

from __future__ import annotations


class ReportError(Exception):
    """Bad input (missing or empty source, bad option): the CLI exits 2 with this one line."""


class QueryFailed(Exception):
    """A named query failed on its engine: names the query and the engine's reason."""

    def __init__(self, query: str, reason: str) -> None:
        self.query = query
        self.reason = reason
        super().__init__(f"query {query}: {reason}")
