#!/usr/bin/env python3
"""Regenerates the sample supplier sheets in this folder.

    pip install xlsxwriter xlwt odfpy
    python3 importers/samples/generate.py

The tests in importers/tests/ read these files and assert on their exact content,
so change both together. Every file stays well under 50 KB.
"""

import csv
import datetime as dt
import io
import os

import xlsxwriter
import xlwt
from odf.opendocument import OpenDocumentSpreadsheet
from odf.table import Table, TableCell, TableRow
from odf.text import P

HERE = os.path.dirname(os.path.abspath(__file__))

DIMM = ("Samsung", "M321R4GA3BB6-CQK", "32GiB DDR5-4800 ECC RDIMM 2Rx8", "memory")
NVME = ("Samsung", "MZQL23T8HCLS-00A07", "PM9A3 3.84TB NVMe U.2 SSD", "nvme")
NIC = ("Mellanox", "MCX631432AN-ADAB", "ConnectX-6 Lx 2x25GbE SFP28 OCP3.0", "nic")
CPU = ("AMD", "100-000001463", "EPYC 9354 32C 3.25GHz SP5", "cpu")
SATA = ("Kingston", "SEDC600M/960G", "DC600M 960GB SATA SSD", "ssd")
CABLE = ("FiberLink", "DAC-SFP28-1M", "SFP28 25G passive DAC cable 1m", "cable")

# (part, unit price in USD as text)
PRICES = [
    (DIMM, "118.50"),
    (NVME, "389.00"),
    (NIC, "412.00"),
    (CPU, "2730.00"),
    (SATA, "128.40"),
    (CABLE, "12.50"),
]

SHIP_DATE = dt.date(2026, 11, 27)

# (part, quantity, unit price, ship date)
ORDER = [
    (DIMM, 400, 118.5, SHIP_DATE),
    (NVME, 96, 389.0, SHIP_DATE),
    (NIC, 24, 412.0, dt.date(2026, 12, 4)),
    (CPU, 48, 2730.0, SHIP_DATE),
    (CABLE, 48, 12.5, dt.date(2026, 12, 4)),
]

ORDER_TITLE = [
    ["ORDER CONFIRMATION"],
    ["Seoul Server Parts Co., Ltd. - 123 Teheran-ro, Gangnam-gu, Seoul"],
    ["PO: PO-2026-0142", "", "Date: 2026-11-20"],
    [],
]
ORDER_HEADER = ["Item", "Part No.", "Manufacturer", "Description", "Q'ty", "Unit Price (USD)", "Amount", "Ship Date"]

PACKING_HEADER = ["Carton No", "Part Number", "Manufacturer", "Serial Number", "Qty"]
PACKING = [
    ("C-001", DIMM, "S4EMNX0W123456", 1),
    ("C-001", DIMM, "S4EMNX0W123457", 1),
    ("C-001", DIMM, "S4EMNX0W123458", 1),
    ("C-001", DIMM, "S4EMNX0W123459", 1),
    ("C-002", NVME, "S64HNE0T600123", 1),
    ("C-002", NVME, "S64HNE0T600124", 1),
    ("C-003", NIC, "MT2245X01234", 1),
    ("C-003", CPU, "9M12345N30123", 1),
    ("C-004", CABLE, "", 10),
]


def path(name):
    return os.path.join(HERE, name)


# ---------------------------------------------------------------- writers


def write_csv(name, rows, delimiter=",", encoding="utf-8", bom=False):
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=delimiter, lineterminator="\r\n")
    for row in rows:
        writer.writerow(row)
    data = buf.getvalue().encode(encoding)
    if bom:
        data = b"\xef\xbb\xbf" + data
    with open(path(name), "wb") as f:
        f.write(data)


