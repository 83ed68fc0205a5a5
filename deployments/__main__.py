"""Entry point for ``pulumi up`` of the admin stack: validate its config, then declare the
deployment settings and schedules of every org-patching stack.

A config error stops the run before anything is registered (one line naming the key).
"""

import sys

from org_patching_admin.config import AdminConfigError, load_from_engine
from org_patching_admin.program import build

try:
    config = load_from_engine()
except AdminConfigError as error:
    print(f"error: {error}", file=sys.stderr)
    sys.exit(2)

build(config)
