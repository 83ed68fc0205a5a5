"""Sub-commands of ``python -m devkit``, discovered by module name (see ``devkit.cli``)."""
