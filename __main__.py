"""Entry point for ``pulumi up``: validate the stack's config, then build the hub or the spokes.

Which one is chosen by ``org-patching:stack`` (central | child), never by the stack's name.
A config error stops the run before any resource is registered.
"""

import sys

from components.config import load_from_engine
from components.errors import ConfigError
from components.stacks import build

try:
    config = load_from_engine()
except ConfigError as error:
    print(f"error: {error}", file=sys.stderr)
    sys.exit(2)

build(config)
