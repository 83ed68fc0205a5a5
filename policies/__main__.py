"""Entry point the Pulumi engine runs: ``python -u -m pulumi.policy <engine-addr> <this dir>``.

The pack directory is put on ``sys.path`` so the sibling modules import as top-level names,
exactly as under pytest (where ``policies`` is on the pythonpath) and in the Lambda archives
(where ``tag_contract`` sits beside ``app.py``).
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from pack import DEFAULT_LEVEL, DESCRIPTION, PACK_NAME, all_policies
from pulumi_policy import PolicyPack

PolicyPack(
    name=PACK_NAME,
    description=DESCRIPTION,
    enforcement_level=DEFAULT_LEVEL,
    policies=all_policies(),
)
