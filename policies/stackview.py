"""Joins across a stack's resources for stack policies.

pulumi-aws 7 splits one logical thing over several resources (a bucket and its encryption,
public access block and policy; a role and its attachments; an instance profile and its
role). A stack policy joins them by reference: first through the engine's property
dependencies (exact, and known even at preview), then by value (a name, id or ARN output).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from props import UNKNOWN, is_unknown, plain
from pulumi_policy import PolicyResource


@dataclass
class Node:
    """A stack resource with its props already converted to plain data."""

    resource: PolicyResource
    props: dict[str, Any]

    @property
    def urn(self) -> str:
        return self.resource.urn

    @property
    def name(self) -> str:
        return self.resource.name

    @property
    def type(self) -> str:
        return self.resource.resource_type

    def identifiers(self, *fields: str) -> set[str]:
        """The known string values of ``fields`` (plus ``id``): what other resources may reference."""
        found: set[str] = set()
        for key in (*fields, "id"):
            value = self.props.get(key)
            if isinstance(value, str) and value and not is_unknown(value):
                found.add(value)
        return found


class StackView:
    """Index of a stack's resources by type and URN."""

    def __init__(self, resources: Iterable[PolicyResource]) -> None:
        self.nodes: list[Node] = []
        self.by_urn: dict[str, Node] = {}
        for resource in resources:
            props = plain(resource.props)
            node = Node(resource, props if isinstance(props, dict) else {})
            self.nodes.append(node)
            self.by_urn[resource.urn] = node

    def of_type(self, *types: str) -> Iterator[Node]:
        return (node for node in self.nodes if node.type in types)

    def referenced(self, node: Node, prop: str, candidates: Iterable[Node], *id_fields: str) -> list[Node] | None:
        """The candidates the top-level property ``node.props[prop]`` points at (see :meth:`points_to`)."""
        value = node.props.get(prop)
        values = value if isinstance(value, list) else [value]
        return self.points_to(node, prop, values, candidates, *id_fields)

    def points_to(
        self, node: Node, prop: str, values: Iterable[Any], candidates: Iterable[Node], *id_fields: str
    ) -> list[Node] | None:
        """The candidates that ``values`` (read from ``node``'s top-level property ``prop``) reference.

        Property dependencies of ``prop`` first (exact, and known at preview); otherwise match
        each value against the candidates' ``id`` and ``id_fields`` outputs (a value may also be
        an ARN ending in ``/<name>``). ``None`` means "cannot tell": a value is unknown and
        there are no dependencies to go by.
        """
        pool = list(candidates)
        deps = node.resource.property_dependencies.get(prop) or []
        dep_urns = {dep.urn for dep in deps}
        by_dep = [candidate for candidate in pool if candidate.urn in dep_urns]
        if by_dep:
            return by_dep
        wanted: set[str] = set()
        for value in values:
            if value is UNKNOWN:
                return None
            if isinstance(value, str) and value:
                wanted.add(value)
        if not wanted:
            return []
        matched = []
        for candidate in pool:
            idents = candidate.identifiers(*id_fields)
            if idents & wanted or any(v.endswith(("/" + i, ":" + i)) for v in wanted for i in idents):
                matched.append(candidate)
        return matched
