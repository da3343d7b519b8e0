"""Typed models of a tenant file (``tenants/<code>.yaml``).

A tenant file declares one organisation's Performance Management Framework: who it is, its unit
tree and tier names, its scorecard domains, indicators and targets, its forums, its assessment
settings and its escalation ladder. Systems (an ICS) are declared the same way with ``kind: system``.

Every model forbids unknown keys, so a misspelt field is an error naming the path, not a silent
default.
"""
from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from server.assessment.params import (
    BelowMinimum,
    ConflictingSignals,
    ConstantBaseline,
    PointsCounted,
    SpcMethod,
    TrendDirection,
    VariationFrom,
    WithoutLimits,
)

Code = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,39}$")]
FactName = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{1,63}$")]

OrganisationKind = Literal[
    "icb", "ccg", "trust", "gp_federation", "specialised_commissioner", "health_board", "system",
    "independent_provider",
]
Polarity = Literal["higher_is_better", "lower_is_better", "neutral"]
RollUp = Literal["sum", "rate", "max", "min", "none"]
Frequency = Literal["weekly", "monthly", "quarterly"]
IndicatorUnit = Literal["percent", "count", "rate", "minutes", "hours", "days", "weeks", "currency", "ratio", "score"]
IndicatorSource = Literal["national", "contractual", "cquin", "local"]
TargetKind = Literal["national", "contractual", "local", "stretch"]
ForumTier = Literal["oversight", "assurance", "management_escalation", "management_delivery"]
MeetingFrequency = Literal[
    "weekly", "fortnightly", "monthly", "bi-monthly", "quarterly", "twice-yearly", "six-monthly", "annual", "ad-hoc",
]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


# ---------------------------------------------------------------------------------------------
# Conditions: a small, safe language for ladder rules. Structured data only, no eval.
#   {fact: months_under_target, op: ">=", value: 2}
#   {all: [...]}, {any: [...]}, {not: {...}}
# ---------------------------------------------------------------------------------------------
Scalar = Union[bool, int, float, str]


class Compare(Strict):
    fact: FactName
    op: Literal[">=", ">", "<=", "<", "==", "!=", "in", "not_in"] = "=="
    value: Union[Scalar, list[Scalar]]

    @model_validator(mode="after")
    def list_only_for_membership(self) -> "Compare":
        if self.op in ("in", "not_in") and not isinstance(self.value, list):
            raise ValueError(f"op '{self.op}' needs a list value")
        if self.op not in ("in", "not_in") and isinstance(self.value, list):
            raise ValueError(f"op '{self.op}' needs a single value, not a list")
        return self


class AllOf(Strict):
    all: list["Condition"] = Field(min_length=1)


class AnyOf(Strict):
    any: list["Condition"] = Field(min_length=1)


class Not(Strict):
    not_: "Condition" = Field(alias="not")


Condition = Union[Compare, AllOf, AnyOf, Not]
AllOf.model_rebuild()
AnyOf.model_rebuild()
Not.model_rebuild()


# ---------------------------------------------------------------------------------------------
# Organisation, structure, indicators
# ---------------------------------------------------------------------------------------------
class OrganisationSpec(Strict):
    code: Code
    name: str
    short_name: str | None = None
    kind: OrganisationKind
    nation: Literal["England", "Wales", "Scotland", "Northern Ireland"] = "England"
    ods_code: str | None = None


class UnitDemoSpec(Strict):
    """How the demo-data generator draws a unit's series (not used outside the demo): every series of
    every team under it on the passing side of its target for the latest ``sustained_months``."""

    sustained_months: int = Field(ge=1, le=60)


class UnitSpec(Strict):
    code: Code
    name: str
    tier: str
    # False: the unit's figures (and those below it) stay out of its parent's and the organisation's
    # own: a commissioner's contract units hold its providers' figures, not its own (issue 15).
    rolls_up: bool = True
    children: list["UnitSpec"] = []
    demo: UnitDemoSpec | None = None


UnitSpec.model_rebuild()


class DomainSpec(Strict):
    code: Code
    name: str
    description: str | None = None


DataQualityRating = Literal["assured", "partial", "not_assured"]
KITEMARK_DIMENSIONS = ("timeliness", "completeness", "validation", "audit")


class Kitemark(Strict):
    """Data-quality kitemark (ULHT PMF 2.5, 10: "kitemarking to be applied to all relevant KPIs to provide
    assurance on process and data quality"): each dimension rated by the data owner, and overall."""

    timeliness: DataQualityRating | None = None
    completeness: DataQualityRating | None = None
    validation: DataQualityRating | None = None
    audit: DataQualityRating | None = None
    overall: DataQualityRating


