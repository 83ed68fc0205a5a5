"""The SDK's own cost of a stack's resources: the same resources registered bare.

A render's CPU time divided by its resources mixes two costs: what the Pulumi SDK (and the offline
mocks) spend per registration, which grows with each resource's inputs and with its class's declared
outputs, and what the program adds on top (components and parents, ``Output.apply`` chains,
``depends_on``, options, its own Python). The ratio the benches print compares a render with
:func:`replay_bare` of its own capture, so it measures only the second part.

What the replay registers: every provider, component and custom resource the render registered
(the stack itself aside), in the same order, through the same mocks, with the same type, name and
the inputs the engine received (wire names, plain values), each custom resource with the same
provider, as an instance of the same pulumi-aws class with its properties in an instance of the same
``...Args`` input type, every declared property present (``None`` when unset), as the typed constructor
hands them to the SDK: so the SDK translates the same names and resolves the same declared outputs.
What it leaves out: ``Output`` values, parents, dependencies, every other option (the typed classes'
``additional_secret_outputs`` too) and the program's own Python. Components are bare
``ComponentResource``s.

The SDK sends with every registration the Python stack below the resource's constructor (its source
position: pulumi/runtime/resource.py ``_get_stack_trace``, a URI per frame), found as the third
``__init__`` from the top (``Resource``'s, ``CustomResource``'s or ``ComponentResource``'s, then the
concrete class's). Each registration of the replay goes through :class:`_Constructor`, which stands where
a flat program's ``aws.x.Y(...)`` constructor stands, so the SDK records the replay's own frames (its
build function and the render's) as it would for any program; the frames the program adds by nesting
components stay the program's cost. (Calling ``CustomResource.__init__`` straight from the loop leaves
two ``__init__`` frames: the SDK then records an empty stack and skips that work.)
"""

from __future__ import annotations

import gc
import importlib
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any

import pulumi
from pulumi import _types

from patchctl.offline.mocks import AwsMocks
from patchctl.offline.monitor import STACK_TYPE
from patchctl.offline.render import Capture, render

STACK_REFERENCE = "pulumi:pulumi:StackReference"


@cache
def resource_class(type_token: str) -> type[pulumi.CustomResource]:
    """The pulumi-aws class of a type token (``aws:lambda/function:Function`` -> ``pulumi_aws.lambda_.Function``)."""
    package, module_path, name = type_token.split(":")
    if type_token.startswith("pulumi:providers:"):
        module_names = [f"pulumi_{name}"]
        name = "Provider"
    else:
        module = module_path.split("/")[0]
        module_names = [f"pulumi_{package}.{module}", f"pulumi_{package}.{module}_"]
    for module_name in module_names:
        try:
            found = getattr(importlib.import_module(module_name), name, None)
        except ModuleNotFoundError:
            continue
        if isinstance(found, type) and issubclass(found, pulumi.CustomResource):
            return found
    raise LookupError(f"{type_token}: no pulumi class found for the bare replay")


@cache
def args_class(type_token: str) -> type[Any]:
    """The ``...Args`` input type beside the class of :func:`resource_class`."""
    cls = resource_class(type_token)
    module = importlib.import_module(cls.__module__)
    # the module's own exports: `XArgs`, or `XInitArgs` where a nested input type is called `XArgs`
    names = [name for name in getattr(module, "__all__", ()) if name.endswith("Args")]
    found = getattr(module, names[0], None) if len(names) == 1 else None
    if not (isinstance(found, type) and _types.is_input_type(found)):
        raise LookupError(f"{type_token}: no input type of its own in {cls.__module__} for the bare replay")
    return found


@cache
def _property_names(type_token: str) -> dict[str, str]:
    """Python name -> wire name of every property the typed constructor passes (inputs and outputs)."""
    return {
        **_types.resource_py_to_pulumi_names(resource_class(type_token)),
        **_types.input_type_py_to_pulumi_names(args_class(type_token)),
    }


def typed_props(type_token: str, inputs: dict[str, Any]) -> Any:
    """``inputs`` (wire names) as the typed constructor's ``__props__``: an ``...Args`` instance holding
    every property by its Python name, ``None`` when unset."""
    cls = args_class(type_token)
    props = object.__new__(cls)
    names = _property_names(type_token)
    known = set(names.values())
    for python_name, wire_name in names.items():
        props.__dict__[python_name] = inputs.get(wire_name)
    for wire_name, value in inputs.items():
        if wire_name not in known:  # not declared by the class (none today): passed through untranslated
            props.__dict__[wire_name] = value
    return props


