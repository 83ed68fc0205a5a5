"""Lambda package marker: gives mypy a distinct module name per Lambda (every Lambda has an ``app.py``)."""
