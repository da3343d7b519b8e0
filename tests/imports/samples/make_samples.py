"""Write the small NHS England sample files in their published layouts (run to regenerate).

Figures are invented; layouts follow the monthly publications: A&E provider-level CSV, RTT full
CSV, Cancer Waiting Times provider extract, DM01 provider web file (XLSX with a title block).
"""
from __future__ import annotations

import csv
from pathlib import Path

HERE = Path(__file__).parent

AE_HEADINGS = [
    "Period", "Org Code", "Parent Org", "Org name",
    "A&E attendances Type 1", "A&E attendances Type 2", "A&E attendances Other A&E Department",
    "A&E attendances Booked Appointments Type 1", "A&E attendances Booked Appointments Type 2",
    "A&E attendances Booked Appointments Other Department",
    "Attendances over 4hrs Type 1", "Attendances over 4hrs Type 2", "Attendances over 4hrs Other Department",
    "Attendances over 4hrs Booked Appointments Type 1", "Attendances over 4hrs Booked Appointments Type 2",
    "Attendances over 4hrs Booked Appointments Other Department",
    "Patients who have waited 4-12 hs from DTA to admission", "Patients who have waited 12+ hrs from DTA to admission",
    "Emergency admissions via A&E - Type 1", "Emergency admissions via A&E - Type 2",
    "Emergency admissions via A&E - Other A&E department", "Other emergency admissions",
]
AE_ROWS = [
    ["MSitAE-MARCH-2024", "RXW", "NHS ENGLAND MIDLANDS", "THE SHREWSBURY AND TELFORD HOSPITAL NHS TRUST",
     11250, "", 1890, 120, "", 40, 4210, "", 95, 10, "", 2, 1530, 610, 3120, "", "", 1420],
    ["MSitAE-MARCH-2024", "RHQ", "NHS ENGLAND NORTH EAST AND YORKSHIRE", "SHEFFIELD TEACHING HOSPITALS NHS FOUNDATION TRUST",
     13480, "", 4520, 210, "", 85, 3390, "", 60, 14, "", 1, 1210, 240, 4410, "", "", 2230],
    ["MSitAE-MARCH-2024", "RCU", "NHS ENGLAND NORTH EAST AND YORKSHIRE", "SHEFFIELD CHILDREN'S NHS FOUNDATION TRUST",
     "", 4890, "", "", 35, "", "", 310, "", "", 2, "", 95, 0, "", 820, "", 160],
    ["MSitAE-MARCH-2024", "R0A", "NHS ENGLAND NORTH WEST", "MANCHESTER UNIVERSITY NHS FOUNDATION TRUST",
     21980, 1120, 9640, 410, 22, 150, 7020, 41, 120, 30, 1, 4, 2890, 1130, 6840, 130, "", 3350],
    ["MSitAE-MARCH-2024", "TOTAL", "-", "TOTAL",
     46710, 6010, 16050, 740, 57, 275, 14620, 351, 275, 54, 3, 7, 5725, 1980, 14370, 950, 0, 7160],
]

RTT_BANDS = [f"Gt {week:02d} To {week + 1:02d} Weeks SUM 1" for week in range(104)] + ["Gt 104 Weeks SUM 1"]
RTT_HEADINGS = [
    "Period", "Provider Parent Org Code", "Provider Parent Name", "Provider Org Code", "Provider Org Name",
    "Commissioner Parent Org Code", "Commissioner Parent Name", "Commissioner Org Code", "Commissioner Org Name",
    "RTT Part Type", "RTT Part Description", "Treatment Function Code", "Treatment Function Name",
    *RTT_BANDS, "Total", "Patients with unknown clock start date", "Total All",
]


def _bands(base: int, decay: float, tail: int) -> list[int]:
    counts = [int(base * decay ** week) for week in range(104)]
    counts[65:] = [max(count, tail) if week % 7 == 0 else count for week, count in enumerate(counts[65:], start=65)]
    return counts + [tail]


def _rtt_row(provider: tuple[str, str, str, str], commissioner: tuple[str, str, str, str], part: tuple[str, str],
             function: tuple[str, str], bands: list[int]) -> list[object]:
    return ["RTT-March-2024", *provider, *commissioner, *part, *function, *bands, sum(bands), 3, sum(bands) + 3]


SATH = ("QOC", "NHS SHROPSHIRE, TELFORD AND WREKIN INTEGRATED CARE BOARD", "RXW", "THE SHREWSBURY AND TELFORD HOSPITAL NHS TRUST")
STH = ("QHM", "NHS SOUTH YORKSHIRE INTEGRATED CARE BOARD", "RHQ", "SHEFFIELD TEACHING HOSPITALS NHS FOUNDATION TRUST")
ICB_STW = ("Y60", "NHS ENGLAND MIDLANDS", "QOC", "NHS SHROPSHIRE, TELFORD AND WREKIN INTEGRATED CARE BOARD")
ICB_POWYS = ("NONC", "NON-ENGLISH COMMISSIONER", "7A7", "POWYS TEACHING HEALTH BOARD")
ICB_SY = ("Y63", "NHS ENGLAND NORTH EAST AND YORKSHIRE", "QF7", "NHS SOUTH YORKSHIRE INTEGRATED CARE BOARD")
INCOMPLETE = ("Part_2", "Incomplete Pathways")
ADMITTED = ("Part_1A", "Completed Pathways For Admitted Patients")
ALL = ("C_999", "Total")
TRAUMA = ("C_110", "Trauma and Orthopaedic Service")
RTT_ROWS = [
    _rtt_row(SATH, ICB_STW, INCOMPLETE, ALL, _bands(1900, 0.955, 4)),
    _rtt_row(SATH, ICB_POWYS, INCOMPLETE, ALL, _bands(210, 0.95, 1)),
    _rtt_row(SATH, ICB_STW, INCOMPLETE, TRAUMA, _bands(300, 0.96, 2)),
    _rtt_row(SATH, ICB_STW, ADMITTED, ALL, _bands(400, 0.9, 0)),
    _rtt_row(STH, ICB_SY, INCOMPLETE, ALL, _bands(4100, 0.95, 2)),
]

