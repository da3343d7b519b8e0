"""Quorum and the 75% attendance rule (THGPCG OPG terms of reference, appendix 1, 3 and 4), table-driven."""
from __future__ import annotations

import pytest

from server.meetings.attendance import AttendanceMark, attendance_record, quorum_status

MEMBERS = [f"Member {n}" for n in range(1, 11)]  # the OPG has ten members


def marks(present: int = 0, deputies: int = 0, absent: int = 0) -> dict[str, AttendanceMark]:
    """The first ``present`` members in person, the next ``deputies`` by deputy, the next ``absent`` absent."""
    result = {}
    for index, member in enumerate(MEMBERS[: present + deputies + absent]):
        if index < present:
            result[member] = AttendanceMark(member, present=True)
        elif index < present + deputies:
            result[member] = AttendanceMark(member, deputy=f"Deputy for {member}")
        else:
            result[member] = AttendanceMark(member)
    return result


@pytest.mark.parametrize(("attendance", "quorum", "counted", "quorate"), [
    (marks(present=6), 6, 6, True),
    (marks(present=4, deputies=2), 6, 6, True),       # "six members or their nominated deputy"
    (marks(present=5, absent=5), 6, 5, False),
    (marks(present=3, deputies=2, absent=5), 6, 5, False),
    (marks(), 6, 0, False),
    (marks(present=10), 6, 10, True),
    (marks(present=2), None, 2, None),                # no quorum set: no verdict
])
def test_quorum_counts_members_present_or_represented_by_a_deputy(attendance, quorum, counted, quorate):
    status = quorum_status(MEMBERS, attendance, quorum)
    assert (status.counted, status.quorate) == (counted, quorate)


def test_quorum_is_described_in_words():
    assert quorum_status(MEMBERS, marks(present=5), 6).sentence() == (
        "Not quorate: 5 of 10 members present in person or by deputy; at least 6 are needed, 1 more.")
    assert quorum_status(MEMBERS, marks(present=4, deputies=2), 6).sentence().startswith("Quorate: 6 of 10")


def mark(status: str) -> AttendanceMark:
    return AttendanceMark("Member 1", present=status == "P", deputy="A deputy" if status == "D" else None)


# One member over a year of held meetings: P present, D deputy, A absent, - not recorded (absent).
ATTENDANCE_RULE = [
    ("PPPP",         4, 4, 1.00, False),
    ("PPPA",         3, 4, 0.75, False),   # exactly 75% meets "a minimum of 75%"
    ("PPAA",         2, 4, 0.50, True),
    ("PDDA",         3, 4, 0.75, False),   # a nominated deputy's attendance counts (appendix 1, 4)
    ("PPP-",         3, 4, 0.75, False),   # no mark at a held meeting is an absence
    ("PPPPPPPPAAAA", 8, 12, 8 / 12, True),  # monthly OPG, missed four: 67%
    ("PPPPPPPPPAAA", 9, 12, 0.75, False),
    ("",             0, 0, None, False),   # no meetings held: no verdict
]


@pytest.mark.parametrize(("pattern", "attended", "held", "rate", "below"), ATTENDANCE_RULE)
def test_seventy_five_percent_attendance_rule(pattern, attended, held, rate, below):
    meetings = [{} if status == "-" else {"Member 1": mark(status)} for status in pattern]
    [record] = attendance_record(["Member 1"], meetings, 0.75)
    assert (record.attended, record.held, record.below_threshold) == (attended, held, below)
    assert record.rate == (pytest.approx(rate) if rate is not None else None)


def test_a_forum_without_a_threshold_flags_nobody():
    [record] = attendance_record(["Member 1"], [{"Member 1": mark("A")}] * 4, None)
    assert record.rate == 0 and not record.below_threshold
    assert "rule" not in record.sentence()


def test_attendance_is_computed_for_every_member():
    meetings = [marks(present=8), marks(present=10), marks(present=6, deputies=1), marks(present=9)]
    records = {r.member: r for r in attendance_record(MEMBERS, meetings, 0.75)}
    assert records["Member 1"].attended == 4
    assert records["Member 7"].attended == 4  # in person three times, by deputy once
    assert records["Member 9"].attended == 2 and records["Member 9"].below_threshold
    assert records["Member 10"].attended == 1 and records["Member 10"].sentence().endswith("below the 75% attendance rule.")
