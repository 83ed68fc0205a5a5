"""The dev kit: everything that exists to develop, test, demonstrate and benchmark org-patching,
and that the product never imports.

The local AWS emulator (moto with several accounts and the project's moto extension), the SSM
Automation runbook interpreter, the applier (deploys the rendered stacks into the emulator), the
Service Catalog launch evaluator, the demo and the
synthetic compliance fleet. It is not installed with ``patchctl`` (``pyproject.toml`` packages
``patchctl`` and ``components`` only); run it from the repository root: ``python -m devkit``.
"""