class CohortSpec(Strict):
    """A patient cohort indicators are grouped by (WHSSC appendix 1: four cohorts across the four domains)."""

    code: Code
    name: str
    description: str | None = None


class TargetSpec(Strict):
    kind: TargetKind
    value: float
    # A unit's own target (THGPCG's Board-to-team breakdown, ULHT's divisional caps); the unit and
    # every unit below it without a target of its own are rated against it. None: the organisation's.
    unit: Code | None = None
    valid_from: dt.date | None = None
    valid_to: dt.date | None = None
    description: str | None = None


class TrajectoryPoint(Strict):
    period: dt.date
    value: float


# The shape of a demo series up to now (server/demo/generate.py says how each is drawn):
# stable (common cause where the baseline stands), hit_and_miss (varying about the target),
# improving (failing until an improvement plan started, recovering since), deteriorating (on target
# until a slide to the baseline), step_change (a sustained shift to the baseline, its SPC limits
# recalculated from it).
DemoStory = Literal["stable", "hit_and_miss", "improving", "deteriorating", "step_change"]


class DemoPlanSpec(Strict):
    """An improvement plan the demo starts on this indicator (not used outside the demo). A SPIP's
    partners are the members whose figures make the indicator (``from_members``)."""

    kind: Literal["recovery", "exception", "spip"] = "recovery"
    months_ago: int = Field(ge=1, le=36)
    title: str | None = None


class DemoSeriesSpec(Strict):
    """How the demo-data generator draws this indicator (not used outside the demo).

    ``baseline`` is where the series stands now (default: the target); ``story`` the path it took to
    get there (default: deteriorating when the baseline misses the target, otherwise stable);
    ``turned_months_ago`` when the story turned (the slide, the step); ``before_turn`` where an improving
    or stepped series stood before (default: plainly on the other side of the target).
    """

    baseline: float | None = None
    noise: float = 0.0
    seasonal_amplitude: float = 0.0
    trend_per_year: float = 0.0
    denominator: float | None = None  # for rate indicators: typical denominator per unit
    story: DemoStory | None = None
    turned_months_ago: int | None = Field(default=None, ge=2, le=36)
    before_turn: float | None = None
    plan: DemoPlanSpec | None = None
    # Judgements the demo records about the indicator once it is derived (kind -> value), in the name
    # of a demo account the kind's roles allow, e.g. STW's System QPC not assured by a SPIP's progress.
    judgements: dict[FactName, Union[bool, str]] = {}

    @model_validator(mode="after")
    def an_improving_series_has_its_plan(self) -> "DemoSeriesSpec":
        if self.story == "improving" and self.plan is None:
            raise ValueError("story 'improving' recovers after an improvement plan: give the plan (plan: {months_ago: ...})")
        return self


Combine = Literal["sum", "rate", "max", "min", "mean"]
OutturnMethod = Literal["run_rate", "linear"]


class FromMembersSpec(Strict):
    """A system indicator that is the same measure as its members' (issue 15): its figure for each
    period is computed from theirs, never recorded or generated separately.

    ``combine``: ``sum`` (counts, money), ``rate`` (sum of the members' numerators over the sum of
    their denominators, never an average of percentages), ``max`` / ``min`` ("longest wait"), or
    ``mean`` of the members' own figures. A period has a system figure only once every member named
    in ``indicators`` has reported it.
    """

    combine: Combine
    indicators: dict[Code, Code] = Field(min_length=1)  # member organisation code -> that member's indicator code


class OutturnSpec(Strict):
    """Year-to-date and forecast year-end outturn of a finance-style indicator (THGPCG, ULHT).

    The year starts in ``year_start_month`` (4: the NHS financial year, April to March). The
    forecast is ``run_rate`` (the months still to come continue at the year-to-date average) or
    ``linear`` (a least-squares line through this year's months, projected to the year end).
    """

    year_start_month: int = Field(default=4, ge=1, le=12)
    method: OutturnMethod = "run_rate"


