"""The local AWS emulator: moto in-process, several accounts, the project's moto extension.

Used by ``python -m devkit demo``, the tests (``tests/aws.py``) and the benchmarks. An account
is chosen the way moto maps it: ``sts.assume_role`` into ``arn:aws:iam::<account>:role/<name>``
returns credentials whose calls land in that account. Lambda handlers use boto3's default
session, so running one "as account X in region Y" swaps those credentials into the
environment for the call.
"""

from __future__ import annotations

import functools
import importlib.util
import os
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

import boto3
import botocore.loaders
import botocore.session

import devkit.iam_replay.recorder  # noqa: F401  (adds the IAM replay's hooks to every botocore session)
from devkit import faults

if TYPE_CHECKING:
    from moto.core.config import DefaultConfig

REPO_ROOT = Path(__file__).resolve().parents[1]
LAMBDA_DIR = REPO_ROOT / "lambda_src"
POLICIES_DIR = REPO_ROOT / "policies"
ASSUMED_ROLE = "OrganizationAccountAccessRole"

#: The environment moto runs with: fake credentials, so nothing real can ever be reached.
EMULATOR_ENV: dict[str, str] = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
    # Nothing here needs moto's 1,300 built-in AMIs; skipping them makes every backend faster.
    "MOTO_EC2_LOAD_DEFAULT_AMIS": "false",
}
#: Settings that would send calls elsewhere or pin every call to one account: unset while moto runs.
AMBIENT = ("AWS_PROFILE", "AWS_ENDPOINT_URL", "MOTO_ACCOUNT_ID")
#: Step Functions executions run (the hub's state machine); Lambda invokes run the real handler
#: in-process (``moto_extensions.awslambda``), which hooks the Docker path: "use_docker" stays on,
#: although Docker is never used.
MOCK_CONFIG: DefaultConfig = {"stepfunctions": {"execute_state_machine": True}, "lambda": {"use_docker": True}}
_CREDENTIAL_KEYS = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN")


class Accounts:
    """Where a call lands, on a running moto: credentials per account, sessions, "run as account X".

    The one multi-account set-up of the repository (the emulator, the tests and the benchmarks
    use it). Credentials and sessions are cached until :meth:`forget`: moto forgets assumed
    roles when its mock stops.
    """

    def __init__(self) -> None:
        self._credentials: dict[str, dict[str, str]] = {}
        self._sessions: dict[tuple[str, str], boto3.session.Session] = {}

    def credentials(self, account: str, role: str | None = None) -> dict[str, str]:
        """``AccessKeyId``/``SecretAccessKey``/``SessionToken`` that moto maps to ``account``.

        ``role``: the ARN of a role to act as (a runbook's ``AutomationAssumeRole``), so the IAM
        replay (``devkit.iam_replay``) judges the calls by that role's policies; by default the
        administrator role the emulator plays app teams and set-up with.
        """
        role_arn = role or f"arn:aws:iam::{account}:role/{ASSUMED_ROLE}"
        if role_arn not in self._credentials:
            sts = boto3.session.Session(
                aws_access_key_id="testing",
                aws_secret_access_key="testing",
                region_name="us-east-1",
                botocore_session=botocore_session(),
            ).client("sts")
            creds = sts.assume_role(RoleArn=role_arn, RoleSessionName="org-patching-emulator")["Credentials"]
            self._credentials[role_arn] = {k: creds[k] for k in ("AccessKeyId", "SecretAccessKey", "SessionToken")}
        return self._credentials[role_arn]

    def session(self, account: str, region: str) -> boto3.session.Session:
        """A session whose calls land in ``account``/``region`` (cached)."""
        key = (account, region)
        if key not in self._sessions:
            creds = self.credentials(account)
            self._sessions[key] = boto3.session.Session(
                aws_access_key_id=creds["AccessKeyId"],
                aws_secret_access_key=creds["SecretAccessKey"],
                aws_session_token=creds["SessionToken"],
                region_name=region,
                botocore_session=botocore_session(),
            )
        return self._sessions[key]

    @contextmanager
    def as_account(self, account: str, region: str, role: str | None = None) -> Iterator[boto3.session.Session]:
        """Run code that uses boto3's default session (a Lambda handler, a runbook script) as
        ``account`` in ``region`` (as ``role``, an ARN, when given), with the environment the
        Lambda runtime gives it.

        The default session is a fresh one for each block, so event hooks a caller registers on
        it (call counters, injected faults) end with the block.
        """
        creds = self.credentials(account, role)
        keys = (*_CREDENTIAL_KEYS, "AWS_DEFAULT_REGION", "AWS_REGION", "AWS_ACCOUNT_ID")
        saved = {key: os.environ.get(key) for key in keys}
        os.environ.update(
            {
                "AWS_ACCESS_KEY_ID": creds["AccessKeyId"],
                "AWS_SECRET_ACCESS_KEY": creds["SecretAccessKey"],
                "AWS_SESSION_TOKEN": creds["SessionToken"],
                "AWS_DEFAULT_REGION": region,
                "AWS_REGION": region,
                "AWS_ACCOUNT_ID": account,
            }
        )
        boto3.setup_default_session(botocore_session=botocore_session())
        try:
            assert boto3.DEFAULT_SESSION is not None
            faults.on_runtime_session(boto3.DEFAULT_SESSION, account, region)  # devkit demo --faults
            yield boto3.DEFAULT_SESSION
        finally:
            _restore(saved)
            boto3.DEFAULT_SESSION = None

    def forget(self) -> None:
        """Drop cached credentials and sessions (moto forgot the roles they came from)."""
        self._credentials.clear()
        self._sessions.clear()


