"""Demo accounts: several organisations and roles, so every rule of the matrix can be tried by hand."""
from __future__ import annotations

from dataclasses import dataclass

DEMO_PASSWORD = "accord-demo-2026"


@dataclass(frozen=True)
class DemoUser:
    email: str
    name: str
    home: str  # organisation code
    roles: tuple[tuple[str, str], ...]  # (role, "org:<code>" | "system:<code>")
    purpose: str
    post: str | None = None  # the post they hold, as a tenant file names it (a programme's SRO: server/demo/programmes.py)


DEMO_USERS = (
    DemoUser("stw.lead@accord.example", "Priya Shah", "QOC",
             (("system_planning_lead", "system:STW"), ("planning_performance_lead", "org:QOC")),
             "ICS planning & performance lead: system position, drafts SPIPs"),
    DemoUser("stw.delivery@accord.example", "Tom Evans", "QOC", (("delivery_group_member", "system:STW"),),
             "Elective programme delivery group: critiques and oversees SPIPs"),
    DemoUser("stw.cwg@accord.example", "Grace Okafor", "QOC", (("commissioning_working_group", "system:STW"),),
             "ICB Commissioning Working Group: formal SPIP sign-off"),
    DemoUser("stw.qpc@accord.example", "Alan Hughes", "QOC", (("system_committee_member", "system:STW"),),
             "System Quality & Performance Committee member"),
    DemoUser("sath.exec@accord.example", "Helen Morris", "RXW", (("executive", "org:RXW"),),
             "SaTH executive: signs plans for SaTH"),
    DemoUser("sath.performance@accord.example", "Dev Patel", "RXW",
             (("performance_manager", "org:RXW"), ("data_submitter", "org:RXW")),
             "SaTH performance team: enters and validates data"),
    DemoUser("rjah.exec@accord.example", "Owen Price", "RL1", (("executive", "org:RL1"),),
             "RJAH executive: signs plans for RJAH"),
    DemoUser("rjah.performance@accord.example", "Carys Morgan", "RL1", (("performance_manager", "org:RL1"),),
             "RJAH head of performance: records RJAH's maturity self-assessment"),
    DemoUser("scht.performance@accord.example", "Ben Ashworth", "R1D", (("performance_manager", "org:R1D"),),
             "SCHT head of performance: records SCHT's maturity self-assessment"),
    DemoUser("scht.viewer@accord.example", "Sian Lloyd", "R1D", (("viewer", "org:R1D"), ("board_member", "org:R1D")),
             "SCHT board member"),
    DemoUser("ulht.performance@accord.example", "Mark Wilson", "RWD",
             (("performance_manager", "org:RWD"), ("data_submitter", "org:RWD"), ("executive", "org:RWD")),
             "ULHT performance manager"),
    DemoUser("ulht.division@accord.example", "Jo Reed", "RWD", (("divisional_triumvirate", "org:RWD"),),
             "ULHT divisional triumvirate member"),
    DemoUser("thgpcg.ops@accord.example", "Fatima Begum", "NL4",
             (("performance_manager", "org:NL4"), ("data_submitter", "org:NL4")),
             "THGPCG operational performance lead"),
    DemoUser("thgpcg.board@accord.example", "Graham Holt", "NL4",
             (("board_member", "org:NL4"), ("executive", "org:NL4")),
             "THGPCG Board member and SMT: judges sustainability and decides to continue a service or give notice"),
    DemoUser("sheffield.contracts@accord.example", "Ruth Barker", "03N",
             (("commissioner", "org:03N"), ("performance_manager", "org:03N")),
             "Sheffield CCG contract manager"),
    DemoUser("sheffield.director@accord.example", "Tom Hale", "03N", (("executive", "org:03N"), ("commissioner", "org:03N")),
             "Sheffield CCG Director of Delivery: chairs the Contract Management Boards, issues contract performance notices",
             post="Director of Delivery"),
    DemoUser("sheffield.finance@accord.example", "Laura Bennett", "03N", (("executive", "org:03N"),),
             "Sheffield CCG Chief Finance Officer: SRO of the elective care programme", post="Chief Finance Officer"),
    DemoUser("sheffield.commissioning@accord.example", "Kwame Asante", "03N", (("executive", "org:03N"),),
             "Sheffield CCG Director of Commissioning: SRO of the primary care programme", post="Director of Commissioning"),
    DemoUser("sheffield.nursing@accord.example", "Niamh Doyle", "03N", (("executive", "org:03N"),),
             "Sheffield CCG Director of Nursing and Quality: SRO of the mental health programme", post="Director of Nursing and Quality"),
    DemoUser("sheffield.pmo@accord.example", "Claire Hudson", "03N", (("programme_office", "org:03N"),),
             "Sheffield CCG Head of Programme Management (PMO): keeps programme records"),
    DemoUser("sheffield.programme@accord.example", "Imran Qureshi", "03N", (("programme_lead", "org:03N"),),
             "Sheffield CCG programme lead: records milestones, QIPP realised and risks"),
    DemoUser("whssc.commissioner@accord.example", "Rhys Jenkins", "WHSSC",
             (("commissioner", "org:WHSSC"), ("viewer", "org:WHSSC")),
             "WHSSC commissioner: sees providers' contractual indicators"),
    DemoUser("admin@accord.example", "Sam Admin", "QOC",
             (("system_tenant_admin", "system:STW"), ("tenant_admin", "org:QOC")),
             "Administrator for the STW system"),
)
