"""botocore's data files, read once per program run through one loader.

The program reads two: the 1.2 MB endpoint file (which regions each partition has, for ``partition_of`` and
the config's region check) and the SSM service model (its enums for the config, ``CreatePatchBaseline``'s
shape for the baseline override). A loader caches what it reads; every new botocore session brings a new
loader and parses each file again, and creating the session registers some 120 event handlers the program
never fires. So the program keeps one loader (found where a session finds it: botocore's own data and
``AWS_DATA_PATH``) and builds the SSM model from it as ``Session.get_service_model`` does
(docs/child-stack.md#render-ratio).
"""

from __future__ import annotations

import functools
import os

from botocore.loaders import Loader, create_loader
from botocore.model import ServiceModel


@functools.cache
def loader() -> Loader:
    return create_loader(os.environ.get("AWS_DATA_PATH"))


@functools.cache
def service_model(service_name: str) -> ServiceModel:
    """``Session().get_service_model(service_name)``: the latest API version's model, SDK extras merged."""
    return ServiceModel(loader().load_service_model(service_name, "service-2"), service_name=service_name)