class Emulator(Accounts):
    """moto for one run: ``with Emulator() as emu: emu.session(account, region)``.

    Fake credentials in the environment (ambient AWS settings unset, everything restored on
    exit), moto started with :data:`MOCK_CONFIG`, the project's moto extension installed.
    Plain credentials land in moto's default account (``default_account``): the hub and
    organization management account of the simulated organization. moto's Step Functions
    interpreter runs its SDK tasks as that account too, which is where the hub's state
    machine lives. (``MOTO_ACCOUNT_ID`` is not used: it would override assumed roles.)
    """

    def __init__(self, extra_env: Mapping[str, str] | None = None) -> None:
        from moto.core import DEFAULT_ACCOUNT_ID

        super().__init__()
        self.default_account: str = DEFAULT_ACCOUNT_ID
        self._env = {**EMULATOR_ENV, **(extra_env or {})}
        self._saved_env: dict[str, str | None] = {}
        self._mock: Any = None

    def __enter__(self) -> Emulator:
        from moto import mock_aws

        from devkit import moto_extensions

        self._saved_env = {key: os.environ.get(key) for key in (*self._env, *AMBIENT)}
        os.environ.update(self._env)
        for key in AMBIENT:
            os.environ.pop(key, None)
        boto3.DEFAULT_SESSION = None
        self._mock = mock_aws(config=MOCK_CONFIG)
        self._mock.start()
        moto_extensions.install()
        return self

    def __exit__(self, *exc: object) -> None:
        self._mock.stop()
        _restore(self._saved_env)
        boto3.DEFAULT_SESSION = None
        self.forget()


def _restore(saved: Mapping[str, str | None]) -> None:
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


@functools.cache
def _shared_loader() -> botocore.loaders.Loader:
    return botocore.loaders.create_loader()


def botocore_session() -> botocore.session.Session:
    """A botocore session sharing ONE service-model loader with every other: loading a model
    (ec2's takes ~50 ms) then happens once per process, not once per session."""
    core = botocore.session.Session()
    core.register_component("data_loader", _shared_loader())
    return core


def load_lambda(name: str) -> ModuleType:
    """Import ``lambda_src/<name>/app.py`` as the Lambda runtime would (``tag_contract`` beside it).

    Each handler module gets a unique name, since every Lambda's module is called ``app``. The
    handlers import ``tag_contract`` and ``lambda_shared`` as top-level modules: beside ``app.py``
    in the archive on deploy, installed as top-level modules by ``pyproject.toml`` here.
    """
    path = LAMBDA_DIR / name / "app.py"
    if not path.exists():
        raise FileNotFoundError(f"no Lambda named {name!r} ({path})")
    module_name = f"org_patching_lambda_{name}"
    if module_name in sys.modules:
        return sys.modules[module_name]
    spec = importlib.util.spec_from_file_location(module_name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    spec.loader.exec_module(module)
    return module


def tags_of(items: list[dict[str, Any]] | None) -> dict[str, str]:
    """``[{"Key": .., "Value": ..}]`` as a dict."""
    return {item["Key"]: item.get("Value", "") for item in items or []}
