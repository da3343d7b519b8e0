"""Row-level security, table by table: who may read, add, change and remove one row of SaTH (RXW).

Every table with row-level security is exercised in six contexts, and the list of tables comes from
the database: a new table with RLS and no entry in ``EXPECTED`` fails ``test_every_table_with_rls_is_in_the_matrix``.
Each table gets one row of RXW's (a joint recovery plan of RXW with RJAH (RL1) as partner for the
plan tables), and in each context the test counts what a select, an update and a delete reach and
whether an insert of the same row passes the policy. Everything runs in one transaction that is
rolled back, each statement under its own savepoint, so nothing is left behind.

An insert copies the row, primary key and all: a unique violation therefore means the policy let
it through (PostgreSQL checks RLS before constraints). A delete stopped by a foreign key after the
policy let it through counts as the one row it reached.
"""
from __future__ import annotations

import json
from collections.abc import Mapping

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection

from tests.db.access import INSUFFICIENT_PRIVILEGE, INVALID_TEXT, ids_csv, set_access, sqlstate, with_ids

ALLOWED, REFUSED = "allowed", "refused"
OPERATIONS = ("select", "insert", "update", "delete")
CONTEXTS = ("own", "partner", "commissioner", "foreign", "empty", "malformed")

# (select, insert, update, delete): rows reached, or whether the statement was allowed at all.
WRITES_ITS_OWN = (1, ALLOWED, 1, 1)
NOTHING = (0, REFUSED, 0, 0)
READS_ONLY = (1, REFUSED, 0, 0)
MALFORMED = (REFUSED, REFUSED, REFUSED, REFUSED)  # a context that is not a list of ids is an error, never a guess
HISTORY = (1, ALLOWED, REFUSED, REFUSED)  # append-only: add and read, never change or remove
NOT_THEIR_HISTORY = (0, REFUSED, REFUSED, REFUSED)
# Removing these rows would remove history with them (measurement revisions, escalation events).
KEEPS_HISTORY = (1, ALLOWED, 1, REFUSED)


def _table(own=WRITES_ITS_OWN, partner=NOTHING, commissioner=NOTHING, others=NOTHING, malformed=MALFORMED) -> dict[str, tuple]:
    return {"own": own, "partner": partner, "commissioner": commissioner, "foreign": others, "empty": others, "malformed": malformed}


def _history(partner=NOT_THEIR_HISTORY) -> dict[str, tuple]:
    return _table(own=HISTORY, partner=partner, commissioner=NOT_THEIR_HISTORY, others=NOT_THEIR_HISTORY)


