"""Amazon Inspector findings into emergency patching requests (see app.py)."""
