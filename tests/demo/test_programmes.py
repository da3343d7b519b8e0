"""The demo's Sheffield programmes (issue 15, Sheffield 3.1): each has as its Senior Responsible Owner the
person holding the post the tenant file names, one the organisation's programmes may have as SRO (an
executive, who may ``sponsor`` a programme), as the create form would choose, not the post's title."""
from __future__ import annotations

from sqlalchemy import text

from server.auth.authz import Authorizer
from server.db.session import AccessContext
from server.demo.users import DEMO_USERS
from server.programmes.record import sro_candidates
from server.settings import PROJECT_ROOT
from server.tenants.load import validate_tenants

TENANTS = validate_tenants(PROJECT_ROOT / "tenants")


async def test_each_demo_programme_names_the_person_holding_its_sro_post(database, org_ids) -> None:
    declared = {spec.code: spec.sro for spec in TENANTS["03N"].programmes if spec.demo is not None}
    async with database.session(AccessContext.for_orgs([org_ids["03N"]])) as session:
        stored = {code: (user_id, name) for code, user_id, name in (await session.exec(text(
            "select p.code, p.sro_user_id, p.sro_name from programme p where p.org_id = :org and p.code = any(:codes)"),
            params={"org": org_ids["03N"], "codes": list(declared)})).all()}
        emails = dict((await session.exec(text("select id, email from app_user where id = any(:ids)"),
                                          params={"ids": [user_id for user_id, _ in stored.values()]})).all())
        sponsors = {person.user_id for person in await sro_candidates(session, Authorizer(PROJECT_ROOT / "policies"), org_ids["03N"])}
    posts = {user.email: user.post for user in DEMO_USERS}
    assert set(stored) == set(declared) == {"UEC", "ELECTIVE", "PRIMARY", "MH"}
    for code, (user_id, name) in stored.items():
        assert user_id in sponsors, code  # a person the SRO list offers
        assert posts[emails[user_id]] == declared[code], code  # who holds the post the file names
        assert name != declared[code] and name == next(u.name for u in DEMO_USERS if u.email == emails[user_id])
    assert stored["UEC"][1] == "Tom Hale"  # the Director of Delivery
