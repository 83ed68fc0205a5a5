"""The pack starts the way the Pulumi CLI starts a local pack, from the virtualenv `make policy-env` builds.

For ``--policy-pack policies`` and ``pulumi policy publish``, the CLI reads ``PulumiPolicy.yaml``
and runs its ``pulumi-analyzer-policy-python`` shim with the pack directory as working directory
and the arguments ``<engine address> . -virtualenv=<runtime.options.virtualenv>``. The shim
resolves the virtualenv against the pack directory, puts its ``bin`` first on ``PATH``, unsets
``PYTHONHOME`` and runs ``<pack>/venv/bin/python -u -m pulumi.policy <engine address> .``; the
pack prints its port, and the engine calls ``Handshake`` (an ``UNIMPLEMENTED`` answer is
accepted), ``GetAnalyzerInfo``, ``ConfigureStack`` and ``Configure``, then ``Remediate`` /
``Analyze`` per resource and ``AnalyzeStack``. For a *local* pack the CLI installs nothing:
without ``policies/venv`` the shim stops with "doesn't appear to be a virtual environment".

These tests do exactly that, with the interpreter ``make policy-env`` creates (the target the
workflows and docs use), against a live engine endpoint on the loopback interface.
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator
from concurrent import futures
from pathlib import Path
from typing import Any

import grpc
import pytest
import yaml
from google.protobuf import empty_pb2
from pulumi.runtime import proto
from pulumi.runtime.proto import analyzer_pb2_grpc, engine_pb2_grpc

from patchctl.offline.analyzer import InProcessAnalyzer, evaluate, load_pack
from patchctl.offline.mocks import AwsMocks
from patchctl.offline.render import render_program

ROOT = Path(__file__).resolve().parents[2]
PACK_DIR = ROOT / "policies"
METADATA = yaml.safe_load((PACK_DIR / "PulumiPolicy.yaml").read_text())
#: ``runtime.options.virtualenv``, relative to the pack directory (the shim's ``-virtualenv=``).
VIRTUALENV = PACK_DIR / METADATA["runtime"]["options"]["virtualenv"]
#: Creating the virtualenv from pip's cache takes ~20-40 s on the 2-core box; this is the ceiling.
BUILD_BUDGET_S = 120.0


@pytest.fixture(scope="session")
def pack_python() -> Path:
    """``make policy-env``, once per session (the target is a no-op while its stamp matches
    ``policies/requirements.txt``)."""
    started = time.monotonic()
    result = subprocess.run(
        ["make", "--no-print-directory", "policy-env"], cwd=ROOT, capture_output=True, text=True, timeout=600
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert time.monotonic() - started < BUILD_BUDGET_S
    # Not resolved: the venv's own path is what makes it a venv (pyvenv.cfg beside bin/).
    python = VIRTUALENV / "bin" / "python"
    assert python.exists(), f"make policy-env did not create {python}"
    return python


class RecordingEngine(engine_pb2_grpc.EngineServicer):  # type: ignore[misc]
    """The engine's endpoint the pack is given: it only needs to be there (and records logs)."""

    def __init__(self) -> None:
        self.logs: list[str] = []

    def Log(self, request: Any, context: Any) -> Any:
        self.logs.append(request.message)
        return empty_pb2.Empty()