class IndicatorSpec(Strict):
    code: Code
    name: str
    definition: str | None = None
    unit: IndicatorUnit
    polarity: Polarity
    rollup: RollUp
    frequency: Frequency = "monthly"
    domain: Code
    cohort: Code | None = None  # WHSSC patient cohort (seed 003 appendix 1): one of the file's cohorts
    source: IndicatorSource
    key: bool = False
    kitemark: Kitemark | None = None  # None: not kitemarked
    owner: str | None = None
    targets: list[TargetSpec] = []
    trajectory: list[TrajectoryPoint] = []
    demo: DemoSeriesSpec | None = None
    from_members: FromMembersSpec | None = None  # a system's indicator computed from its members' figures
    outturn: OutturnSpec | None = None  # year-to-date and forecast year-end outturn (finance-style indicators)

    @model_validator(mode="after")
    def rate_indicators_are_percent_or_rate(self) -> "IndicatorSpec":
        if self.rollup == "rate" and self.unit not in ("percent", "rate", "ratio"):
            raise ValueError("rollup 'rate' needs unit percent, rate or ratio")
        if self.from_members is not None and (self.from_members.combine == "rate") != (self.rollup == "rate"):
            raise ValueError("from_members.combine 'rate' goes with rollup 'rate' (numerators and denominators), and only with it")
        if self.outturn is not None and self.rollup != "sum":
            # A year-to-date of a rate needs its numerators and denominators, which the stored series does not keep.
            raise ValueError("outturn needs rollup 'sum' (money or counts added up over the year)")
        return self


class ForumSpec(Strict):
    code: Code
    name: str
    tier: ForumTier
    chair: str
    members: list[str] = []
    frequency: MeetingFrequency
    quorum: int | None = Field(default=None, ge=1)
    attendance_threshold: float | None = Field(default=None, gt=0, le=1)  # e.g. 0.75 (THGPCG 13)
    # The Accord roles whose holders (for this organisation, or for its system) sit on the forum:
    # they are told when an escalation opens at or moves to it (server/notifications/). The
    # ``members`` above are the seed's words for the seats; these are who holds them in Accord.
    roles: list[str] = []
    reports_to: Code | None = None
    pack_deadlines_days: dict[str, int] = {}  # e.g. {division: 7, invitees: 2} (ULHT 5.1)


# ---------------------------------------------------------------------------------------------
# Assessment settings
# ---------------------------------------------------------------------------------------------
class RagSpec(Strict):
    # Amber band as a fraction of the target value on the failing side (0.05 = within 5% of target).
    amber_band: float = Field(default=0.0, ge=0, le=1)
    # STW: on trajectory but below target is amber.
    on_trajectory_below_target: Literal["amber", "red"] = "amber"


class SpcSpec(Strict):
    """SPC method and settings (server/assessment/params.py; METHOD.md gives each one's reason).

    ``method`` picks NHSRplotthedots (the default: the R package on every edge) or the Making Data
    Count Excel tools. A setting given here overrides the method's; one left out follows it.
    """

    method: SpcMethod = "nhsrplotthedots"
    run_length: int | None = Field(default=None, ge=5, le=9)  # 7 in both methods; 6 is an MDC Excel option
    trend_length: int | None = Field(default=None, ge=5, le=9)
    screen_moving_ranges: bool | None = None
    two_in_three: bool | None = None
    two_in_three_counts_beyond_limits: bool | None = None
    fix_after_points: int | None = Field(default=None, ge=12)  # R refuses fewer than 12
    minimum_points: int | None = Field(default=None, ge=2)  # 13 in both: R warns on n() < 13
    points_counted: PointsCounted | None = None
    below_minimum: BelowMinimum | None = None
    constant_baseline: ConstantBaseline | None = None
    without_limits: WithoutLimits | None = None
    conflicting_signals: ConflictingSignals | None = None
    trend_direction: TrendDirection | None = None
    variation_from: VariationFrom | None = None
    assurance_inclusive_limits: bool | None = None
    rebase_dates: list[dt.date] = []

    def settings(self) -> dict[str, Any]:
        """The engine settings the file gives (the method and rebase dates are passed separately)."""
        return self.model_dump(exclude={"method", "rebase_dates"}, exclude_none=True)


class SpectrumThreshold(Strict):
    rating: Literal["unacceptable", "requires_improvement", "good", "outstanding"]
    when: Condition


class UnitCriterionSpec(Strict):
    """One criterion a unit is rated on, met when every key indicator of these domains is green.

    ULHT 5.2 rates divisions on adherence to financial plan, quality and performance indicators
    (and policies): the tenant says which of its scorecard domains stands for which criterion.
    """

    fact: FactName  # e.g. financial_plan_adhered
    domains: list[Code] = Field(min_length=1)
    description: str | None = None


class AssessmentSpec(Strict):
    rag: RagSpec = RagSpec()
    # Criteria a unit one tier below the organisation is rated on (facts failed_criteria etc.).
    unit_criteria: list[UnitCriterionSpec] = []
    spc: SpcSpec = SpcSpec()
    # Performance spectrum (STW): first matching rating wins, checked in the order given.
    spectrum: list[SpectrumThreshold] = []


