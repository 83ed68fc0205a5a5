"""The emergency rollout's approval gate (see app.py)."""
