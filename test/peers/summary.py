"""Print one table of the headline figures from `phigate scan -eval -format json` reports.

Usage: summary.py REPORT_JSON...

Span corpora show recall, precision and F1 with any-type matching (what
matters for redaction) and with type-exact matching. Query corpora show the
leak rate and the over-redaction rate of hard negatives. FHIR corpora show
the fraction of identifying fields found and of notes fully masked.
"""

import json
import sys


def rows(report):
    tool, corpus, docs, speed = report["tool"], report["corpus"], report["documents"], report["throughput"]["mb_per_second"]
    if report.get("spans"):
        o = report["spans"]["overall"]
        figures = "recall %.3f  precision %.3f  F1 %.3f  (type-exact: %.3f / %.3f / %.3f)" % (
            o["recall_any"], o["precision_any"], o["f1_any"], o["recall_exact"], o["precision_exact"], o["f1_exact"])
    elif report.get("queries"):
        q = report["queries"]
        figures = "leaked %.3f (%d/%d)  over-redacted %.3f (%d/%d)  fully masked %.3f" % (
            q["overall"]["leak_rate"], q["overall"]["leaked"], q["overall"]["tags"],
            q["over_redacted_rate"], q["over_redacted"], q["hard_negatives"], q["fully_masked_rate"])
    else:
        f = report["fhir"]
        figures = "fields found %.3f (%d/%d)  notes fully masked %.3f (%d/%d)" % (
            f["overall"]["rate"], f["overall"]["found"], f["overall"]["values"],
            f["notes"]["pass_rate"], f["notes"]["passed"], f["notes"]["notes"])
    return [tool, corpus, str(docs), "%.3f" % speed, figures]


def main():
    table = [["tool", "corpus", "docs", "MB/s", "figures"]]
    for path in sys.argv[1:]:
        with open(path, encoding="utf-8") as f:
            for report in json.load(f):
                table.append(rows(report))
    widths = [max(len(r[i]) for r in table) for i in range(4)]
    for r in table:
        print("  ".join(r[i].ljust(widths[i]) for i in range(4)) + "  " + r[4])


if __name__ == "__main__":
    main()