# ---------------------------------------------------------------------------------------------
# Escalation ladders, cadence rules, reporting schedule
# ---------------------------------------------------------------------------------------------
class RouteSpec(Strict):
    """One route through a level, chosen by the subject's facts (STW: sole / joint / system accountability).

    The first route whose ``when`` holds (or that has no ``when``) sets the owning forum and adds its
    required actions to the level's own.
    """

    code: Code
    name: str | None = None
    when: Condition | None = None  # None: the default route
    forum: Code | None = None  # None: the level's forum
    requires: list[str] = []


class LevelSpec(Strict):
    level: int = Field(ge=0)
    code: Code
    name: str
    when: Condition | None = None  # None: the resting level (e.g. "performing")
    forum: Code | None = None
    additional_forums: list[Code] = []  # also informed/engaged, e.g. STW level 2: System QPC *and* STG
    routes: list[RouteSpec] = []  # optional; see RouteSpec
    requires: list[str] = []  # e.g. [monitor], [improvement_plan, risk_assessment]
    review_frequency: MeetingFrequency | None = None
    description: str | None = None


class DeEscalationSpec(Strict):
    """How an open escalation comes down when its rules stop holding (tenants/README.md, "De-escalation").

    Without one, the escalation drops straight to the level the rules give. With one, it holds its
    level until the subject has been on target for ``after_periods_on_target`` consecutive periods
    (of the subject's own reporting frequency) at that level, then steps down ``step`` levels
    (``all``: to the level the rules give).
    """

    after_periods_on_target: int = Field(ge=1)
    step: Union[Annotated[int, Field(ge=1)], Literal["all"]] = 1  # "all": straight down to the level the rules give


class LadderSpec(Strict):
    code: Code
    name: str
    # "autonomy" ladders (ULHT earned autonomy) are evaluated the same way but raise no escalation.
    purpose: Literal["escalation", "autonomy"] = "escalation"
    applies_to: Literal["indicator", "unit", "domain", "organisation", "contract", "programme", "plan"]
    source: str | None = None  # where the rule comes from, e.g. "STW SAPF, Performance Improvement"
    levels: list[LevelSpec] = Field(min_length=1)
    de_escalation: DeEscalationSpec | None = None  # None: straight down to the level the rules give

    @field_validator("levels")
    @classmethod
    def levels_ascend(cls, levels: list[LevelSpec]) -> list[LevelSpec]:
        numbers = [level.level for level in levels]
        if numbers != sorted(set(numbers)):
            raise ValueError("levels must be listed in ascending order with no repeats")
        return levels


class CadenceRule(Strict):
    """A rule that sets how often a forum meets for a subject (ULHT autonomy, WHSSC contract tier)."""

    code: Code
    applies_to: Literal["unit", "organisation", "contract", "escalation"]
    when: Condition
    forum: Code
    frequency: MeetingFrequency
    description: str | None = None


class ReportSpec(Strict):
    code: Code
    name: str
    frequency: MeetingFrequency
    audience: str
    purpose: str | None = None
    sro: str


class EscalationSpec(Strict):
    ladders: list[LadderSpec] = []
    cadence_rules: list[CadenceRule] = []


# ---------------------------------------------------------------------------------------------
# Judgements: what people decide, recorded as typed data the ladders read as facts (issue 11)
# ---------------------------------------------------------------------------------------------
SubjectType = Literal["indicator", "unit", "domain", "organisation", "contract", "programme", "plan"]


class JudgementClockSpec(Strict):
    """A fact that counts whole months since the subject's current judgement took ``value``.

    STW: "if no improvement within 3 months of this report, System QPC will escalate to the ICB":
    ``qpc_assured`` with ``clock: {value: false, fact: months_since_assurance_report_without_improvement}``.
    The clock runs while that judgement stands; a new judgement (assured, or withdrawn) stops it.
    """

    value: Union[bool, str]
    fact: FactName


class JudgementKindSpec(Strict):
    """One kind of judgement a person records about a subject; its name is the fact ladders compare.

    ``values`` are words (a choice fact) or ``[true, false]`` (a boolean fact; YAML also reads
    ``yes``/``no`` as booleans). ``roles`` may record it, if the Casbin policy also lets them
    ``record`` a ``judgement``. With ``expires_after_days`` a judgement lapses unless renewed.
    """

    name: str
    description: str | None = None
    values: list[Union[bool, str]] = Field(min_length=2)
    subjects: list[SubjectType] = Field(min_length=1)
    roles: list[str] = Field(min_length=1)
    forum: Code | None = None  # the forum that makes it, offered on that forum's meeting pages
    expires_after_days: int | None = Field(default=None, ge=1, le=3660)
    clock: JudgementClockSpec | None = None
    source: str | None = None  # where the seed asks for it, e.g. "ULHT PMF 4"


