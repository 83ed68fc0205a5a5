"""One botocore session per program run, for the data files the program reads from botocore.

A session caches what its loader reads; a new session parses every file again. The program reads two: the
1.2 MB endpoint file (which regions each partition has, for ``partition_of`` and the config's region
check) and the SSM service model (its enums for the config, ``CreatePatchBaseline``'s shape for the
baseline override). With one session each is parsed at most once per run
(docs/child-stack.md#render-ratio).
"""

from __future__ import annotations

import functools

import botocore.session


@functools.cache
def session() -> botocore.session.Session:
    return botocore.session.get_session()
