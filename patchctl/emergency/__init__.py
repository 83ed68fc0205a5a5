"""``patchctl emergency``: start, follow, approve and cancel emergency rollouts on a real hub or the emulator."""
