"""Forums' meetings (DOMAIN 4.7): scheduling from cadence rules, attendance and quorum, decisions,
action logs, frozen data packs, and the reporting schedule.

| module | what |
| --- | --- |
| ``calendar`` | which days a frequency falls on (Tuesdays; months counted from April) |
| ``division`` | a division's rating on the four ULHT 5.2 criteria, from stored unit-level assessments |
| ``requirements`` | which forum meets how often about what: fixed frequencies, cadence rules, escalations |
| ``schedule`` | create the meetings a date range needs, idempotently |
| ``attendance`` | quorum and the 75% attendance rule (THGPCG appendix 1), pure |
| ``minutes`` | attendance and decisions, guarded by the meeting's version |
| ``actions`` | the action log, carried forward until closed |
| ``pack`` / ``deadlines`` / ``pdf`` | the data pack, frozen when issued; ULHT 5.1 deadlines; the PDF |
| ``reports`` | the reporting schedule; "issued" is an ``audit_event`` row (``report.issued``) |
| ``access`` | who may manage meetings (Casbin ``meeting manage``, organisation or system domain) |

Services here never commit: the caller's ``database.session(access)`` block does.
"""