EXPECTED: dict[str, dict[str, tuple]] = {
    # Commissioners read the contractual indicators of providers they contract with, at organisation level.
    "unit_tier": _table(own=(1, ALLOWED, 1, 1), commissioner=READS_ONLY),
    "org_unit": _table(own=KEEPS_HISTORY, commissioner=READS_ONLY),
    "domain": _table(commissioner=READS_ONLY),
    "indicator": _table(own=KEEPS_HISTORY, commissioner=READS_ONLY),
    "target": _table(commissioner=READS_ONLY),
    "trajectory": _table(commissioner=READS_ONLY),  # the organisation-level trajectory
    "measurement": _table(own=KEEPS_HISTORY),  # a ward's figure: not the commissioner's
    "assessment": _table(commissioner=READS_ONLY),  # the organisation-level assessment
    "forum": _table(),
    "tenant_framework": _table(),
    # Issue 15 (0025): a benchmarking agreement is its organisation's; a peer sees what it shares only through benchmark_peers.
    "peer_group_declaration": _table(),
    "maturity_assessment": _history(),  # a new self-assessment supersedes; none is changed or removed (0013)
    "escalation": _table(own=KEEPS_HISTORY),
    "meeting": _table(),
    "meeting_attendance": _table(),
    "action": _table(),
    "measurement_revision": _history(),
    "audit_event": _history(),
    "escalation_event": _history(),
    "judgement": _history(),  # issue 11: a judgement is superseded by a new row, never changed or removed
    # The plan is RXW's; RL1 is a partner: it reads the plan and writes its own agreement only.
    # Nobody deletes a plan (it is closed), and a partner's update of it is refused outright.
    # (With no delete policy, nothing evaluates a malformed context: the delete simply reaches nothing.)
    "improvement_plan": _table(own=(1, ALLOWED, 1, 0), partner=(1, REFUSED, REFUSED, 0), malformed=(REFUSED, REFUSED, REFUSED, 0)),
    "plan_partner": _table(partner=READS_ONLY),
    # The agreement is RL1's: the owner may withdraw it (a substantive edit does), never sign it.
    "plan_agreement": _table(own=(1, REFUSED, 1, 0), partner=(1, ALLOWED, 1, 0), malformed=(REFUSED, REFUSED, REFUSED, 0)),
    "plan_event": _history(partner=(1, REFUSED, REFUSED, REFUSED)),
    "plan_trajectory": _table(partner=READS_ONLY),
    # Issue 15: a person reads and marks read the notifications addressed to them, whatever organisation
    # they are about; one is added only for an organisation the request writes for; nobody removes one, and
    # the matrix's update (of the key) is refused: only read_at and the email stamps may change (tests/notifications).
    "notification": {"own": (1, ALLOWED, REFUSED, REFUSED), "partner": (1, REFUSED, REFUSED, REFUSED),
                     "commissioner": (1, REFUSED, REFUSED, REFUSED), "foreign": (1, REFUSED, REFUSED, REFUSED),
                     "empty": NOT_THEIR_HISTORY, "malformed": MALFORMED},
    # A recalculation decision is withdrawn (an update that keeps it), never deleted: nobody has the privilege.
    "commentary": _history(),  # issue 14: a new version is a new row; nobody changes or removes one
    # Issue 15: a commissioner's notice to a provider is the commissioner's alone (never the provider's, even as a tenant);
    # it moves on by update and is never removed (no delete privilege); each step is history.
    "contract_notice": {**_table(own=(1, ALLOWED, 1, REFUSED), partner=(0, REFUSED, 0, REFUSED), commissioner=(0, REFUSED, 0, REFUSED),
                                 others=(0, REFUSED, 0, REFUSED))},
    "contract_notice_event": _history(),
    # Issue 15 (ULHT 6): a division's autonomy levels and accountability reviews are history (0018).
    "accountability_review": _history(),
    "autonomy_level": _history(),
    "spc_recalculation": _table(own=KEEPS_HISTORY, partner=(0, REFUSED, 0, REFUSED), commissioner=(0, REFUSED, 0, REFUSED),
                                others=(0, REFUSED, 0, REFUSED)),
    # Programme records (issue 15, Sheffield 3.1): a milestone is dropped, a risk or a programme closed; nobody deletes.
    **{table: _table(own=KEEPS_HISTORY, partner=(0, REFUSED, 0, REFUSED), commissioner=(0, REFUSED, 0, REFUSED), others=(0, REFUSED, 0, REFUSED))
       for table in ("programme", "programme_milestone", "programme_benefit", "programme_risk")},
}

MATRIX_PLAN = "(select id from improvement_plan where title = 'Matrix plan')"
MATRIX_MEETING = "(select id from meeting where scheduled_for = '2099-01-01' and org_id = :rxw)"
# The one row of each table the matrix acts on.
SAMPLE_ROW = {
    "unit_tier": "org_id = :rxw and depth = 0",
    "org_unit": "org_id = :rxw and parent_id is null",
    "indicator": "org_id = :rxw and source = 'contractual'",
    "target": "org_id = :rxw and indicator_id in (select id from indicator where source = 'contractual')",
    "trajectory": "org_id = :rxw and unit_id is null and period = '2099-01-01'",
    "measurement": "org_id = :rxw and indicator_id in (select id from indicator where source = 'contractual')"
                   " and unit_id in (select id from org_unit where parent_id is not null)",
    "assessment": "org_id = :rxw and unit_id is null and indicator_id in (select id from indicator where source = 'contractual')",
    # The rows this test adds, not rows other tests left behind.
    "improvement_plan": f"id = {MATRIX_PLAN}",
    "plan_partner": f"plan_id = {MATRIX_PLAN}",
    "plan_agreement": f"plan_id = {MATRIX_PLAN}",
    "plan_event": f"plan_id = {MATRIX_PLAN}",
    "plan_trajectory": f"plan_id = {MATRIX_PLAN}",
    "meeting": f"id = {MATRIX_MEETING}",
    "meeting_attendance": f"meeting_id = {MATRIX_MEETING}",
    "action": f"meeting_id = {MATRIX_MEETING}",
    "escalation": "org_id = :rxw and ladder_code = 'MATRIX'",
    "escalation_event": "escalation_id in (select id from escalation where org_id = :rxw and ladder_code = 'MATRIX')",
    "maturity_assessment": "org_id = :rxw and assessed_on = '2026-01-01' and level = 3",
    "audit_event": "org_id = :rxw and action = 'matrix.test'",
    "judgement": "org_id = :rxw and kind = 'matrix_test'",
    "spc_recalculation": "org_id = :rxw and period = '2099-01-01'",
    "commentary": "org_id = :rxw and body = 'Matrix commentary'",
    "accountability_review": "org_id = :rxw and notes = 'Matrix review'",
    "autonomy_level": "org_id = :rxw and review_id in (select id from accountability_review where notes = 'Matrix review')",
    "notification": "dedupe_key = 'matrix-test'",
    "peer_group_declaration": "org_id = :rxw and group_code = 'ACUTE-PEERS'",  # from sath.yaml
    "programme": "org_id = :rxw and code = 'MATRIX'",
    "programme_milestone": "org_id = :rxw and title = 'Matrix milestone'",
    "programme_benefit": "org_id = :rxw and month = '2099-01-01'",
    "programme_risk": "org_id = :rxw and description = 'Matrix risk'",
    "contract_notice": "org_id = :rxw and title = 'Matrix notice'",
    "contract_notice_event": "org_id = :rxw and note = 'Matrix notice'",
}

