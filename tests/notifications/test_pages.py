"""The Notifications page and its GraphQL twin: a person sees only their own, newest first, marks
them read (another person's ids reach nothing), and chooses how they are emailed."""
from __future__ import annotations

from schema.app import schema
from schema.context import AccordContext
from server.db.session import AccessContext
from server.notifications.store import Notice, notify
from tests.conftest import act_as, csrf_from, login
from tests.notifications.helpers import notifications_of, user_id_of

QPC, DELIVERY = "stw.qpc@accord.example", "stw.delivery@accord.example"


async def _tell(database, org_id: int, user_id: int, key: str, subject: str) -> int:  # type: ignore[no-untyped-def]
    async with database.session(AccessContext.for_orgs([org_id], write=True)) as session:
        await notify(session, Notice(org_id=org_id, kind="escalation", subject=subject, body="Body", link="/organisations/STW/escalations",
                                     dedupe_key=key), [user_id])
    async with database.session(AccessContext(user_id=user_id)) as session:
        from sqlalchemy import text

        return (await session.exec(text("select id from notification where dedupe_key = :k"), params={"k": key})).scalar_one()


async def test_the_page_lists_my_notifications_newest_first_and_marks_them_read(client, database, org_ids):
    qpc, delivery = await user_id_of(database, QPC), await user_id_of(database, DELIVERY)
    older = await _tell(database, org_ids["STW"], qpc, "page-test:older", "Older page notification")
    newer = await _tell(database, org_ids["STW"], qpc, "page-test:newer", "Newer page notification")
    theirs = await _tell(database, org_ids["STW"], delivery, "page-test:theirs", "Someone else's notification")
    await login(client, QPC)

    page = await client.get("/notifications")
    assert page.status_code == 200
    assert page.text.index("Newer page notification") < page.text.index("Older page notification")
    assert "Someone else&#39;s notification" not in page.text and "Someone else's notification" not in page.text
    assert 'href="/notifications"' in page.text  # the header's link, which htmx fills with the count
    badge = await client.get("/notifications/unread")
    assert badge.status_code == 200 and badge.text.startswith("Notifications (") and "unread)" in badge.text

    marked = await client.post("/notifications/read", data={"csrf_token": csrf_from(page.text), "ids": [str(newer), str(theirs)]})
    assert marked.status_code == 303
    assert [row.emailed_at is None for row in await notifications_of(database, qpc, "page-test:")] == [True, True]
    unread = await client.get("/notifications?show=unread")
    assert "Older page notification" in unread.text and "Newer page notification" not in unread.text
    assert len(await notifications_of(database, delivery, "page-test:theirs")) == 1
    async with database.session(AccessContext(user_id=delivery)) as session:
        from sqlalchemy import text

        assert (await session.exec(text("select read_at from notification where id = :i"), params={"i": theirs})).scalar_one() is None
    assert older


async def test_the_email_choice_is_saved_and_a_wrong_one_is_refused_beside_the_field(client, database):
    await login(client, DELIVERY)
    page = await client.get("/notifications")
    token = csrf_from(page.text)
    refused = await client.post("/notifications/preferences", data={"csrf_token": token, "email": "hourly"})
    assert refused.status_code == 400 and "There is a problem" in refused.text and 'href="#email"' in refused.text
    saved = await client.post("/notifications/preferences", data={"csrf_token": token, "email": "daily_digest"})
    assert saved.status_code == 303
    again = await client.get("/notifications")
    assert 'value="daily_digest" checked' in again.text


async def test_the_outbox_is_not_for_a_delivery_group_member(client):
    await login(client, DELIVERY)
    assert (await client.get("/notifications/outbox")).status_code == 404


async def test_the_outbox_lists_for_an_administrator_what_was_logged_instead_of_sent(client, database, org_ids, test_settings):
    from server.notifications.delivery import deliver

    # (The delivery group member chose the daily digest in the test above: the committee member is emailed at once.)
    await _tell(database, org_ids["STW"], await user_id_of(database, QPC), "outbox-page:1", "Logged for the outbox page")
    await deliver(database, test_settings)  # no SMTP host: the outbox
    await login(client, "admin@accord.example")
    page = await client.get("/notifications/outbox")
    assert page.status_code == 200 and "Logged for the outbox page" in page.text and QPC in page.text


async def _graphql(database, services, email: str, document: str, variables: dict | None = None):  # type: ignore[no-untyped-def]
    principal, access = await act_as(database, services.authorizer, email)
    context = AccordContext(request=None, principal=principal, access=access, database=database, authorizer=services.authorizer)
    result = await schema.execute(document, variable_values=variables or {}, context_value=context)
    assert result.errors is None, result.errors
    return result.data


async def test_graphql_lists_and_marks_my_notifications_through_the_same_service(database, services, org_ids):
    qpc = await user_id_of(database, QPC)
    mine = await _tell(database, org_ids["STW"], qpc, "graphql-test:1", "GraphQL notification")
    found = await _graphql(database, services, QPC, "{ notifications(unreadOnly: true) { id subject link readAt } }")
    assert {"id": mine, "subject": "GraphQL notification", "link": "/organisations/STW/escalations", "readAt": None} in found["notifications"]
    other = await _graphql(database, services, DELIVERY, "{ notifications { id } }")
    assert mine not in [n["id"] for n in other["notifications"]]
    refused = await _graphql(database, services, DELIVERY, "mutation($ids: [Int!]) { markNotificationsRead(ids: $ids) { count } }", {"ids": [mine]})
    assert refused["markNotificationsRead"]["count"] == 0
    marked = await _graphql(database, services, QPC, "mutation($ids: [Int!]) { markNotificationsRead(ids: $ids) { count } }", {"ids": [mine]})
    assert marked["markNotificationsRead"]["count"] == 1
    after = await _graphql(database, services, QPC, "{ notifications(unreadOnly: true) { id } }")
    assert mine not in [n["id"] for n in after["notifications"]]
