"""How the spoke's Lambdas are packaged and configured (shared by every account and region).

* Code: ``lambda_src/<name>/*.py`` plus ``policies/tag_contract.py`` beside ``app.py`` (the
  handlers import ``tag_contract`` as a top-level module), as a ``pulumi.AssetArchive`` of
  ``FileAsset``s: the archive's hash changes only when one of those files changes.
* Runtime python3.12 and the AWS-managed Powertools for AWS Lambda layer (the handlers log with
  its ``Logger``); the layer is published per region by AWS under a fixed account.
* Logs: every org-patching function of a region writes to ONE log group with a retention
  (``logging_config.log_group``), which keeps the per-region resource count down.
"""

from __future__ import annotations

import functools
from pathlib import Path

import pulumi

from ..errors import OrgPatchingError

ROOT = Path(__file__).resolve().parents[2]
LAMBDA_DIR = ROOT / "lambda_src"
CONTRACT_FILE = ROOT / "policies" / "tag_contract.py"

RUNTIME = "python3.12"
#: Powertools for AWS Lambda (Python) v3, layer version 27 (docs/index.md of
#: aws-powertools/powertools-lambda-python, Nov 2025). Bump deliberately: it changes every function.
POWERTOOLS_LAYER_VERSION = 27
#: Publisher account of the Powertools layer per partition (the same docs page).
POWERTOOLS_PUBLISHER = {"aws": "017000801446", "aws-cn": "498634801083"}
#: Retention of the functions' log group (audit: a year, like the hub's log groups).
LOG_RETENTION_DAYS = 365


def powertools_layer(partition: str, region: str) -> str:
    """The AWS-managed Powertools layer ARN for ``region``; an unknown partition is an error."""
    publisher = POWERTOOLS_PUBLISHER.get(partition)
    if publisher is None:
        raise OrgPatchingError(
            f"region {region}: no Powertools for AWS Lambda layer is published in partition {partition!r}"
        )
    runtime = RUNTIME.replace(".", "")
    return (
        f"arn:{partition}:lambda:{region}:{publisher}:layer:"
        f"AWSLambdaPowertoolsPythonV3-{runtime}-x86_64:{POWERTOOLS_LAYER_VERSION}"
    )


@functools.cache
def archive(name: str) -> pulumi.AssetArchive:
    """The deployment package of ``lambda_src/<name>``: its Python files and the tag contract."""
    source = LAMBDA_DIR / name
    if not (source / "app.py").is_file():
        raise OrgPatchingError(f"lambda_src/{name}/app.py does not exist: the function cannot be packaged")
    assets: dict[str, pulumi.Asset | pulumi.Archive] = {
        path.name: pulumi.FileAsset(str(path)) for path in sorted(source.glob("*.py"))
    }
    assets["tag_contract.py"] = pulumi.FileAsset(str(CONTRACT_FILE))
    return pulumi.AssetArchive(assets)
