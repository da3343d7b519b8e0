"""ACCORD_BACKGROUND_TASKS: each app process runs the daily ladder tick and email delivery unless told
not to (cron runs `accord tick` instead); the lifespan starts exactly the work the setting asks for."""
from __future__ import annotations

import asyncio

import pytest
from pydantic import SecretStr

import server.app as app_module
from tests.conftest import database_urls_for


@pytest.mark.parametrize("enabled", [True, False])
async def test_the_lifespan_starts_background_work_only_when_asked(postgres_server, test_settings, monkeypatch, enabled):
    started: list[str] = []

    async def fake(name: str) -> None:
        started.append(name)
        await asyncio.Event().wait()  # runs until the lifespan cancels it

    monkeypatch.setattr(app_module, "run_scheduler", lambda database: fake("tick"))
    monkeypatch.setattr(app_module, "run_delivery", lambda database, settings: fake("email"))
    urls = database_urls_for(postgres_server, "accord_test")
    settings = test_settings.model_copy(update={
        "database_url": SecretStr(urls.owner), **({} if urls.assume_app_role else {"app_database_url": SecretStr(urls.app)}),
        "migrate_on_start": False, "access_notifications": False, "background_tasks": enabled,
    })
    app = app_module.create_app(settings)
    async with app.router.lifespan_context(app):
        await asyncio.sleep(0.05)
    assert sorted(started) == (["email", "tick"] if enabled else [])