# ---------------------------------------------------------------------------------------------
# Relationships and people
# ---------------------------------------------------------------------------------------------
class ContractMonitoringSpec(Strict):
    """Where the commissioner records the provider's contractual indicators itself (issue 15).

    A provider that is not a tenant reports to its commissioner, who keeps the figures in its own
    tenancy: measurements of the commissioner's ``indicators`` at ``unit`` (one unit per contract),
    entered or imported like any other measurement. ``spend`` names the indicator holding the month's
    value of activity under the contract, from which the finance outturn is forecast.
    """

    unit: Code
    indicators: list[Code] = Field(min_length=1)
    spend: Code | None = None


class ContractSpec(Strict):
    provider: Code
    provider_name: str | None = None
    annual_value: float = Field(ge=0)
    services: list[str] = []
    strategically_important: bool = False
    start: dt.date | None = None
    end: dt.date | None = None
    forum: Code | None = None  # the contract's own board (Sheffield 3.3: one Contract Management Board per provider)
    monitoring: ContractMonitoringSpec | None = None


class RegionSpec(Strict):
    """The NHS England region (or a nation's equivalent) a system sits in: regional and national
    readers are granted by region, so the directory must know each system's."""

    code: Code  # the ODS region code, e.g. Y60 for NHS England Midlands
    name: str


class DemoMilestoneSpec(Strict):
    """A demo milestone, dated relative to the month the demo is made in (not used outside the demo)."""

    title: str
    due_in_months: int  # -2: the 15th two months ago
    achieved: Literal["on_time", "late", "no"] = "no"


class DemoRiskSpec(Strict):
    description: str
    likelihood: int = Field(ge=1, le=5)
    impact: int = Field(ge=1, le=5)
    owner: str
    mitigation: str = ""
    raised_months_ago: int = Field(default=3, ge=0)


class ProgrammeDemoSpec(Strict):
    """How the demo-data generator draws a programme's record (not used outside the demo)."""

    monthly_qipp: float = Field(gt=0)
    # The QIPP realised in the last ``slipping_months`` whole months is this share of plan; before them,
    # each month realises plan to ``on_plan_margin`` above it.
    slipping_months: int = Field(default=0, ge=0)
    realised_share_when_slipping: float = Field(default=1.0, ge=0)
    on_plan_margin: float = Field(default=0.03, ge=0)
    milestones: list[DemoMilestoneSpec] = []
    risks: list[DemoRiskSpec] = []


class ProgrammeSpec(Strict):
    """A programme (Sheffield 3.1: transformation projects and programmes incl. QIPP) declared by the tenant.

    The loader adds each declared programme's record once (code, name, SRO, the unit whose measures
    are its own); from then on the record is kept in the app (server/programmes/), where its
    milestones, QIPP benefits and risks are recorded and the programme ladder reads its facts.
    """

    code: Code
    name: str
    unit: Code | None = None
    sro: str | None = None  # the Senior Responsible Owner as named in the file (a person or a post)
    demo: ProgrammeDemoSpec | None = None


class CommonIndicatorsSpec(Strict):
    """Indicator codes every listed member reports (issue 14), so that the system position compares
    like with like in a full matrix; the loader checks each member's file declares them."""

    codes: list[Code] = Field(min_length=1)
    members: list[Code] = Field(min_length=2)
    # The set's own name for a code, where members word it differently (the system position's row name).
    names: dict[Code, str] = {}

    @model_validator(mode="after")
    def _names_are_of_codes(self) -> "CommonIndicatorsSpec":
        for code in self.names:
            if code not in self.codes:
                raise ValueError(f"common_indicators.names.{code}: '{code}' is not one of the set's codes")
        return self


class SystemSpec(Strict):
    code: Code
    name: str
    members: list[Code] = Field(min_length=1)
    region: RegionSpec | None = None
    common_indicators: CommonIndicatorsSpec | None = None

    @model_validator(mode="after")
    def _common_members_are_members(self) -> "SystemSpec":
        for index, member in enumerate(self.common_indicators.members if self.common_indicators else ()):
            if member not in self.members:
                raise ValueError(f"common_indicators.members[{index}]: '{member}' is not one of the system's members")
        return self


class DataValidationSpec(Strict):
    """Who may validate data (ULHT PMF: divisions submit, the Performance Team validates)."""

    # The person who entered a value may not also mark it validated: someone else must.
    separate_from_submission: bool = False


