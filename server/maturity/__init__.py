"""Maturity self-assessment (STW "Achieving a performance improvement culture", levels 1-5): where an
organisation, the system or one of its programme areas stands, recorded with evidence by an entitled
role, kept in history (a new assessment supersedes, none is ever edited) and shown on the system
position. The levels are data in the tenant file (``maturity:``); a system's serve its members."""
