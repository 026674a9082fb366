"""Helpers for the organizer tests (the members and the row writer they use live in tests/factories.py)."""

PASSWORD = "correct horse battery staple"
