"""Recording a judgement: who may, what is refused, and the ladder moving on it without any new data.

STW's System QPC verdict drives the top of the system ladder: "not assured" together with a
patient-safety risk assessed high reaches the ICB at once (SAPF, "Where System Performance Assurance
is not received"). Each test withdraws what it recorded, so the shared database's ladders are as found.
"""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import text

from server.db.session import AccessContext
from server.judgements.record import JudgementRecorded, JudgementRefused
from tests.db.access import set_access
from tests.judgements.helpers import DELIVERY, LEAD, QPC, escalation, record, rows, withdraw_all

SATH_PERFORMANCE = "sath.performance@accord.example"
_record, _rows, _escalation = record, rows, escalation


async def test_qpc_not_assured_with_a_high_patient_safety_risk_escalates_to_the_icb_at_once(database, services, org_ids, stw_subject):
    stw = org_ids["STW"]
    before = await _escalation(database, stw, stw_subject)
    assert before is None or before[0] < 6
    assert isinstance(await _record(database, services, LEAD, stw, kind="risk_rating", subject_key=stw_subject, value="high",
                                    reason="Harm review found delays"), JudgementRecorded)
    assert isinstance(await _record(database, services, QPC, stw, kind="patient_safety_risk", subject_key=stw_subject, value="yes",
                                    reason="Harm review"), JudgementRecorded)
    outcome = await _record(database, services, QPC, stw, kind="qpc_assured", subject_key=stw_subject, value="no",
                            reason="Rate of improvement too slow")
    assert isinstance(outcome, JudgementRecorded), outcome
    level, code, explanation = await _escalation(database, stw, stw_subject)
    assert (level, code) == (6, "icb-escalation")
    assert explanation["facts"]["qpc_assured"] is False and explanation["facts"]["risk_rating"] == "high"
    assert "qpc_assured" not in explanation["missing_facts"]
    assert outcome.ladders.opened + outcome.ladders.moved >= 1


async def test_a_new_judgement_supersedes_and_history_keeps_both(database, services, org_ids, stw_subject):
    stw = org_ids["STW"]
    first = await _record(database, services, QPC, stw, kind="qpc_assured", subject_key=stw_subject, value="no", reason="Not yet")
    second = await _record(database, services, QPC, stw, kind="qpc_assured", subject_key=stw_subject, value="yes", reason="Now assured")
    assert isinstance(first, JudgementRecorded) and isinstance(second, JudgementRecorded)
    assert second.supersedes_id == first.judgement.id
    rows = await _rows(database, stw, "select value, reason, recorded_by_name, recorded_role from judgement where id in (:a, :b) order by id",
                       a=first.judgement.id, b=second.judgement.id)
    audit = (await _rows(database, stw, "select count(*) from audit_event where action = 'judgement.recorded' and object_id in (:a, :b)",
                         a=str(first.judgement.id), b=str(second.judgement.id)))[0][0]
    assert [tuple(row) for row in rows] == [(False, "Not yet", "Alan Hughes", "system_committee_member"),
                                            (True, "Now assured", "Alan Hughes", "system_committee_member")]
    assert audit == 2


async def test_a_judgement_cannot_be_changed_or_removed_even_by_the_owner(database, services, org_ids, stw_subject):
    recorded = await _record(database, services, QPC, org_ids["STW"], kind="qpc_assured", subject_key=stw_subject, value="no", reason="x")
    assert isinstance(recorded, JudgementRecorded)
    from sqlalchemy.exc import DBAPIError

    stw = str(org_ids["STW"])
    for statement in ("update judgement set value = 'true' where id = :id", "delete from judgement where id = :id"):
        async with database.owner_engine.connect() as connection:
            # The owner is subject to forced row-level security, which has no update or delete policy
            # (and a trigger refuses both, for whoever gets past that).
            await set_access(connection, read=stw, write=stw)
            assert (await connection.execute(text(statement), {"id": recorded.judgement.id})).rowcount == 0
        with pytest.raises(DBAPIError, match="permission denied"):  # the application has no privilege to try
            async with database.session(AccessContext.for_orgs([org_ids["STW"]], write=True)) as session:
                await session.exec(text(statement), params={"id": recorded.judgement.id})
    assert (await _rows(database, org_ids["STW"], "select value from judgement where id = :i", i=recorded.judgement.id))[0][0] is False


