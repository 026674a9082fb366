"""Organizers making packets at once while constituents keep writing: each letter lands in one packet."""

from __future__ import annotations

import threading
from collections import Counter

from flask import Flask
from sqlalchemy import func, select

from actiontool import db
from actiontool.models import PACKET, AuditEvent, Message, Packet, utcnow
from actiontool.services import packets
from tests.packets.support import RITA, WANDA, brute_status_counts, rollup_status_counts, write_letter

LETTERS = 40
MAKERS = 3


def test_concurrent_packet_making_puts_each_letter_in_exactly_one_packet(app: Flask) -> None:
    sessions = db.session_factory(app)
    barrier = threading.Barrier(MAKERS + 1)
    writing = threading.Event()
    writing.set()
    errors: list[BaseException] = []
    made: list[int] = []

    def write() -> None:
        barrier.wait()
        try:
            with sessions() as session:
                for i in range(LETTERS):
                    write_letter(session, f"w{i}@example.org", (RITA, WANDA))
        except BaseException as exc:  # surfaced by the assertion below
            errors.append(exc)
        finally:
            writing.clear()

    def make(n: int) -> None:
        barrier.wait()
        try:
            with sessions() as session:
                while writing.is_set():
                    for bioguide in ("R000001", "S000001"):
                        try:
                            made.append(packets.make_packet(session, "packets-test", bioguide,
                                                            f"org{n}@example.org").id)
                        except packets.NothingWaiting:
                            pass
        except BaseException as exc:  # surfaced by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=write)]
    threads += [threading.Thread(target=make, args=(n,)) for n in range(MAKERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    with sessions() as session:
        for bioguide in ("R000001", "S000001"):  # whatever arrived after the last click
            try:
                made.append(packets.make_packet(session, "packets-test", bioguide, "org@example.org").id)
            except packets.NothingWaiting:
                pass
        all_ids = set(session.execute(select(Message.id).where(Message.channel == PACKET)).scalars())
        assert len(all_ids) == 2 * LETTERS
        assert session.execute(select(func.count()).select_from(Message)
                               .where(Message.packet_id.is_(None))).scalar_one() == 0
        frozen: Counter[str] = Counter()
        for packet in session.execute(select(Packet)).scalars():
            letters = packets.packet_letters(packet)
            assert len(letters) == packet.letter_count
            frozen.update(letter["id"] for letter in letters)
            in_db = set(session.execute(select(Message.id).where(Message.packet_id == packet.id)).scalars())
            assert in_db == {letter["id"] for letter in letters}
            assert {letter["bioguide"] for letter in letters} == {packet.bioguide}
        assert set(frozen) == all_ids and max(frozen.values()) == 1  # every letter in exactly one packet
        assert len(made) == session.execute(select(func.count()).select_from(Packet)).scalar_one()
        assert packets.waiting_by_member(session, "packets-test") == []
        assert rollup_status_counts(session) == brute_status_counts(session)


def test_two_concurrent_mark_delivered_record_the_packet_once(app: Flask) -> None:
    sessions = db.session_factory(app)
    with sessions() as session:
        for i in range(5):
            write_letter(session, f"d{i}@example.org", (RITA,))
        packet_id = packets.make_packet(session, "packets-test", "R000001", "org@example.org").id
    barrier = threading.Barrier(2)
    outcomes: list[object] = []

    def mark(how: str) -> None:
        with sessions() as session:
            barrier.wait()
            try:
                outcomes.append(packets.mark_delivered(session, "packets-test", packet_id, utcnow().date(),
                                                       how, None, f"{how}@example.org"))
            except packets.AlreadyDelivered as exc:
                outcomes.append(exc)

    threads = [threading.Thread(target=mark, args=(how,)) for how in ("emailed", "mailed")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(map(type, outcomes), key=str) == sorted([int, packets.AlreadyDelivered], key=str)
    assert 5 in outcomes
    with sessions() as session:
        assert rollup_status_counts(session) == brute_status_counts(session)
        assert rollup_status_counts(session)["delivered"] == 5
        assert session.execute(select(func.count()).select_from(AuditEvent)
                               .where(AuditEvent.kind == packets.MARK_DELIVERED)).scalar_one() == 1