def write_xlsx(name, rows, sheet="Sheet1", extra_sheets=()):
    wb = xlsxwriter.Workbook(path(name))
    bold = wb.add_format({"bold": True})
    date_fmt = wb.add_format({"num_format": "yyyy-mm-dd"})
    money = wb.add_format({"num_format": "#,##0.00"})
    for extra in extra_sheets:
        ws = wb.add_worksheet(extra)
        ws.write(0, 0, "See the next sheet")
    ws = wb.add_worksheet(sheet)
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            if value is None or value == "":
                continue
            if isinstance(value, dt.date):
                ws.write_datetime(r, c, dt.datetime.combine(value, dt.time()), date_fmt)
            elif isinstance(value, float):
                ws.write_number(r, c, value, money)
            elif isinstance(value, int):
                ws.write_number(r, c, value)
            elif isinstance(value, tuple) and value[0] == "formula":
                ws.write_formula(r, c, value[1], None, value[2])
            else:
                ws.write_string(r, c, value, bold if r == 0 else None)
    wb.close()


def write_xls(name, rows, sheet="Sheet1"):
    wb = xlwt.Workbook(encoding="utf-8")
    ws = wb.add_sheet(sheet)
    date_style = xlwt.easyxf(num_format_str="YYYY-MM-DD")
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            if value is None or value == "":
                continue
            if isinstance(value, dt.date):
                ws.write(r, c, value, date_style)
            else:
                ws.write(r, c, value)
    wb.save(path(name))


def write_ods(name, rows, sheet="Sheet1"):
    doc = OpenDocumentSpreadsheet()
    table = Table(name=sheet)
    for row in rows:
        tr = TableRow()
        for value in row:
            if value is None or value == "":
                tr.addElement(TableCell())
                continue
            if isinstance(value, dt.date):
                cell = TableCell(valuetype="date", datevalue=value.isoformat())
                cell.addElement(P(text=value.isoformat()))
            elif isinstance(value, (int, float)):
                cell = TableCell(valuetype="float", value=value)
                cell.addElement(P(text=str(value)))
            else:
                cell = TableCell(valuetype="string")
                cell.addElement(P(text=value))
            tr.addElement(cell)
        table.addElement(tr)
    doc.spreadsheet.addElement(table)
    doc.save(path(name))


# ---------------------------------------------------------------- content


def price_rows_english(price_as_number):
    rows = [["Manufacturer", "Part Number", "Description", "Category", "Unit Price", "Currency"]]
    for (mfr, mpn, desc, cat), price in PRICES:
        rows.append([mfr, mpn, desc, cat, float(price) if price_as_number else price, "USD"])
    return rows


def price_rows_korean():
    rows = [["제조사", "품번", "품명", "분류", "단가", "통화"]]
    for (mfr, mpn, desc, cat), price in PRICES:
        won = int(round(float(price) * 1450, -2))
        rows.append([mfr, mpn, desc, cat, won, "KRW"])
    return rows


def order_rows(dates_as_text=False):
    rows = [list(r) for r in ORDER_TITLE] + [ORDER_HEADER]
    for i, ((mfr, mpn, desc, _), qty, price, ship) in enumerate(ORDER, start=1):
        when = ship.isoformat() if dates_as_text else ship
        rows.append([i, mpn, mfr, desc, qty, price, round(qty * price, 2), when])
    return rows


def packing_rows():
    rows = [PACKING_HEADER]
    for carton, (mfr, mpn, _, _), serial, qty in PACKING:
        rows.append([carton, mpn, mfr, serial, qty])
    return rows


