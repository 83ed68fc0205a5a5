"""Developer tooling around the program: the emulator, its moto extension and the applier."""
