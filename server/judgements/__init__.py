"""Judgements as data: what people decide about a subject (a risk rating, a committee's assurance,
an executive decision), recorded with who, in which role, why, when and until when, kept in history,
and read by the ladders as facts (issue 11). The kinds are declared in each tenant file."""