def main():
    # Price lists
    rows = price_rows_english(False)
    rows[1][4] = "$118.50"
    rows[4][4] = "2,730.00"
    write_csv("price_list.csv", rows)
    write_xlsx("price_list.xlsx", price_rows_english(True), sheet="Price List")
    write_xls("price_list.xls", price_rows_korean(), sheet="단가표")
    write_ods("price_list.ods", price_rows_english(True), sheet="Prices")

    eu = [["Mfr", "MPN", "Desc", "Type", "U/P", "CCY"]]
    for (mfr, mpn, desc, cat), price in PRICES:
        eu.append([mfr, mpn, desc, cat, price.replace(".", ","), "EUR"])
    eu[4][4] = "2.730,00"
    eu[1][4] = "109,90 €"
    write_csv("price_list_bom_semicolon_decimal_comma.csv", eu, delimiter=";", bom=True)

    kr = price_rows_korean()
    kr[1][4] = "￦172,000"  # full-width won: CP949 has no U+20A9
    kr[2][4] = "564,000원"
    write_csv("price_list_cp949.csv", kr, encoding="cp949")

    no_header = [[mpn, mfr, desc, price.replace(".", ",")] for (mfr, mpn, desc, _), price in PRICES]
    write_csv("price_list_no_header.csv", no_header, delimiter=";")

    broken = [
        ["Part Number", "Description", "Unit Price", "Currency"],
        ["M321R4GA3BB6-CQK", DIMM[2], 118.5, "USD"],
        ["MZQL23T8HCLS-00A07", NVME[2], "TBD", "USD"],
        ["MCX631432AN-ADAB", NIC[2], -412.0, "USD"],
        ["", "spare bracket", 12.5, "USD"],
        ["SEDC600M/960G", SATA[2], "1,23,4.00", "USD"],
        ["100-000001463", CPU[2], 2730.0, "XYZ"],
        ["DAC-SFP28-1M", CABLE[2], "₩15,000", "USD"],
        [],
        ["SEDC600M/480G", "DC600M 480GB SATA SSD", "", "USD"],
        ["MCX631102AN-ADAT", "ConnectX-6 Lx 2x25GbE PCIe", ("formula", "=NA()", "#N/A"), "USD"],
    ]
    write_xlsx("price_list_broken.xlsx", broken)

    # Order confirmations
    write_csv("order_confirmation.csv", order_rows(dates_as_text=True))
    write_xlsx("order_confirmation.xlsx", order_rows(), sheet="Confirmation", extra_sheets=["Cover"])
    write_xls("order_confirmation.xls", order_rows(), sheet="Confirmation")
    write_ods("order_confirmation.ods", order_rows(), sheet="Confirmation")

    # Packing lists
    write_csv("packing_list.csv", packing_rows(), delimiter="\t")
    write_xlsx("packing_list.xlsx", packing_rows(), sheet="Packing List")
    write_xls("packing_list.xls", packing_rows(), sheet="Packing List")
    write_ods("packing_list.ods", packing_rows(), sheet="Packing List")

    with open(path("packing_list_broken.csv"), "w", encoding="utf-8", newline="") as f:
        f.write(
            "Carton,Part Number,Manufacturer,Serial Number,Qty\n"
            "C-001,M321R4GA3BB6-CQK,Samsung,S4EMNX0W123456,1\n"
            "C-001,M321R4GA3BB6-CQK,Samsung,,1\n"
            ",,,,\n"
            "\n"
            "C-001,M321R4GA3BB6-CQK,Samsung,S4EMNX0W123456,1\n"
            "C-002,DAC-SFP28-1M,FiberLink,,two\n"
            "C-002,DAC-SFP28-1M,FiberLink,,0\n"
            "C-002,,FiberLink,,4\n"
            "C-003,MZQL23T8HCLS-00A07,Samsung,S64HNE0T600123,3\n"
            'C-003,MZQL23T8HCLS-00A07,Samsung," s64hne0t600124 ",1\n'
        )

    custom = [
        ["DELIVERY NOTE / 납품서"],
        ["Shipper: Hanil Components Ltd., Incheon"],
        [],
        ["Pkg", "Article Code", "Maker", "Lot / Serial", "Pieces"],
    ]
    for carton, (mfr, mpn, _, _), serial, qty in PACKING:
        custom.append([carton, mpn, mfr, serial, qty])
    write_xlsx("packing_list_custom_layout.xlsx", custom, sheet="Delivery")

    for name in sorted(os.listdir(HERE)):
        size = os.path.getsize(path(name))
        assert size < 50_000, f"{name} is {size} bytes"


if __name__ == "__main__":
    main()
