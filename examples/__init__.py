"""Runnable examples of intercom-async (``python -m examples.<name>``, from the repository root)."""
