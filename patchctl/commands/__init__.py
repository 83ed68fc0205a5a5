"""Sub-commands of patchctl, discovered by module name (see ``patchctl.cli``)."""
