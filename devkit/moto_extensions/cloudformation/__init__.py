"""CloudFormation StackSets for the emulator: service-managed targets include nested OUs, and auto-deployment
reaches accounts that join a target OU (moto 5.2 does neither, see :mod:`.models`)."""

from __future__ import annotations

from devkit.moto_extensions.cloudformation.models import install

__all__ = ["install"]