class MaturityLevelSpec(Strict):
    level: int = Field(ge=1, le=5)  # maturity_assessment.level is checked 1-5 in the database
    name: str
    impact: str  # what the level looks like in practice (the seed's "Impact" column)


class MaturitySpec(Strict):
    """Self-assessed maturity levels (STW "Achieving a performance improvement culture").

    A system's levels also serve its members unless a member declares its own."""

    source: str | None = None
    levels: list[MaturityLevelSpec] = Field(min_length=2, max_length=5)
    roles: list[str] = Field(min_length=1)  # who records a self-assessment (and the policy must let them)
    inherited_from: Code | None = None  # set by the loader: the system whose levels a member uses

    @model_validator(mode="after")
    def levels_count_up_from_one(self) -> "MaturitySpec":
        numbers = [level.level for level in self.levels]
        if numbers != list(range(1, len(numbers) + 1)):
            raise ValueError(f"levels must be numbered 1, 2, 3... in order, not {numbers}")
        return self


class DemoMaturitySpec(Strict):
    """A self-assessment the demo records (not used outside the demo): through the maturity service, in the
    name of a demo account holding one of the framework's ``maturity.roles`` here."""

    programme: Code | None = None  # None: the whole organisation; else a programme area (server/maturity/framework.py)
    level: int = Field(ge=1, le=5)
    evidence: str = Field(min_length=1)


class OrganisationDemoSpec(Strict):
    """What the demo records about the organisation as a whole (not used outside the demo)."""

    maturity: list[DemoMaturitySpec] = []


class AutonomyPowerSpec(Strict):
    """One power the scheme of delegation can devolve to a unit (ULHT 5.2: revenue authorisation, own capital...)."""

    code: FactName
    name: str


class AccountabilityReviewSpec(Strict):
    """The periodic accountability review at which a unit's escalation and autonomy levels are agreed (ULHT 6)."""

    name: str
    forum: Code
    every_months: int = Field(ge=1, le=24)
    roles: list[str] = Field(min_length=1)  # who records its outcome (and the policy must let them)
    resets: list[Code] = []  # the unit escalation ladders whose level the review agrees


class EarnedAutonomySpec(Strict):
    """Earned autonomy under a scheme of delegation (ULHT 5.2 and 6).

    ``ladder`` names an escalation ladder with ``purpose: autonomy`` and ``applies_to: unit``: its
    levels and rules (the condition language) say which level a unit's sustained performance earns,
    and each level's ``requires`` lists the ``powers`` it grants. ``granted``: ``at_review`` — a higher
    level earned waits for the accountability review to agree it, a level no longer earned is
    withdrawn at once; ``when_earned`` — the earned level applies as soon as it is earned.
    """

    source: str | None = None
    ladder: Code
    granted: Literal["at_review", "when_earned"] = "at_review"
    powers: list[AutonomyPowerSpec] = Field(min_length=1)
    review: AccountabilityReviewSpec


class PeerGroupSpec(Strict):
    """Organisations an organisation benchmarks itself against (ULHT 8.2: peer trusts), and the
    indicator codes it agrees to share with them. A member the reader may not see is compared only
    when its own file declares the same group naming this organisation (a mutual agreement), and
    only on the codes it shares (migration 0025)."""

    code: Code
    name: str
    members: list[Code] = Field(min_length=2)
    shares: list[Code] = []  # codes of this file's indicators whose organisation-level figures the members may see
    source: str | None = None