# Rows the demo data does not have: a plan with its partner, agreement, event and trajectory, and a
# meeting, an action, an escalation with its event, a maturity assessment and an organisation-level trajectory.
FIXTURE_ROWS = (
    # A replaced value: the trigger of migration 0030 keeps the version it replaced as a revision.
    "update measurement set value = value + 1, revision = revision + 1"
    " where id = (select min(id) from measurement where org_id = :rxw and value is not null)",
    "insert into improvement_plan (org_id, partner_org_ids, kind, title, status, accountability, sro, leads, version)"
    " values (:rxw, array[:rxw, :rl1], 'recovery', 'Matrix plan', 'critiqued', 'joint', 'Chief executive', '[]', 1)",
    "insert into plan_partner (plan_id, org_id, owner_org_id) select id, :rl1, :rxw from improvement_plan where title = 'Matrix plan'",
    "insert into plan_agreement (plan_id, org_id, owner_org_id, user_id, role, plan_version)"
    " select id, :rl1, :rxw, :user, 'partner_signatory', 1 from improvement_plan where title = 'Matrix plan'",
    "insert into plan_event (plan_id, event, actor_user_id, details, plan_version)"
    " select id, 'edited', :user, '{}', 1 from improvement_plan where title = 'Matrix plan'",
    "insert into plan_trajectory (plan_id, period, planned) select id, '2026-01-01', 1 from improvement_plan where title = 'Matrix plan'",
    "insert into meeting (org_id, forum_id, scheduled_for, status, cadence_reason, decisions, version)"
    " select :rxw, min(id), '2099-01-01', 'scheduled', '{}', '[]', 1 from forum where org_id = :rxw",
    "insert into meeting_attendance (meeting_id, member, org_id, present) select id, 'Chair', :rxw, true from meeting where scheduled_for = '2099-01-01' and org_id = :rxw",
    "insert into action (org_id, meeting_id, description, owner, due_date, status)"
    " select :rxw, id, 'Matrix action', 'Chair', '2099-02-01', 'open' from meeting where scheduled_for = '2099-01-01' and org_id = :rxw",
    "insert into escalation (org_id, ladder_code, subject_type, subject_key, subject_name, level, level_code, level_name, requires,"
    " status, explanation, manual_override, version) values (:rxw, 'MATRIX', 'organisation', 'RXW', 'SaTH', 1, 'L1', 'Level 1', '[]', 'open', '{}', false, 1)",
    "insert into escalation_event (org_id, escalation_id, event, facts) select :rxw, id, 'opened', '{}' from escalation where ladder_code = 'MATRIX'",
    "insert into maturity_assessment (org_id, level, assessed_on) values (:rxw, 3, '2026-01-01')",
    "insert into trajectory (org_id, indicator_id, unit_id, period, value)"
    " select :rxw, min(id), null, '2099-01-01', 1 from indicator where org_id = :rxw and source = 'contractual'",
    "insert into audit_event (org_id, actor_user_id, action, object_type, at) values (:rxw, :user, 'matrix.test', 'measurement', now())",
    "insert into judgement (org_id, kind, subject_type, subject_key, subject_name, value, reason, recorded_by, recorded_by_name, recorded_role)"
    " values (:rxw, 'matrix_test', 'organisation', 'organisation:RXW', 'SaTH', 'true', 'Matrix', :user, 'Matrix', 'executive')",
    "insert into commentary (org_id, indicator_id, period, body, author_id, author_name)"
    " select :rxw, min(id), '2099-01-01', 'Matrix commentary', :user, 'Matrix' from indicator where org_id = :rxw",
    "insert into accountability_review (org_id, unit_id, held_on, autonomy_level, autonomy_code, outcome, notes, recorded_by,"
    " recorded_by_name, recorded_role) select :rxw, min(id), '2026-01-01', 0, 'standard', 'Matrix', 'Matrix review', :user, 'Matrix',"
    " 'executive' from org_unit where org_id = :rxw and depth = 1",
    "insert into autonomy_level (org_id, unit_id, earned_level, earned_code, level, level_code, cause, review_id)"
    " select :rxw, unit_id, 0, 'standard', 0, 'standard', 'review', id from accountability_review where notes = 'Matrix review'",
    "insert into spc_recalculation (org_id, indicator_id, unit_id, period, reason)"
    " select :rxw, min(id), (select id from org_unit where org_id = :rxw and parent_id is null), '2099-01-01', 'Matrix'"
    " from indicator where org_id = :rxw",
    "insert into contract_notice (org_id, provider_id, title, reason) values (:rxw, :rl1, 'Matrix notice', 'Matrix')",
    "insert into contract_notice_event (org_id, notice_id, event, to_status, note, actor_user_id, actor_name)"
    " select :rxw, id, 'raised', 'raised', 'Matrix notice', :user, 'Matrix' from contract_notice where title = 'Matrix notice'",
    "insert into notification (recipient_user_id, org_id, kind, subject, body, link, dedupe_key)"
    " values (:user, :rxw, 'escalation', 'Matrix', 'Matrix', '/organisations/RXW/escalations', 'matrix-test')",
    "insert into programme (org_id, code, name) values (:rxw, 'MATRIX', 'Matrix programme')",
    "insert into programme_milestone (org_id, programme_id, title, due_on) select :rxw, id, 'Matrix milestone', '2099-01-01'"
    " from programme where org_id = :rxw and code = 'MATRIX'",
    "insert into programme_benefit (org_id, programme_id, month, planned) select :rxw, id, '2099-01-01', 1000"
    " from programme where org_id = :rxw and code = 'MATRIX'",
    "insert into programme_risk (org_id, programme_id, description, likelihood, impact, owner, raised_on)"
    " select :rxw, id, 'Matrix risk', 3, 3, 'Matrix', '2099-01-01' from programme where org_id = :rxw and code = 'MATRIX'",
)


