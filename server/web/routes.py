"""The route table for people's pages. The cross-tenant probe walks this list."""
from __future__ import annotations

from starlette.routing import Route

from server.web.health import healthz, readyz
from server.web.pages import admin
from server.web.pages.audit import audit_trail_page
from server.web.pages.auth import login, login_form, logout
from server.web.pages.api import api_page
from server.web.pages.home import home
from server.web.pages.invitations import accept as accept_invitation, invitation_form
from server.web.pages import info
from server.web.pages.indicator import indicator_page, series_csv_download
from server.web.pages.organisation import ipr_csv, ipr_pdf, organisation_page
from server.web.pages import escalations, measurements, meetings, plans
from server.web.pages import commentary, imports, judgements, recalculations
from server.web.pages import notifications
from server.web.pages import autonomy, benchmark, maturity, programmes
from server.web.pages import contracts
from server.web.pages.system import system_list, system_page


def page_routes() -> list[Route]:
    return [
        Route("/healthz", healthz, methods=["GET"]),
        Route("/readyz", readyz, methods=["GET"]),
        Route("/login", login_form, methods=["GET"]),
        Route("/login", login, methods=["POST"]),
        Route("/logout", logout, methods=["POST"]),
        Route("/invitations/{secret}", invitation_form, methods=["GET"]),
        Route("/invitations/{secret}", accept_invitation, methods=["POST"]),
        Route("/", home, methods=["GET"]),
        Route("/api", api_page, methods=["GET"]),
        Route("/help", info.help_page, methods=["GET"]),
        Route("/accessibility", info.accessibility_page, methods=["GET"]),
        Route("/privacy", info.privacy_page, methods=["GET"]),
        Route("/status", info.status_page, methods=["GET"]),
        Route("/plans", plans.plan_list, methods=["GET"]),
        Route("/plans", plans.create_plan_page, methods=["POST"]),
        Route("/plans/new", plans.new_plan_form, methods=["GET"]),
        Route("/plans/{plan_id:int}", plans.plan_page, methods=["GET"]),
        Route("/plans/{plan_id:int}/edit", plans.edit_plan_form, methods=["GET"]),
        Route("/plans/{plan_id:int}/edit", plans.edit_plan, methods=["POST"]),
        Route("/plans/{plan_id:int}/steps", plans.plan_step, methods=["POST"]),
        Route("/plans/{plan_id:int}/agree", plans.plan_agree, methods=["POST"]),
        Route("/plans/{plan_id:int}/actions", plans.plan_add_action, methods=["POST"]),
        Route("/plans/{plan_id:int}/actions/{action_id:int}", plans.plan_update_action, methods=["POST"]),
        # A person's own notifications and email choice; the operators' outbox (issue 15).
        Route("/notifications", notifications.notifications_page, methods=["GET"]),
        Route("/notifications/unread", notifications.unread_badge, methods=["GET"]),
        Route("/notifications/read", notifications.mark_notifications_read, methods=["POST"]),
        Route("/notifications/preferences", notifications.save_preference, methods=["POST"]),
        Route("/notifications/outbox", notifications.outbox_page, methods=["GET"]),
        Route("/systems", system_list, methods=["GET"]),
        Route("/systems/{code}", system_page, methods=["GET"]),
        Route("/organisations/{code}", organisation_page, methods=["GET"]),
        Route("/organisations/{code}/ipr.csv", ipr_csv, methods=["GET"]),
        Route("/organisations/{code}/ipr.pdf", ipr_pdf, methods=["GET"]),
        Route("/organisations/{code}/indicators/{indicator_code}", indicator_page, methods=["GET"]),
        Route("/organisations/{code}/indicators/{indicator_code}/commentary", commentary.write, methods=["POST"]),
        Route("/organisations/{code}/indicators/{indicator_code}/series.csv", series_csv_download, methods=["GET"]),
        Route("/organisations/{code}/indicators/{indicator_code}/recalculations", recalculations.record, methods=["POST"]),
        Route("/organisations/{code}/indicators/{indicator_code}/recalculations/{recalculation_id:int}/withdraw",
              recalculations.withdraw, methods=["POST"]),
        Route("/organisations/{code}/audit", audit_trail_page, methods=["GET"]),
        Route("/organisations/{code}/measurements/new", measurements.entry_form, methods=["GET"]),
        Route("/organisations/{code}/measurements", measurements.submit_one, methods=["POST"]),
        Route("/organisations/{code}/measurements/paste", measurements.submit_pasted, methods=["POST"]),
        Route("/organisations/{code}/imports", imports.import_page, methods=["GET"]),
        Route("/organisations/{code}/imports", imports.upload, methods=["POST"]),
        Route("/organisations/{code}/imports/template.xlsx", imports.template_xlsx_download, methods=["GET"]),
        Route("/organisations/{code}/imports/template.csv", imports.template_csv_download, methods=["GET"]),
        Route("/organisations/{code}/escalations", escalations.register_page, methods=["GET"]),
        Route("/organisations/{code}/escalations/{escalation_id:int}", escalations.escalation_page, methods=["GET"]),
        Route("/organisations/{code}/escalations/{escalation_id:int}", escalations.escalation_action, methods=["POST"]),
        Route("/organisations/{code}/judgements", judgements.record, methods=["POST"]),  # from escalation and meeting pages
        Route("/organisations/{code}/maturity", maturity.maturity_page, methods=["GET"]),
        Route("/organisations/{code}/maturity", maturity.record, methods=["POST"]),
        Route("/organisations/{code}/autonomy", autonomy.autonomy_page, methods=["GET"]),
        Route("/organisations/{code}/autonomy/reviews", autonomy.record, methods=["POST"]),
        Route("/organisations/{code}/programmes", programmes.programmes_page, methods=["GET"]),
        Route("/organisations/{code}/programmes", programmes.programme_created, methods=["POST"]),
        Route("/organisations/{code}/programmes/new", programmes.new_programme_page, methods=["GET"]),
        Route("/organisations/{code}/programmes/{programme}", programmes.programme_page, methods=["GET"]),
        Route("/organisations/{code}/programmes/{programme}", programmes.programme_edited, methods=["POST"]),
        Route("/organisations/{code}/programmes/{programme}/milestones", programmes.milestone_added, methods=["POST"]),
        Route("/organisations/{code}/programmes/{programme}/milestones/achieved", programmes.milestone_achieved, methods=["POST"]),
        Route("/organisations/{code}/programmes/{programme}/qipp", programmes.qipp_recorded, methods=["POST"]),
        Route("/organisations/{code}/programmes/{programme}/risks", programmes.risk_saved, methods=["POST"]),
        Route("/organisations/{code}/indicators/{indicator_code}/benchmark", benchmark.benchmark_page, methods=["GET"]),
        # A commissioner's contracts and contract performance notices (issue 15, server/contracts/).
        Route("/organisations/{code}/contracts", contracts.contract_list, methods=["GET"]),
        Route("/organisations/{code}/contracts/{provider}", contracts.contract_page, methods=["GET"]),
        Route("/organisations/{code}/contracts/{provider}/notices", contracts.raise_notice_page, methods=["POST"]),
        Route("/organisations/{code}/contracts/{provider}/notices/{notice_id:int}", contracts.notice_page, methods=["GET"]),
        Route("/organisations/{code}/contracts/{provider}/notices/{notice_id:int}", contracts.notice_step, methods=["POST"]),
        Route("/organisations/{code}/admin", admin.roles_page, methods=["GET"]),
        Route("/organisations/{code}/admin/roles", admin.grant_role, methods=["POST"]),
        Route("/organisations/{code}/admin/roles/{assignment_id:int}/revoke", admin.revoke_role, methods=["POST"]),
        Route("/organisations/{code}/admin/tokens", admin.tokens_page, methods=["GET"]),
        Route("/organisations/{code}/admin/tokens", admin.issue_token, methods=["POST"]),
        Route("/organisations/{code}/admin/tokens/{token_id:int}/revoke", admin.revoke_token, methods=["POST"]),
        # Forums, meetings, data packs and the reporting schedule (server/meetings/).
        Route("/meetings", meetings.meetings_index, methods=["GET"]),
        Route("/organisations/{code}/meetings", meetings.organisation_meetings, methods=["GET"]),
        Route("/organisations/{code}/meetings/schedule", meetings.schedule_next_months, methods=["POST"]),
        Route("/organisations/{code}/meetings/{meeting_id}", meetings.meeting_page, methods=["GET"]),
        Route("/organisations/{code}/meetings/{meeting_id}/attendance", meetings.save_attendance, methods=["POST"]),
        Route("/organisations/{code}/meetings/{meeting_id}/decisions", meetings.add_decision, methods=["POST"]),
        Route("/organisations/{code}/meetings/{meeting_id}/actions", meetings.add_meeting_action, methods=["POST"]),
        Route("/organisations/{code}/meetings/{meeting_id}/actions/{action_id}", meetings.update_meeting_action, methods=["POST"]),
        Route("/organisations/{code}/meetings/{meeting_id}/pack", meetings.issue_meeting_pack, methods=["POST"]),
        Route("/organisations/{code}/meetings/{meeting_id}/pack.pdf", meetings.meeting_pack_pdf, methods=["GET"]),
        Route("/organisations/{code}/meetings/{meeting_id}/pack.csv", meetings.meeting_pack_csv, methods=["GET"]),
        Route("/organisations/{code}/reports", meetings.reports_page, methods=["GET"]),
        Route("/organisations/{code}/reports/issued", meetings.report_issued, methods=["POST"]),
    ]
