"""The description of an evidence's method and rule sets stored once for every series that shares it (issue 10)

Once its SPC points moved out (0028), about half of a series' evidence document was the method in
words and the parameters of its five rule sets: the same 3 kB for every series derived with the
same settings, parsed and compressed again for each. ``assessment_method`` keeps each distinct
description once, keyed by a digest of its content; a latest assessment names it in
``method_digest`` and readers put it back where the document had it
(server/assessment_store/methods.py), so what they answer is unchanged. Stored evidence is not
rewritten: a document that still holds its description names none and is read as it is, until its
series is next derived.

The table holds no organisation's data (method settings, as the engine describes them), so it has
no org_id and no row-level security; the application role may read it and add to it, never change
what is there (a digest names one content).

Revision ID: 0028a
Revises: 0028
"""
from typing import Sequence, Union

from alembic import op

revision: str = "0028a"
down_revision: Union[str, Sequence[str], None] = "0028"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

APP_ROLE = "accord_app"


def upgrade() -> None:
    op.execute("create table assessment_method (digest text primary key, description jsonb not null)")
    op.execute(f"grant select, insert on assessment_method to {APP_ROLE}")
    op.execute("alter table assessment add column method_digest text references assessment_method (digest)")


def downgrade() -> None:
    # Each document that names a description gets it back before the table goes.
    op.execute("alter table assessment no force row level security")
    for part, key in (("spc", "method"), ("spc", "rule_set"), ("rag", "rule_set"), ("under_target", "rule_set"),
                      ("forecast", "rule_set"), ("improvement", "rule_set")):
        op.execute(f"""
            update assessment a set evidence = jsonb_set(a.evidence, '{{{part},{key}}}', m.description #> '{{{part},{key}}}')
            from assessment_method m
            where m.digest = a.method_digest and a.evidence ? '{part}' and m.description #> '{{{part},{key}}}' is not null
        """)
    op.execute("alter table assessment force row level security")
    op.execute("alter table assessment drop column method_digest")
    op.execute("drop table assessment_method")