class TenantFile(Strict):
    organisation: OrganisationSpec
    system: SystemSpec | None = None  # only in a system's file
    tiers: list[str] = []  # top-down tier names, e.g. [trust, division, service, team]
    units: list[UnitSpec] = []  # usually one root
    domains: list[DomainSpec] = []
    cohorts: list[CohortSpec] = []  # patient cohorts an indicator may name (WHSSC)
    indicators: list[IndicatorSpec] = []
    forums: list[ForumSpec] = []
    assessment: AssessmentSpec = AssessmentSpec()
    escalation: EscalationSpec = EscalationSpec()
    reporting_schedule: list[ReportSpec] = []
    contracts: list[ContractSpec] = []
    programmes: list[ProgrammeSpec] = []
    judgements: dict[FactName, JudgementKindSpec] = {}
    maturity: MaturitySpec | None = None
    earned_autonomy: EarnedAutonomySpec | None = None
    peer_groups: list[PeerGroupSpec] = []
    data_validation: DataValidationSpec = DataValidationSpec()
    demo: OrganisationDemoSpec | None = None
    notes: str | None = None

    @model_validator(mode="after")
    def references_resolve(self) -> "TenantFile":
        errors: list[str] = []
        tiers = set(self.tiers)
        seen_units: set[str] = set()
        rolls_into_organisation: set[str] = set()

        def walk(unit: UnitSpec, depth: int, path: str, rolls_in: bool = True) -> None:
            if depth == 0 and not unit.rolls_up:
                errors.append(f"{path}.rolls_up: the organisation's own unit has no parent to stay out of")
            rolls_in = rolls_in and unit.rolls_up
            if rolls_in:
                rolls_into_organisation.add(unit.code)
            if unit.tier not in tiers:
                errors.append(f"{path}.tier: '{unit.tier}' is not one of tiers {self.tiers}")
            elif self.tiers.index(unit.tier) != depth:
                errors.append(f"{path}.tier: '{unit.tier}' is at depth {depth} but tiers list it at {self.tiers.index(unit.tier)}")
            if unit.code in seen_units:
                errors.append(f"{path}.code: duplicate unit code '{unit.code}'")
            seen_units.add(unit.code)
            for index, child in enumerate(unit.children):
                walk(child, depth + 1, f"{path}.children[{index}]", rolls_in)

        for index, unit in enumerate(self.units):
            walk(unit, 0, f"units[{index}]")
        _no_duplicates(errors, "domains", [d.code for d in self.domains])
        _no_duplicates(errors, "indicators", [i.code for i in self.indicators])
        _no_duplicates(errors, "forums", [f.code for f in self.forums])
        domains = {d.code for d in self.domains}
        _no_duplicates(errors, "cohorts", [c.code for c in self.cohorts])
        cohorts = {c.code for c in self.cohorts}
        for index, indicator in enumerate(self.indicators):
            if indicator.domain not in domains:
                errors.append(f"indicators[{index}].domain: '{indicator.domain}' is not a declared domain")
            if indicator.cohort is not None and indicator.cohort not in cohorts:
                errors.append(f"indicators[{index}].cohort: '{indicator.cohort}' is not a declared cohort")
            for t_index, target in enumerate(indicator.targets):
                if target.unit is not None and target.unit not in seen_units:
                    errors.append(f"indicators[{index}].targets[{t_index}].unit: '{target.unit}' is not a declared unit")
            for kind in indicator.demo.judgements if indicator.demo else {}:
                if kind not in self.judgements:
                    errors.append(f"indicators[{index}].demo.judgements: '{kind}' is not a judgement the file declares")
        for index, criterion in enumerate(self.assessment.unit_criteria):
            for d_index, domain in enumerate(criterion.domains):
                if domain not in domains:
                    errors.append(f"assessment.unit_criteria[{index}].domains[{d_index}]: '{domain}' is not a declared domain")
        forums = {f.code for f in self.forums}
        for index, forum in enumerate(self.forums):
            if forum.reports_to and forum.reports_to not in forums:
                errors.append(f"forums[{index}].reports_to: '{forum.reports_to}' is not a declared forum")
        for l_index, ladder in enumerate(self.escalation.ladders):
            for index, level in enumerate(ladder.levels):
                level_path = f"escalation.ladders[{l_index}].levels[{index}]"
                if level.forum and level.forum not in forums:
                    errors.append(f"{level_path}.forum: '{level.forum}' is not a declared forum")
                for f_index, forum_code in enumerate(level.additional_forums):
                    if forum_code not in forums:
                        errors.append(f"{level_path}.additional_forums[{f_index}]: '{forum_code}' is not a declared forum")
                for r_index, route in enumerate(level.routes):
                    if route.forum and route.forum not in forums:
                        errors.append(f"{level_path}.routes[{r_index}].forum: '{route.forum}' is not a declared forum")
        for index, rule in enumerate(self.escalation.cadence_rules):
            if rule.forum not in forums:
                errors.append(f"escalation.cadence_rules[{index}].forum: '{rule.forum}' is not a declared forum")
        _no_duplicates(errors, "programmes", [p.code for p in self.programmes])
        for index, programme in enumerate(self.programmes):
            if programme.unit is not None and programme.unit not in seen_units:
                errors.append(f"programmes[{index}].unit: '{programme.unit}' is not a declared unit")
        indicators = {i.code for i in self.indicators}
        for index, contract in enumerate(self.contracts):
            if contract.forum is not None and contract.forum not in forums:
                errors.append(f"contracts[{index}].forum: '{contract.forum}' is not a declared forum")
            if contract.monitoring is None:
                continue
            if contract.monitoring.unit not in seen_units:
                errors.append(f"contracts[{index}].monitoring.unit: '{contract.monitoring.unit}' is not a declared unit")
            elif contract.monitoring.unit in rolls_into_organisation:
                # The provider's figures are not the commissioner's: they must never add to its own totals.
                errors.append(f"contracts[{index}].monitoring.unit: '{contract.monitoring.unit}' would roll the provider's figures up into "
                              "the organisation's own: declare rolls_up: false on it or on a unit above it")
            for i_index, code in enumerate(contract.monitoring.indicators):
                if code not in indicators:
                    errors.append(f"contracts[{index}].monitoring.indicators[{i_index}]: '{code}' is not a declared indicator")
            if contract.monitoring.spend is not None and contract.monitoring.spend not in indicators:
                errors.append(f"contracts[{index}].monitoring.spend: '{contract.monitoring.spend}' is not a declared indicator")
        monitored = [c.monitoring.unit for c in self.contracts if c.monitoring]
        errors.extend(f"contracts: unit '{unit}' monitors more than one contract" for unit in sorted({u for u in monitored if monitored.count(u) > 1}))
        _no_duplicates(errors, "peer_groups", [g.code for g in self.peer_groups])
        for index, group in enumerate(self.peer_groups):
            if self.organisation.code not in group.members:
                errors.append(f"peer_groups[{index}].members: a peer group must list the organisation itself ('{self.organisation.code}')")
            for s_index, code in enumerate(group.shares):
                if code not in indicators:
                    errors.append(f"peer_groups[{index}].shares[{s_index}]: '{code}' is not one of this file's indicators")
                elif code in group.shares[:s_index]:
                    errors.append(f"peer_groups[{index}].shares[{s_index}]: '{code}' is listed twice")
        if self.earned_autonomy is not None:
            errors.extend(_earned_autonomy_problems(self.earned_autonomy, self.escalation.ladders, forums))
        for index, indicator in enumerate(self.indicators):
            if indicator.from_members is None:
                continue
            members = set(self.system.members) if self.system else set()
            for member in indicator.from_members.indicators:
                if member not in members:
                    errors.append(f"indicators[{index}].from_members.indicators.{member}: '{member}' is not a member of this file's system")
        if self.organisation.kind == "system" and self.system is None:
            errors.append("system: a file with organisation.kind 'system' must declare its system")
        if errors:
            raise ValueError("; ".join(errors))
        return self


