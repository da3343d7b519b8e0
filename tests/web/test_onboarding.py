"""Onboarding by configuration and commands (issue 11): the operator makes an organisation's first
administrator with ``accord create-admin``, the invited person chooses a password as NCSC advises
(length and a deny-list, no composition rules), and that administrator invites the next person from
the admin page. Every step is audited; an invitation works once."""
from __future__ import annotations

import argparse
import re

import pytest
from pydantic import SecretStr
from sqlalchemy import text

from server.admin.accounts import MIN_LENGTH, password_problem
from server.assessment_store.recompute import runner_access
from server.cli import _create_account
from tests.conftest import csrf_from, database_urls_for, login
from tests.web.test_plan_pages import fresh_client, post_form

GOOD = "heron lantern marmalade"  # three random words, lower case, no digits or symbols: fine


@pytest.mark.parametrize(("password", "why"), [
    ("short words", f"at least {MIN_LENGTH} characters"),
    ("password123456", "harder to guess"),
    ("qwertyuiop12", "harder to guess"),
    ("Summer2026!!", "harder to guess"),
    ("priyashah2026", "harder to guess"),  # the person's own name
    ("x" * 300, "256 characters or fewer"),
])
def test_weak_passwords_are_refused_with_a_reason(password, why):
    problem = password_problem(password, email="priya.shah@nhs.net", name="Priya Shah")
    assert problem is not None and why in problem


@pytest.mark.parametrize("password", [GOOD, "correct horse battery staple", "accord-demo-2026", "Tr0ub4dor&3-lantern"])
def test_long_unguessable_passwords_need_no_symbols_or_digits(password):
    assert password_problem(password, email="priya.shah@nhs.net", name="Priya Shah") is None


async def _invitation_link(capsys) -> str:  # type: ignore[no-untyped-def]
    link = capsys.readouterr().out.strip().splitlines()[-1]
    assert "/invitations/" in link
    return "/invitations/" + link.rsplit("/invitations/", 1)[1]


async def test_first_administrator_by_command_then_an_invited_colleague(app, database, org_ids, postgres_server, test_settings, capsys):
    urls = database_urls_for(postgres_server, "accord_test")
    settings = test_settings.model_copy(update={"database_url": SecretStr(urls.owner), **({} if urls.assume_app_role else {"app_database_url": SecretStr(urls.app)})})
    # RWD (ULHT) belongs to no system: without create-admin nobody could administer it.
    args = argparse.Namespace(org="RWD", email="Lena.Okoro@ulh.example", name="Lena Okoro", roles=None)
    assert await _create_account(settings, args, admin=True) == 0
    link = await _invitation_link(capsys)
    refused = await _create_account(settings, argparse.Namespace(org="NOPE", email="x@y.example", name="X", roles=None), admin=True)
    assert refused == 2 and "no organisation with the code NOPE" in capsys.readouterr().err

    async with await fresh_client(app) as lena:
        form = await lena.get(link)
        assert form.status_code == 200 and "Choose your password" in form.text and "lena.okoro@ulh.example" in form.text
        weak = await post_form(lena, link, form.text, {"password": "password123456", "confirmation": "password123456"})
        assert weak.status_code == 400 and "harder to guess" in weak.text
        assert re.search(r"<title>\s*Error: Choose your password", weak.text) and 'class="nhsuk-error-summary"' in weak.text
        assert 'href="#password"' in weak.text  # the summary links to the field
        mismatch = await post_form(lena, link, form.text, {"password": GOOD, "confirmation": GOOD + "s"})
        assert mismatch.status_code == 400 and "do not match" in mismatch.text
        done = await post_form(lena, link, form.text, {"password": GOOD, "confirmation": GOOD})
        assert done.status_code == 200 and "Your password is set" in done.text
        assert (await lena.get(link)).status_code == 404  # once only

        await login(lena, "lena.okoro@ulh.example", GOOD)
        admin = await lena.get("/organisations/RWD/admin")
        assert admin.status_code == 200 and "Full name" in admin.text
        no_name = await post_form(lena, "/organisations/RWD/admin/roles", admin.text,
                                  {"email": "sam.jones@ulh.example", "name": "", "role": "viewer"})
        assert no_name.status_code == 400 and "Enter the person&#39;s full name" in no_name.text
        invited = await post_form(lena, "/organisations/RWD/admin/roles", admin.text,
                                  {"email": "sam.jones@ulh.example", "name": "Sam Jones", "role": "data_submitter"})
        assert invited.status_code == 200 and "Send this link to Sam Jones" in invited.text
        second = "/invitations/" + re.search(r'/invitations/([A-Za-z0-9_\-]+)', invited.text).group(1)
        again = await post_form(lena, "/organisations/RWD/admin/roles", admin.text,
                                {"email": "sam.jones@ulh.example", "name": "Sam Jones", "role": "data_submitter"})
        assert again.status_code == 400 and "already has the role" in again.text

    async with await fresh_client(app) as sam:
        page = await sam.get(second)
        assert page.status_code == 200 and "Sam Jones" in page.text
        assert (await post_form(sam, second, page.text, {"password": GOOD, "confirmation": GOOD})).status_code == 200
        await login(sam, "sam.jones@ulh.example", GOOD)
        assert (await sam.get("/organisations/RWD/measurements/new")).status_code == 200  # a data submitter enters data
        assert (await sam.get("/organisations/RWD/admin")).status_code == 404  # a data submitter administers nothing

    async with database.session(await runner_access(database, org_ids["RWD"])) as session:
        actions = (await session.exec(text(
            "select action, after ->> 'email' from audit_event where org_id = :org and action like 'user.%' order by id"
        ), params={"org": org_ids["RWD"]})).all()
    assert ("user.created", "lena.okoro@ulh.example") in actions and ("user.created", "sam.jones@ulh.example") in actions
    assert ("user.invitation_accepted", "sam.jones@ulh.example") in actions


async def test_demo_accounts_are_made_through_the_same_services(database, org_ids):
    async with database.session(await runner_access(database, org_ids["RXW"])) as session:
        created = (await session.exec(text(
            "select count(*) from audit_event where org_id = :org and action = 'user.created' and after ->> 'email' like '%@accord.example'"
        ), params={"org": org_ids["RXW"]})).scalar_one()
        granted = (await session.exec(text(
            "select count(*) from audit_event where org_id = :org and action = 'role.granted' and actor_role = 'operator'"
        ), params={"org": org_ids["RXW"]})).scalar_one()
    assert created >= 2 and granted >= 2  # SaTH's executive and performance manager


def test_the_invitation_form_posts_without_javascript(project_root):
    template = (project_root / "templates" / "pages" / "invitation.html").read_text(encoding="utf-8")
    assert 'method="post"' in template and "csrf_token" in template and "hx-" not in template
    assert csrf_from('<input type="hidden" name="csrf_token" value="abc">') == "abc"