class _Constructor:
    """One registration, made from inside an ``__init__`` as every resource constructor's is (see the module
    docstring): the SDK's stack capture then stops at this frame, as it stops at a typed class's."""

    def __init__(self, init: Callable[..., object], *args: Any) -> None:
        init(*args)


def replay_bare(capture: Capture, mocks: Callable[[], AwsMocks]) -> Capture:
    """Register ``capture``'s resources again, bare (see the module docstring), under fresh ``mocks()``."""
    records = [r for r in capture.resources if r.type != STACK_TYPE]

    def build() -> None:
        providers: dict[str, pulumi.ProviderResource] = {}
        for record in records:
            if not record.custom:
                _Constructor(pulumi.ComponentResource, record.type, record.name)
            elif record.type == STACK_REFERENCE:
                pulumi.StackReference(record.name)
            elif record.is_provider:
                provider = resource_class(record.type).__new__(resource_class(record.type))
                assert isinstance(provider, pulumi.ProviderResource)
                package = record.type.split(":")[-1]
                props = typed_props(record.type, record.inputs)
                pulumi.ProviderResource.__init__(provider, package, record.name, props)
                providers[record.urn] = provider
            else:
                opts = pulumi.ResourceOptions(provider=providers.get(record.provider_urn))
                resource = resource_class(record.type).__new__(resource_class(record.type))
                props = typed_props(record.type, record.inputs)
                _Constructor(pulumi.CustomResource.__init__, resource, record.type, record.name, props, opts)

    return render(build, mocks=mocks(), project=capture.project, stack=capture.stack)


def clear_program_caches() -> None:
    """Empty every ``functools`` cache of the program (``components``), so a timed render pays what one
    ``pulumi preview`` process pays (rendered runbooks, parsed scripts, botocore's models), imports aside."""
    for name, module in list(sys.modules.items()):
        if not (name == "components" or name.startswith("components.")) or module is None:
            continue
        for value in vars(module).values():
            clear = getattr(value, "cache_clear", None)
            if callable(clear) and getattr(value, "__module__", None) == name:
                clear()


@dataclass
class Ratio:
    """CPU seconds per resource of the program's renders and of their bare replays, alternating."""

    resources: int
    program: list[float]
    bare: list[float]

    @property
    def ratio(self) -> float:
        return statistics.median(self.program) / statistics.median(self.bare)

    @property
    def ratio_range(self) -> tuple[float, float]:
        """Lowest and highest ratio of one render to the replay that followed it."""
        pairs = [p / b for p, b in zip(self.program, self.bare, strict=True)]
        return min(pairs), max(pairs)

    def lines(self, label: str) -> list[str]:
        low, high = self.ratio_range
        return [
            f"ratio over {len(self.program)} alternating renders of {label} ({self.resources} resources), CPU time:",
            f"  program             {statistics.median(self.program):.5f} s/resource "
            f"(range {min(self.program):.5f}-{max(self.program):.5f}; program caches emptied before each render)",
            f"  SDK, same resources {statistics.median(self.bare):.5f} s/resource "
            f"(range {min(self.bare):.5f}-{max(self.bare):.5f}; registered bare: bench/baseline.py)",
            f"  ratio program/SDK   {self.ratio:6.2f} (pairs {low:.2f}-{high:.2f}; target <= 1.2)",
        ]


def measure_ratio(render_once: Callable[[], Capture], mocks: Callable[[], AwsMocks], runs: int) -> Ratio:
    """``runs`` renders, each followed by the bare replay of what it registered; CPU time (other processes
    on a shared machine do not count), the garbage collector run before each."""
    render_once()  # imports and the SDK's own first-use costs
    program: list[float] = []
    bare: list[float] = []
    size = 0
    for _ in range(runs):
        clear_program_caches()
        gc.collect()
        started = time.process_time()
        capture = render_once()
        program.append((time.process_time() - started) / len(capture.resources))
        size = len(capture.resources)
        gc.collect()
        started = time.process_time()
        replay = replay_bare(capture, mocks)
        bare.append((time.process_time() - started) / len(replay.resources))
        if len(replay.resources) != size:
            raise AssertionError(f"the bare replay registered {len(replay.resources)} resources, the render {size}")
    return Ratio(size, program, bare)
