"""Use cases that own a transaction. They take the session and their collaborators as arguments,
raise domain errors, and know nothing of Flask."""
