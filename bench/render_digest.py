"""What a render registered, reduced to one digest, so a render-cost change can prove it changed nothing.

Why: the render-ratio work (docs/child-stack.md#render-ratio) makes the program cheaper to run, never
different: every resource keeps its URN, parent, provider, options, dependencies and inputs. Each
resource is reduced to those fields (inputs as the engine received them, the protobuf ``Struct`` as
JSON with sorted keys; dependency lists sorted, since the SDK gathers them from sets), sorted by URN
(the monitor records registrations as they complete, in no fixed order), and hashed together with the
stack's outputs. ``python -m bench.render_digest`` prints the digest of the central stack, the example
child stack and the bench's 10 accounts x 4 regions child, before and after a change.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from google.protobuf import json_format

from components.config import load_stack_file
from patchctl.offline.monitor import Recorded
from patchctl.offline.render import Capture
from patchctl.stack_render import render_stack

ROOT = Path(__file__).resolve().parents[1]


def resource_fields(record: Recorded) -> dict[str, Any]:
    """Everything the engine receives for one registration, in a form independent of completion order."""
    return {
        "urn": record.urn,
        "type": record.type,
        "name": record.name,
        "custom": record.custom,
        "parent": record.parent,
        "provider": record.provider_ref,
        "providers": dict(sorted(record.providers.items())),
        "dependencies": sorted(record.dependencies),
        "propertyDependencies": {key: sorted(value) for key, value in sorted(record.property_dependencies.items())},
        "protect": record.protect,
        "ignoreChanges": sorted(record.ignore_changes),
        "deleteBeforeReplace": record.delete_before_replace,
        "additionalSecretOutputs": sorted(record.additional_secret_outputs),
        "aliases": sorted(record.aliases),
        "customTimeouts": record.custom_timeouts,
        "inputs": json_format.MessageToDict(record.inputs_struct),
    }


def capture_digest(capture: Capture) -> str:
    """One hex digest of every registration's :func:`resource_fields` and the stack's outputs."""
    digest = hashlib.blake2b(digest_size=16)
    for record in sorted(capture.resources, key=lambda r: r.urn):
        digest.update(json.dumps(resource_fields(record), sort_keys=True, default=str).encode())
        digest.update(b"\n")
    digest.update(json.dumps(capture.outputs, sort_keys=True, default=str).encode())
    return digest.hexdigest()


def stack_digests() -> dict[str, str]:
    """The digests of the central stack, the example child stack and the ratio bench's child."""
    from bench.bench_child import REGIONS, SIX_OS, child_config

    central = render_stack(load_stack_file(ROOT / "Pulumi.central.yaml"))
    hub = central.outputs
    child = render_stack(load_stack_file(ROOT / "Pulumi.child.yaml"), hub)
    # the ratio bench's child patches 4 Regions: its hub must share runbooks in all of them (as bench_child's does)
    wide_hub = render_stack(load_stack_file(ROOT / "Pulumi.central.yaml").model_copy(update={"regions": REGIONS}))
    bench_child = render_stack(child_config(10, REGIONS, SIX_OS), wide_hub.outputs)
    return {
        "central": capture_digest(central),
        "child (Pulumi.child.yaml)": capture_digest(child),
        "child (10 accounts x 4 regions)": capture_digest(bench_child),
    }


def main() -> None:
    for label, value in stack_digests().items():
        print(f"{label:34s} {value}")


if __name__ == "__main__":
    main()
