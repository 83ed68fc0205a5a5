"""Run a policy pack over a rendered stack, the way the engine calls it, and read the pack's
config file: shared by ``preview``, ``policy-check`` and ``admin-preview``.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from patchctl.errors import InputError, read_json
from patchctl.offline.analyzer import (
    DEFAULT_PACK_DIR,
    GrpcAnalyzer,
    InProcessAnalyzer,
    PolicyResult,
    evaluate,
    load_pack,
)
from patchctl.offline.render import Capture


def load_policy_config(path: str | None) -> dict[str, Any] | None:
    """The ``--policy-config`` JSON file (same shape as ``--policy-pack-config``), or ``None``."""
    if not path:
        return None
    data = read_json(path, "policy config file does not exist")
    if not isinstance(data, dict):
        raise InputError(f"{path}: policy config must be a JSON object")
    return data


def run_policies(
    capture: Capture,
    policy_config: dict[str, Any] | None,
    *,
    pack_dir: str | Path = DEFAULT_PACK_DIR,
    grpc: bool = False,
    preview: bool = True,
    stack_tags: Mapping[str, str] | None = None,
) -> PolicyResult:
    """The engine's call sequence (Remediate, Analyze per resource, AnalyzeStack) over the capture,
    in-process, or over gRPC as the engine does it (slower)."""
    analyzer = GrpcAnalyzer(pack_dir) if grpc else InProcessAnalyzer(load_pack(pack_dir))
    try:
        return evaluate(
            capture.resources,
            analyzer,
            project=capture.project,
            stack=capture.stack,
            user_config=policy_config,
            stack_tags=stack_tags,
            preview=preview,
        )
    finally:
        analyzer.close()
