"""Programme subjects (Sheffield 3.1: PMO -> Programme Management Delivery Group -> IPDB -> CET).

Each programme record that is not closed and has something recorded (milestones, QIPP benefits,
risks) is a subject; its facts are computed from the record (server/programmes/facts.py), so the
ladder escalates on the programme's own milestones, savings and risks.
"""
from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from sqlmodel.ext.asyncio.session import AsyncSession

from server.escalation_store.facts import Subject
from server.programmes.facts import assess_programme
from server.programmes.records import read_programmes

UK = ZoneInfo("Europe/London")


async def programme_subjects(session: AsyncSession, org_id: int, *, at: dt.datetime | None = None) -> list[Subject]:
    today = (at or dt.datetime.now(dt.UTC)).astimezone(UK).date()
    subjects = []
    for programme in await read_programmes(session, org_id):
        assessment = assess_programme(programme, today) if programme.status != "closed" else None
        if assessment is not None:
            subjects.append(Subject(programme.subject_key, programme.name, "programme", assessment.facts, unit_id=programme.unit_id,
                                    period=assessment.period,
                                    evidence={"unit": programme.unit_code, **assessment.evidence}))
    return subjects
