"""The transaction helper every service writes through, and the app registry's campaign digests."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import func, select

from actiontool import db, registry
from actiontool.models import AuditEvent, utcnow
from actiontool.services.transaction import transaction


def _events(app: Flask) -> int:
    with db.session_scope(app) as s:
        return int(s.execute(select(func.count()).select_from(AuditEvent)).scalar_one())


def _event(actor: str) -> AuditEvent:
    return AuditEvent(actor=actor, kind="test", at=utcnow())


def test_a_block_that_ends_commits_its_writes(app: Flask) -> None:
    with db.session_scope(app) as s, transaction(s):
        s.add(_event("kept"))
    assert _events(app) == 1


def test_an_error_in_the_block_rolls_back_and_propagates(app: Flask) -> None:
    class Boom(Exception):
        pass

    with db.session_scope(app) as s:
        with pytest.raises(Boom), transaction(s):
            s.add(_event("lost"))
            s.flush()  # written to the database inside the transaction, then undone
            raise Boom
        assert s.execute(select(func.count()).select_from(AuditEvent)).scalar_one() == 0
        with transaction(s):  # the session is usable again
            s.add(_event("after"))
    assert _events(app) == 1


def test_a_failing_commit_rolls_back_and_propagates(app: Flask) -> None:
    with db.session_scope(app) as s:
        with pytest.raises(Exception, match="(?i)null|not-null|constraint"), transaction(s):
            s.add(AuditEvent(actor=None, kind="test", at=utcnow()))  # actor is NOT NULL
        assert not s.in_transaction()
    assert _events(app) == 0


def test_the_registry_takes_each_campaign_file_digest_when_campaigns_load(app: Flask) -> None:
    campaigns = registry.all_campaigns(app)
    digests = registry.campaign_digests(app)
    assert set(digests) == set(campaigns) and digests
    for slug, digest in digests.items():
        assert digest == hashlib.sha256(Path(campaigns[slug].path).read_bytes()).hexdigest()
