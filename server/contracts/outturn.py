"""A contract's finance outturn: the value of activity so far this financial year and the forecast
for the year against the contract value (Sheffield 3.3: the Contract Management Board oversees
"activity and finance"; WHSSC 6: SLA meetings).

The months are the contract's ``spend`` indicator at its monitoring unit. The forecast is the year
to date plus the average month so far for each month left (the run-rate method of
server/assessment/outturn.py, the usual NHS month-N forecast before phasing is known: a CHOICE,
stated on the page). The NHS financial year starts on 1 April.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import text
from sqlmodel.ext.asyncio.session import AsyncSession

from server.assessment.outturn import MONTHS_IN_YEAR, OutturnMonth, outturn_series
from server.contracts.register import ContractView

FINANCIAL_YEAR_START_MONTH = 4


@dataclass(frozen=True)
class Outturn:
    financial_year_start: dt.date
    latest_period: dt.date
    months: int  # months of the year with a value
    year_to_date: float
    forecast: float
    contract_value: float

    @property
    def variance(self) -> float:
        """Forecast less the contract value: above zero the provider is over-performing on activity."""
        return self.forecast - self.contract_value

    @property
    def variance_share(self) -> float | None:
        return self.variance / self.contract_value if self.contract_value else None

    def as_dict(self) -> dict[str, object]:
        return {"financial_year_start": self.financial_year_start.isoformat(), "latest_period": self.latest_period.isoformat(),
                "months": self.months, "year_to_date": self.year_to_date, "forecast": self.forecast,
                "contract_value": self.contract_value, "variance": self.variance, "variance_share": self.variance_share}


def forecast_outturn(months: list[tuple[dt.date, float]], contract_value: float) -> Outturn | None:
    """From the months of spend (any order), the outturn of the financial year of the latest month.

    The arithmetic is the finance indicators' (server/assessment/outturn.py, run rate), with a
    twelfth of the contract value as each month's plan.
    """
    if not months:
        return None
    monthly_plan = contract_value / MONTHS_IN_YEAR
    latest = outturn_series([OutturnMonth(period, value, monthly_plan) for period, value in months],
                            year_start_month=FINANCIAL_YEAR_START_MONTH, method="run_rate", polarity=0)[-1]
    return Outturn(latest.year_start, latest.period, latest.months_reported, round(latest.ytd_actual, 2), round(latest.forecast, 2),
                   contract_value)


async def contract_outturn(session: AsyncSession, contract: ContractView) -> Outturn | None:
    """The contract's outturn from its spend indicator at its monitoring unit: one statement (none without one)."""
    if contract.spend is None or contract.monitoring_unit_id is None:
        return None
    rows = (await session.exec(text(
        """
        select a.period, a.value from assessment a join indicator i on i.id = a.indicator_id
        where a.org_id = :org and i.code = :code and a.unit_id = :unit and a.value is not null
          and a.period > (select max(period) from assessment where org_id = :org and unit_id = :unit) - interval '1 year'
        """
    ), params={"org": contract.commissioner_id, "code": contract.spend, "unit": contract.monitoring_unit_id})).all()
    return forecast_outturn([(period, float(value)) for period, value in rows], contract.annual_value)
