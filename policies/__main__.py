"""Entry point the Pulumi engine runs for this pack.

No ``sys.path`` edit is needed for the sibling modules (``pack``, ``registry``, ...) to import
as top-level names: the engine starts a Python pack through its ``pulumi-analyzer-policy-python``
shim with the pack directory as working directory, as ``python -u -m pulumi.policy
<engine-address> .``, and ``pulumi.policy``'s ``__main__`` runs this file with
``runpy.run_path(<pack dir>, run_name="__main__")``, which puts the pack directory first on
``sys.path`` for the whole run (``PolicyPack`` below serves from within it). ``patchctl``'s
offline analyzer loads the pack with ``runpy.run_path`` too, and pytest has ``policies`` on its
pythonpath.
"""

from pack import DEFAULT_LEVEL, DESCRIPTION, PACK_NAME, all_policies
from pulumi_policy import PolicyPack

PolicyPack(
    name=PACK_NAME,
    description=DESCRIPTION,
    enforcement_level=DEFAULT_LEVEL,
    policies=all_policies(),
)