CANCER_HEADINGS = ["PERIOD", "YEAR", "MONTH", "STANDARD", "ORG CODE", "STAGE/ROUTE", "TREATMENT MODALITY", "CANCER TYPE",
                   "TOTAL", "WITHIN STANDARD", "BREACHES"]


def _cancer(org: str, standard: str, route: str, modality: str, cancer: str, total: int, within: int) -> list[object]:
    return ["2024-03-01", "2023-24", "MAR", standard, org, route, modality, cancer, total, within, total - within]


CANCER_ROWS = [
    _cancer("RXW", "28-day FDS", "URGENT SUSPECTED CANCER", "", "Suspected breast cancer", 412, 371),
    _cancer("RXW", "28-day FDS", "URGENT SUSPECTED CANCER", "", "Suspected lower gastrointestinal cancer", 520, 342),
    _cancer("RXW", "28-day FDS", "BREAST SYMPTOMATIC", "", "Exhibited (non-cancer) breast symptoms - cancer not initially suspected", 96, 90),
    _cancer("RXW", "31-day Combined", "FIRST TREATMENT", "Surgery", "Breast", 41, 39),
    _cancer("RXW", "62-day Combined", "URGENT SUSPECTED CANCER", "Surgery", "Breast", 22, 19),
    _cancer("RXW", "62-day Combined", "URGENT SUSPECTED CANCER", "Anti-cancer drug regimen", "Lung", 15, 8),
    _cancer("RXW", "62-day Combined", "SCREENING", "Surgery", "Lower Gastrointestinal", 7, 5),
    _cancer("RHQ", "62-day Combined", "URGENT SUSPECTED CANCER", "Surgery", "Urological", 64, 41),
    _cancer("RHQ", "28-day FDS", "URGENT SUSPECTED CANCER", "", "Suspected skin cancer", 880, 751),
]

DM01_BANDS = [f"{week:02d} <{week + 1:02d} weeks" if week else "0 <01 weeks" for week in range(13)] + ["13+ weeks"]
DM01_HEADINGS = ["Region Code", "Provider Code", "Provider Name", "Total Waiting List", "Number waiting 6+ Weeks",
                 "Number waiting 13+ Weeks", "Percentage waiting 6+ weeks", *DM01_BANDS]
DM01_TITLE = [("Title:", "Diagnostics Waiting Times and Activity"), ("Summary:", "Waiting times for key diagnostic tests, by provider"),
              ("Period:", "March 2024"), ("Source:", "DM01"), ("Basis:", "Provider"), ("Published:", "9th May 2024"),
              ("Revised:", "-"), ("Status:", "Published (Final)"), ("Contact:", "Performance Analysis Team")]


def _dm01(region: str, code: str, name: str, bands: list[int]) -> list[object]:
    total, six, thirteen = sum(bands), sum(bands[6:]), bands[-1]
    return [region, code, name, total, six, thirteen, round(six / total, 4), *bands]


DM01_ROWS = [
    _dm01("", "", "ENGLAND", [201000, 180000, 150000, 120000, 100000, 90000, 70000, 55000, 40000, 30000, 22000, 15000, 11000, 40000]),
    _dm01("Y60", "RXW", "THE SHREWSBURY AND TELFORD HOSPITAL NHS TRUST", [1710, 1450, 1190, 980, 820, 690, 520, 410, 330, 250, 180, 120, 90, 260]),
    _dm01("Y63", "RHQ", "SHEFFIELD TEACHING HOSPITALS NHS FOUNDATION TRUST", [3020, 2700, 2300, 1900, 1500, 1200, 640, 420, 300, 210, 140, 90, 60, 150]),
]


def write_csv(name: str, headings: list[str], rows: list[list[object]]) -> None:
    with (HERE / name).open("w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file, lineterminator="\r\n")
        writer.writerow(headings)
        writer.writerows(rows)


def write_dm01(name: str) -> None:
    import xlsxwriter

    workbook = xlsxwriter.Workbook(str(HERE / name))
    sheet = workbook.add_worksheet("Provider")
    for row, (label, value) in enumerate(DM01_TITLE):
        sheet.write_string(row, 1, label)
        sheet.write_string(row, 2, value)
    header_row = 13  # the header is the file's row 14, as in the published web file
    sheet.write_row(header_row, 0, DM01_HEADINGS)
    for offset, values in enumerate(DM01_ROWS, start=1):
        sheet.write_row(header_row + offset, 0, values)
    workbook.close()


if __name__ == "__main__":
    write_csv("ae-provider-march-2024.csv", AE_HEADINGS, AE_ROWS)
    write_csv("rtt-full-march-2024.csv", RTT_HEADINGS, RTT_ROWS)
    write_csv("cancer-provider-march-2024.csv", CANCER_HEADINGS, CANCER_ROWS)
    write_dm01("dm01-provider-march-2024.xlsx")
