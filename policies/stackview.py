"""Joins across a stack's resources for stack policies.

pulumi-aws 7 splits one logical thing over several resources (a bucket and its encryption,
public access block and policy; a role and its attachments; an instance profile and its
role). A stack policy joins them by reference: first through the engine's property
dependencies (exact, and known even at preview), then by value (a name, id or ARN output).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from pulumi_policy import PolicyResource
from wire import UNKNOWN, as_list, is_unknown, plain


class Node:
    """A stack resource; its props are converted to plain data on first use only (most
    stack policies look at a few types, and conversion is the expensive part)."""

    __slots__ = ("_props", "resource")

    def __init__(self, resource: PolicyResource) -> None:
        self.resource = resource
        self._props: dict[str, Any] | None = None

    @property
    def props(self) -> dict[str, Any]:
        if self._props is None:
            converted = plain(self.resource.props)
            self._props = converted if isinstance(converted, dict) else {}
        return self._props

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


class Pool:
    """Candidates of one kind, indexed by URN and by the values that reference them.

    Built once per stack policy run, so a join costs a dictionary lookup per reference instead
    of a scan of every candidate (stacks have thousands of resources).
    """

    def __init__(self, nodes: Iterable[Node], id_fields: tuple[str, ...]) -> None:
        self.nodes = list(nodes)
        self.by_urn = {node.urn: node for node in self.nodes}
        self.index: dict[str, list[Node]] = {}
        for node in self.nodes:
            for ident in node.identifiers(*id_fields):
                self.index.setdefault(ident, []).append(node)

    def __iter__(self) -> Iterator[Node]:
        return iter(self.nodes)

    def __bool__(self) -> bool:
        return bool(self.nodes)

    def lookup(self, value: str) -> list[Node]:
        """Nodes with ``value`` as an identifier, or whose identifier ends ``value`` after a
        ``/`` or ``:`` (an ARN naming a name: ``arn:...:instance-profile/app`` -> ``app``)."""
        found = list(self.index.get(value, ()))
        for position, char in enumerate(value):
            if char in "/:":
                for node in self.index.get(value[position + 1 :], ()):
                    if node not in found:
                        found.append(node)
        return found


class StackView:
    """Index of a stack's resources by type and URN."""

    def __init__(self, resources: Iterable[PolicyResource]) -> None:
        self.nodes: list[Node] = []
        self.by_urn: dict[str, Node] = {}
        self._pools: dict[tuple[tuple[str, ...], tuple[str, ...]], Pool] = {}
        for resource in resources:
            node = Node(resource)
            self.nodes.append(node)
            self.by_urn[resource.urn] = node

    def of_type(self, *types: str) -> Iterator[Node]:
        return (node for node in self.nodes if node.type in types)

    def pool(self, *types: str, ids: tuple[str, ...]) -> Pool:
        """The resources of ``types``, indexed by ``id`` and ``ids`` (cached)."""
        key = (types, ids)
        if key not in self._pools:
            self._pools[key] = Pool(self.of_type(*types), ids)
        return self._pools[key]

    def companions(self, types: tuple[str, ...], prop: str, pool: Pool) -> tuple[dict[str, list[Node]], bool]:
        """Per pool member (by URN), the resources of ``types`` whose ``prop`` points at it (a
        bucket's encryption, access block and policy), and whether any of them points at
        something that cannot be told yet (then a missing companion is no violation)."""
        found: dict[str, list[Node]] = {member.urn: [] for member in pool}
        blind = False
        for node in self.of_type(*types):
            targets = self.referenced(node, prop, pool)
            if targets is None:
                blind = True
                continue
            for target in targets:
                found[target.urn].append(node)
        return found, blind

    def referenced(self, node: Node, prop: str, pool: Pool) -> list[Node] | None:
        """The pool members the top-level property ``node.props[prop]`` points at (see :meth:`points_to`)."""
        return self.points_to(node, prop, as_list(node.props.get(prop)), pool)

    def points_to(self, node: Node, prop: str, values: Iterable[Any], pool: Pool) -> list[Node] | None:
        """The pool members that ``values`` (read from ``node``'s top-level property ``prop``) reference.

        Property dependencies of ``prop`` first (exact, and known at preview); otherwise match
        each value against the members' ``id`` and id fields (a value may also be an ARN ending
        in ``/<name>``). ``None`` means "cannot tell": a value is unknown and there are no
        dependencies to go by.
        """
        deps = node.resource.property_dependencies.get(prop) or []
        by_dep = [pool.by_urn[dep.urn] for dep in deps if dep.urn in pool.by_urn]
        if by_dep:
            return by_dep
        matched: list[Node] = []
        for value in values:
            if value is UNKNOWN:
                return None
            if isinstance(value, str) and value:
                matched.extend(hit for hit in pool.lookup(value) if hit not in matched)
        return matched