def tables_with_rls_sql() -> str:
    """Tables and partitioned tables with row-level security; partitions are their parent's (tests/db/test_partitions.py)."""
    return (
        "select c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace"
        " where n.nspname = 'public' and c.relkind in ('r', 'p') and c.relrowsecurity and not c.relispartition"
        " union select p.tablename from pg_policies p join pg_class c on c.relname = p.tablename and c.relnamespace = 'public'::regnamespace"
        " where p.schemaname = 'public' and not c.relispartition"
    )


async def test_every_table_with_rls_is_in_the_matrix(database):
    async with database.owner_engine.connect() as connection:
        tables = set((await connection.execute(text(tables_with_rls_sql()))).scalars())
    assert tables == set(EXPECTED), f"add to EXPECTED: {sorted(tables - set(EXPECTED))}; gone: {sorted(set(EXPECTED) - tables)}"


async def test_every_tenant_table_has_a_policy_for_each_command(database):
    """No command is left to 'no policy, no rows' by accident: each is granted or revoked on purpose."""
    async with database.owner_engine.connect() as connection:
        rows = (await connection.execute(text(
            "select t.relname, has_table_privilege('accord_app', t.oid, cmd.name), exists ("
            "  select 1 from pg_policies p where p.tablename = t.relname and p.cmd in (upper(cmd.name), 'ALL'))"
            " from pg_class t join pg_namespace n on n.oid = t.relnamespace,"
            " (values ('select'), ('insert')) cmd(name)"
            " where n.nspname = 'public' and t.relkind in ('r', 'p') and t.relrowsecurity"))).all()
    granted_without_policy = [table for table, granted, has_policy in rows if granted and not has_policy]
    assert not granted_without_policy