@pytest.fixture
def engine_address() -> Iterator[str]:
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    engine_pb2_grpc.add_EngineServicer_to_server(RecordingEngine(), server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    try:
        yield f"127.0.0.1:{port}"
    finally:
        server.stop(grace=None)


def shim_environment(python: Path) -> dict[str, str]:
    """The environment ``pulumi-analyzer-policy-python`` gives the pack: the virtualenv's ``bin``
    first on PATH, no PYTHONHOME (and no PULUMI_* of this test process)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PULUMI_") and k != "PYTHONHOME"}
    env["PATH"] = f"{python.parent}{os.pathsep}{env.get('PATH', '')}"
    return env


class PackProcess:
    """The pack, started from the pack directory with the virtualenv's interpreter, as the CLI does."""

    def __init__(self, python: Path, engine_address: str) -> None:
        self.process = subprocess.Popen(
            [str(python), "-u", "-m", "pulumi.policy", engine_address, "."],
            cwd=PACK_DIR,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=shim_environment(python),
        )
        assert self.process.stdout is not None
        port = self.process.stdout.readline().decode().strip()
        if not port.isdigit():
            self.process.kill()
            _, stderr = self.process.communicate()
            pytest.fail(f"the pack did not print its port: {port!r}\n{stderr.decode()[-2000:]}")
        self.channel = grpc.insecure_channel(f"127.0.0.1:{port}")
        grpc.channel_ready_future(self.channel).result(timeout=60)
        self.stub = analyzer_pb2_grpc.AnalyzerStub(self.channel)

    # The engine's calls (patchctl.offline.analyzer.Analyzer protocol).
    def GetAnalyzerInfo(self) -> Any:
        return self.stub.GetAnalyzerInfo(empty_pb2.Empty())

    def Configure(self, request: Any) -> Any:
        return self.stub.Configure(request)

    def ConfigureStack(self, request: Any) -> Any:
        return self.stub.ConfigureStack(request)

    def Remediate(self, request: Any) -> Any:
        return self.stub.Remediate(request)

    def Analyze(self, request: Any) -> Any:
        return self.stub.Analyze(request)

    def AnalyzeStack(self, request: Any) -> Any:
        return self.stub.AnalyzeStack(request)

    def close(self) -> None:
        self.channel.close()
        self.process.terminate()
        try:
            self.process.communicate(timeout=10)
        except subprocess.TimeoutExpired:  # pragma: no cover
            self.process.kill()
            self.process.communicate()


@pytest.fixture
def pack(pack_python: Path, engine_address: str) -> Iterator[PackProcess]:
    started = PackProcess(pack_python, engine_address)
    try:
        yield started
    finally:
        started.close()


def test_the_virtualenv_is_where_pulumi_policy_yaml_says_and_ignored_by_publish() -> None:
    assert METADATA["runtime"] == {"name": "python", "options": {"virtualenv": "venv"}}
    # `pulumi policy publish` archives the pack directory minus what its .gitignore excludes.
    ignored = (PACK_DIR / ".gitignore").read_text().split()
    assert "venv/" in ignored and "__pycache__/" in ignored


def test_requirements_are_pinned_to_the_programs_versions() -> None:
    def pins(path: Path) -> dict[str, str]:
        lines = [line.split("#")[0].strip() for line in path.read_text().splitlines()]
        return dict(line.split("==", 1) for line in lines if line and not line.startswith("-"))

    pack_pins = pins(PACK_DIR / "requirements.txt")
    assert all(version for version in pack_pins.values()), "every requirement is pinned with =="
    program = pins(ROOT / "requirements.txt") | pins(ROOT / "requirements-dev.txt")
    for name, version in pack_pins.items():
        assert program[name] == version, f"{name}: pack {version}, program {program.get(name)}"


def test_the_pack_interpreter_has_only_the_pack_requirements(pack_python: Path) -> None:
    probe = "import sys, pulumi_policy, pulumi; print(sys.prefix); import pulumi_aws"
    result = subprocess.run(
        [str(pack_python), "-c", probe], cwd=PACK_DIR, capture_output=True, text=True, env=shim_environment(pack_python)
    )
    assert Path(result.stdout.strip()) == VIRTUALENV, "the interpreter runs in policies/venv"
    assert "No module named 'pulumi_aws'" in result.stderr, "nothing of the program's .venv leaks in"


def test_handshake_and_analyzer_info_over_grpc(pack: PackProcess, engine_address: str) -> None:
    try:
        pack.stub.Handshake(
            proto.AnalyzerHandshakeRequest(
                engine_address=engine_address, root_directory=str(PACK_DIR), program_directory=str(PACK_DIR)
            )
        )
    except grpc.RpcError as error:
        # The engine falls back to the older protocol exactly in this case.
        assert error.code() == grpc.StatusCode.UNIMPLEMENTED, error
    info = pack.GetAnalyzerInfo()
    assert info.name == "org-patching"
    # Same policies; compared as sets: in this test process the rule modules may already have been
    # imported (and registered) in another order by the unit tests, while the pack process imports
    # them fresh in pack.py's order.
    expected = sorted(policy.name for policy in load_pack(PACK_DIR).policies)
    assert sorted(policy.name for policy in info.policies) == expected
    pack.ConfigureStack(proto.AnalyzerStackConfigureRequest(stack="dev", project="app", organization="acme"))
    plugin = pack.stub.GetPluginInfo(empty_pb2.Empty())
    assert plugin.version, "the SDK reports its version"
    # The pack is really running from its virtualenv: grpc's extension is mapped from there.
    maps = Path(f"/proc/{pack.process.pid}/maps").read_text()
    assert str(VIRTUALENV / "lib") in maps


def test_the_started_pack_judges_a_program_like_the_in_process_path(pack: PackProcess) -> None:
    capture = render_program(ROOT / "tests" / "fixtures" / "app_untagged", mocks=AwsMocks(strict=False))
    over_grpc = evaluate(capture.resources, pack, project=capture.project, stack=capture.stack)
    in_process = evaluate(
        capture.resources, InProcessAnalyzer(load_pack(PACK_DIR)), project=capture.project, stack=capture.stack
    )
    assert over_grpc.mandatory, "the untagged fixture violates the pack"
    assert sorted(over_grpc.violations, key=repr) == sorted(in_process.violations, key=repr)