def _earned_autonomy_problems(autonomy: EarnedAutonomySpec, ladders: list[LadderSpec], forums: set[str]) -> list[str]:
    """The section's references: its ladder (an autonomy ladder of units), the powers its levels grant, the review's forum and ladders."""
    errors: list[str] = []
    by_code = {ladder.code: ladder for ladder in ladders}
    powers = {power.code for power in autonomy.powers}
    _no_duplicates(errors, "earned_autonomy.powers", [power.code for power in autonomy.powers])
    ladder = by_code.get(autonomy.ladder)
    if ladder is None:
        errors.append(f"earned_autonomy.ladder: '{autonomy.ladder}' is not a declared ladder")
    elif ladder.purpose != "autonomy" or ladder.applies_to != "unit":
        errors.append(f"earned_autonomy.ladder: '{autonomy.ladder}' must have purpose 'autonomy' and apply to 'unit'")
    else:
        index = ladders.index(ladder)
        for l_index, level in enumerate(ladder.levels):
            for p_index, power in enumerate(level.requires):
                if power not in powers:
                    errors.append(f"escalation.ladders[{index}].levels[{l_index}].requires[{p_index}]: '{power}' is not one of"
                                  " earned_autonomy.powers")
    if autonomy.review.forum not in forums:
        errors.append(f"earned_autonomy.review.forum: '{autonomy.review.forum}' is not a declared forum")
    for index, code in enumerate(autonomy.review.resets):
        reset = by_code.get(code)
        if reset is None or reset.purpose != "escalation" or reset.applies_to != "unit":
            errors.append(f"earned_autonomy.review.resets[{index}]: '{code}' is not a declared escalation ladder of units")
    return errors


def _no_duplicates(errors: list[str], field: str, codes: list[str]) -> None:
    seen: set[str] = set()
    for index, code in enumerate(codes):
        if code in seen:
            errors.append(f"{field}[{index}].code: duplicate code '{code}'")
        seen.add(code)


def walk_conditions(condition: Condition) -> list[Compare]:
    """Every comparison inside a condition, for validating fact names against a registry."""
    if isinstance(condition, Compare):
        return [condition]
    if isinstance(condition, AllOf):
        return [c for child in condition.all for c in walk_conditions(child)]
    if isinstance(condition, AnyOf):
        return [c for child in condition.any for c in walk_conditions(child)]
    return walk_conditions(condition.not_)


def dump_condition(condition: Condition) -> Any:
    return condition.model_dump(by_alias=True, mode="json")
