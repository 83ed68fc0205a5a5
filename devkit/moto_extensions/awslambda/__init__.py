"""Lambda for the emulator: ``Invoke`` runs the function's real handler in-process (see :mod:`.models`).

Named like moto's own package (``moto.awslambda``): ``lambda`` is a keyword.
"""

from __future__ import annotations

from devkit.moto_extensions.awslambda.models import install

__all__ = ["install"]
