"""The results table: printed, and written as bench/results/latest.md and latest.json."""
import json
from pathlib import Path

RESULTS_DIR = Path(__file__).resolve().parent / "results"
# The keys, then the role and the targets.
KEYS = ("page", "database", "contacts", "req_per_s", "ratio_to_flask", "p50_ms", "p95_ms",
        "p99_ms", "bytes", "queries", "role", "target_ratio", "target_p95_ms", "target_met")
HEADER = ("page", "role", "req/s", "vs Flask", "p50 ms", "p95 ms", "p99 ms", "bytes",
          "queries", "target")


def judge(row: dict) -> None:
    """target_met: True/False against the issue's targets, None where it sets none."""
    ratio, p95 = row.get("target_ratio"), row.get("target_p95_ms")
    if ratio is None and p95 is None:
        row["target_met"] = None
        return
    row["target_met"] = bool((ratio is None or (row["ratio_to_flask"] or 0) >= ratio)
                             and (p95 is None or row["p95_ms"] <= p95))


def _target(row: dict) -> str:
    if row.get("target_met") is None:
        return "—"
    wanted = []
    if row.get("target_ratio") is not None:
        wanted.append(f"≥{row['target_ratio']:.0%}")
    if row.get("target_p95_ms") is not None:
        wanted.append(f"p95≤{row['target_p95_ms']:g}")
    return ("ok " if row["target_met"] else "MISSED ") + ", ".join(wanted)


def cells(row: dict) -> tuple:
    ratio = row.get("ratio_to_flask")
    rate = row["req_per_s"]
    return (row["page"], row.get("role") or "", "—" if rate is None else f"{rate:,.0f}",
            f"{ratio:.1%}" if ratio is not None else "", f"{row['p50_ms']:.1f}",
            f"{row['p95_ms']:.1f}", f"{row['p99_ms']:.1f}", f"{row['bytes']:,}",
            "" if row.get("queries") is None else str(row["queries"]), _target(row))


def text_table(rows: list[dict]) -> str:
    lines = [HEADER] + [cells(r) for r in rows]
    widths = [max(len(str(line[i])) for line in lines) for i in range(len(HEADER))]
    numeric = {2, 3, 4, 5, 6, 7, 8}
    out = []
    for n, line in enumerate(lines):
        out.append("  ".join(str(c).rjust(w) if i in numeric else str(c).ljust(w)
                             for i, (c, w) in enumerate(zip(line, widths))).rstrip())
        if n == 0:
            out.append("  ".join("-" * w for w in widths))
    return "\n".join(out)


def markdown(rows: list[dict], context: dict, notes: list[str]) -> str:
    out = ["# Benchmark results", ""]
    out += [f"- {k}: {v}" for k, v in context.items()]
    out += ["", "| " + " | ".join(HEADER) + " |",
            "| " + " | ".join("---" if i in (0, 1, 9) else "---:" for i in range(len(HEADER)))
            + " |"]
    out += ["| " + " | ".join(str(c) for c in cells(r)) + " |" for r in rows]
    if notes:
        out += ["", "Notes:", ""] + [f"- {n}" for n in notes]
    return "\n".join(out) + "\n"


def write(rows: list[dict], context: dict, notes: list[str]) -> Path:
    RESULTS_DIR.mkdir(exist_ok=True)
    data = [{k: r.get(k) for k in KEYS} for r in rows]
    (RESULTS_DIR / "latest.json").write_text(json.dumps(data, indent=2, ensure_ascii=False))
    path = RESULTS_DIR / "latest.md"
    path.write_text(markdown(rows, context, notes))
    return path