@pytest.mark.parametrize(("email", "given", "reason", "field"), [
    (DELIVERY, dict(kind="qpc_assured", value="no"), "not_allowed", None),  # the delivery group is not System QPC
    (SATH_PERFORMANCE, dict(kind="qpc_assured", value="no"), "not_found", "organisation"),  # cannot even see the system's own
    (QPC, dict(kind="qpc_verdict", value="no"), "invalid", "kind"),
    (QPC, dict(kind="qpc_assured", value="perhaps"), "invalid", "value"),
    (QPC, dict(kind="qpc_assured", value="no", reason="  "), "invalid", "reason"),
    (QPC, dict(kind="qpc_assured", value="no", subject_key="indicator:NOPE"), "not_found", "subject"),
    (QPC, dict(kind="qpc_assured", value="no", subject_key="contract:RXW"), "invalid", "subject"),
    (QPC, dict(kind="qpc_assured", value="no", expires_on=dt.date(2020, 1, 1)), "invalid", "expires"),
    (QPC, dict(kind="qpc_assured", value=None, withdraw=True, subject_key="indicator:AGENCY"), "invalid", "value"),  # nothing to withdraw
])
async def test_refusals_say_why_and_store_nothing(database, services, org_ids, email, given, reason, field):
    stw = org_ids["STW"]
    before = (await _rows(database, stw, "select count(*) from judgement where org_id = :o"))[0][0]
    outcome = await _record(database, services, email, stw, **{"subject_key": "indicator:AE4H", "reason": "because", **given})
    assert isinstance(outcome, JudgementRefused), outcome
    assert (outcome.reason, outcome.field) == (reason, field)
    after = (await _rows(database, stw, "select count(*) from judgement where org_id = :o"))[0][0]
    assert after == before


async def test_row_level_security_refuses_a_judgement_for_an_organisation_the_request_cannot_write(database, org_ids):
    from sqlalchemy.exc import DBAPIError

    async with database.session(AccessContext.for_orgs([org_ids["RXW"]], write=True)) as session:
        with pytest.raises(DBAPIError, match="row-level security"):
            await session.exec(text(
                "insert into judgement (org_id, kind, subject_type, subject_key, subject_name, value, reason, recorded_by_name, recorded_role)"
                " values (:o, 'qpc_assured', 'indicator', 'indicator:AE4H', 'x', 'false', 'x', 'x', 'x')"), params={"o": org_ids["STW"]})


async def test_a_judgement_only_this_tenant_declares_drives_its_ladder(database, services, org_ids):
    """ULHT 4: a division "deemed" to have the potential for significant failure, with no recovery plan, goes to FPEC."""
    from tests.judgements.helpers import ULHT, close_by_hand

    ulht = org_ids["RWD"]
    found = await rows(database, ulht, "select subject_key from escalation where org_id = :o and subject_type = 'unit' and status <> 'closed'"
                       " and level < 3 and plan_id is null and not manual_override order by id limit 1")
    assert found, "a ULHT division below FPEC with no recovery plan"
    subject = found[0][0]
    try:
        outcome = await record(database, services, ULHT, ulht, kind="significant_failure_deemed", subject_key=subject, value="yes",
                               reason="Theatre capacity loss puts the elective plan at risk")
        assert isinstance(outcome, JudgementRecorded), outcome
        level, code, explanation = await escalation(database, ulht, subject)
        assert (level, code) == (3, "fpec") and explanation["facts"]["significant_failure_deemed"] is True
    finally:
        await withdraw_all(database, services, ulht, subject, ((ULHT, ("significant_failure_deemed",)),))
        await close_by_hand(database, services, ulht, subject)


async def test_a_judgement_that_moves_no_level_still_leaves_the_not_known_list(database, services, org_ids):
    stw = org_ids["STW"]
    found = await rows(database, stw, "select subject_key, explanation from escalation where org_id = :o and status <> 'closed'"
                       " and subject_type = 'indicator' order by level, id limit 1")
    assert found, "the demo data escalates an STW system indicator"
    subject, before = found[0]
    assert "risk_rating" in before["missing_facts"]  # step 3's "sooner if assessed risk is high" waits on it
    try:
        outcome = await record(database, services, LEAD, stw, kind="risk_rating", subject_key=subject, value="low", reason="Low harm")
        assert isinstance(outcome, JudgementRecorded), outcome
        level, code, explanation = await escalation(database, stw, subject)
        assert explanation["facts"]["risk_rating"] == "low"
        assert "risk_rating" not in explanation["missing_facts"]
    finally:
        await withdraw_all(database, services, stw, subject, ((LEAD, ("risk_rating",)),))


async def test_the_ipdb_refers_a_programme_exception_to_cet(database, services, org_ids):
    """Sheffield 3.2.1: CET takes "only absolute exceptions that require CET sign-off": the IPDB's referral is a judgement."""
    from server.escalation_store.judgement_facts import judgement_facts
    from server.assessment_store.recompute import runner_access

    sheffield = org_ids["03N"]
    subject = "programme:UEC"
    outcome = await record(database, services, "sheffield.contracts@accord.example", sheffield, kind="requires_cet_decision",
                           subject_key=subject, value="yes", reason="QIPP shortfall needs a CET decision on disinvestment")
    try:
        assert isinstance(outcome, JudgementRecorded), outcome
        assert outcome.judgement.subject_name == "Urgent care programme"
        async with database.session(await runner_access(database, sheffield)) as session:
            facts = await judgement_facts(session, sheffield, at=dt.datetime.now(dt.UTC))
        assert facts[subject] == {"requires_cet_decision": True}
        found = await escalation(database, sheffield, subject)
        assert found is not None, "the demo data put the urgent care programme in exception"
        assert (found[1], found[2]["facts"]["requires_cet_decision"]) == ("cet", True)
    finally:
        await withdraw_all(database, services, sheffield, subject, (("sheffield.contracts@accord.example", ("requires_cet_decision",)),))
