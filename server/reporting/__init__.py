"""Reporting: read-only queries and view-models behind the people's pages (system position, IPR,
indicator detail) and their exports.

Everything here reads stored assessments (server/assessment_store) through a session opened with
the request's access context; nothing is recomputed and row-level security is never widened.
"""