@pytest.mark.parametrize("table", sorted(EXPECTED))
async def test_row_level_security_matrix(database, org_ids, table):
    ids = {"rxw": org_ids["RXW"], "rl1": org_ids["RL1"]}
    contexts = {
        "own": _context([ids["rxw"]]),
        "partner": _context([ids["rl1"]]),
        "commissioner": _context([org_ids["QOC"]], contract=[ids["rxw"]]),
        "foreign": _context([org_ids["RWD"]]),
        "empty": {"read": "", "write": "", "contract": "", "user": ""},
        "malformed": {"read": "x,1", "write": "1,,2", "contract": "x", "user": "x"},
    }
    async with database.app_engine.connect() as connection:
        transaction = await connection.begin()
        try:
            user_id = await _set_context(connection, _context([ids["rxw"], ids["rl1"]]))
            for statement in FIXTURE_ROWS:
                await connection.execute(text(with_ids(statement, {**ids, "user": user_id})))
            row = await _sample(connection, table, ids)
            observed = {}
            for name, context in contexts.items():
                await _set_context(connection, context)
                observed[name] = tuple([await _attempt(connection, table, operation, row) for operation in OPERATIONS])
        finally:
            await transaction.rollback()
    mismatches = {name: f"expected {EXPECTED[table][name]}, got {got}" for name, got in observed.items() if got != EXPECTED[table][name]}
    assert not mismatches, f"{table} (select, insert, update, delete): {json.dumps(mismatches, indent=1)}"


def _context(org_ids: list[int], contract: list[int] | None = None) -> dict[str, str]:
    return {"read": ids_csv(org_ids), "write": ids_csv(org_ids), "contract": ids_csv(contract or []), "user": "USER"}


async def _set_context(connection: AsyncConnection, context: Mapping[str, str]) -> int:
    user_id = (await connection.execute(text("select min(id) from app_user"))).scalar_one()
    await set_access(connection, **{**context, "user": str(user_id) if context["user"] == "USER" else context["user"]})
    return user_id


async def _sample(connection: AsyncConnection, table: str, ids: Mapping[str, int]) -> dict:
    where = SAMPLE_ROW.get(table, "org_id = :rxw")
    sql = f"select to_jsonb(t) from {table} t where {with_ids(where, ids)} limit 1"
    row = (await connection.execute(text(sql))).scalar_one_or_none()
    assert row is not None, f"no sample row of {table}"
    return row


async def _primary_key(connection: AsyncConnection, table: str) -> list[str]:
    return list((await connection.execute(text(
        "select a.attname from pg_index i join pg_attribute a on a.attrelid = i.indrelid and a.attnum = any(i.indkey)"
        " where i.indrelid = cast(:table as regclass) and i.indisprimary order by a.attnum"), {"table": table})).scalars())


async def _attempt(connection: AsyncConnection, table: str, operation: str, row: dict) -> int | str:
    """Rows reached, or ALLOWED / REFUSED, for one statement under its own savepoint."""
    key = ", ".join(await _primary_key(connection, table))
    this_row = f"({key}) = (select {key} from jsonb_populate_record(null::{table}, cast(:row as jsonb)))"
    first = key.split(", ")[0]
    statement = {
        "select": f"select count(*) from {table} where {this_row}",
        "insert": f"insert into {table} select * from jsonb_populate_record(null::{table}, cast(:row as jsonb))",
        "update": f"update {table} set {first} = {first} where {this_row}",
        "delete": f"delete from {table} where {this_row}",
    }[operation]
    savepoint = await connection.begin_nested()
    try:
        result = await connection.execute(text(statement), {"row": json.dumps(row)})
        outcome: int | str = result.scalar_one() if operation == "select" else ALLOWED if operation == "insert" else result.rowcount
    except DBAPIError as error:
        outcome = _classify(operation, sqlstate(error))
    await savepoint.rollback()
    return outcome


def _classify(operation: str, state: str | None) -> int | str:
    if state in (INSUFFICIENT_PRIVILEGE, INVALID_TEXT):
        return REFUSED
    if operation == "insert" and state == "23505":  # the copy reached the unique index: RLS let it in
        return ALLOWED
    if operation == "delete" and state == "23503":  # RLS let it go; a reference kept it
        return 1
    raise AssertionError(f"{operation}: unexpected SQLSTATE {state}")

