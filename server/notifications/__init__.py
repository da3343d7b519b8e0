"""Notifications (issue 15): who is told what, in the app and by email.

* ``escalations``: an escalation opened or moved to a forum a person sits on (the forum's ``roles``
  in the tenant file), read back from the ``escalation_event`` rows the ladder run wrote;
* ``plans``: a plan sign-off waiting for a person (each partner's signers, or the forum whose step
  is next);
* ``deadlines``: a data pack or report deadline near, for those who issue them (daily tick);
* ``delivery``: email after the transaction commits (SMTP, or the outbox in development), each
  message once, a failed one retried; one daily digest for people who chose it.

Every notification is a row (``store``), listed on the person's Notifications page and in GraphQL.
"""
