"""The demo: a full patch cycle for a simulated organization on the emulator (``python -m devkit demo``)."""
