"""The claims audit: every lecture claim over several seeds on every backend, with its margin in SDs.

Usage:
    python3 tasks.py claims                       # 3 seeds x 3 backends, then the table (~70 min)
    python3 tasks.py claims --backend jax -- --seeds 0 1 2 --lectures course/03_*.ipynb
    python -m aekeras_tools.claims_audit run --seeds 0 1 2     # this environment's backend only
    python -m aekeras_tools.claims_audit report               # the table from what has run

A lecture asserts each measured quantity through `aekeras.notebook.claim`
(value, comparison, bound). One run shows that a claim held once; it does not
show that it holds. The audit reruns every lecture with several seeds
(`AEKERAS_SEED`, which `aekeras.notebook.setup` takes over the lecture's own
seed, and from which the lectures derive every other seed) on each backend,
keeps the executed notebooks under `build/claims_audit/<backend>/seed-<k>/`,
and tabulates, per claim and backend, the mean and the standard deviation
(SD, n - 1) of the value over the seeds, and the margin in SDs:

    margin = (mean - bound) / SD   for > and >=,     (bound - mean) / SD   for < and <=.

A claim passes the audit when its margin is at least `MIN_SDS` (3) SDs on
every backend, and it held in every run. A value that does not change with
the seed (SD 0: fixed data, a deterministic algorithm) has an infinite
margin if it holds; such a quantity is a fact about the data, and the
lectures state it as a fact or check it with a plain `assert` rather than a
claim, so the table lists few of these. A run that failed a claim still
records the value (the claim displays its record before it raises), and the
audit runs every cell even after a failure, so each claim gets every value.

`report` writes `benchmarks/results/lecture_claims.md`; `run` prints each
lecture's run time, which the report also lists per backend and seed.
"""

import argparse
import math
import operator
import os
import re
import statistics
import sys
from collections import defaultdict
from itertools import chain
from pathlib import Path

import nbformat

from aekeras_tools.lecture_claims import claims
from aekeras_tools.lecture_claims import failure
from aekeras_tools.paths import LECTURES
from aekeras_tools.paths import ROOT
from aekeras_tools.results import GIT_STATE
from aekeras_tools.results import machine
from aekeras_tools.results import table
from aekeras_tools.results import write_result
from aekeras_tools.site import environment
from aekeras_tools.site import execute
from aekeras_tools.site import recorded_seconds

AUDIT = ROOT / "build" / "claims_audit"
SEED_VARIABLE = "AEKERAS_SEED"  # aekeras.notebook.SEED_VARIABLE (tests keep them equal)
SEEDS = (0, 1, 2)
MIN_SDS = 3.0
_COMPARISONS = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge}


def run_folder(backend, seed, root=AUDIT):
    return Path(root) / backend / f"seed-{seed}"


def run(lectures, seeds, root=AUDIT):
    """Executes each lecture once per seed with this environment's backend; returns 0 or 1."""
    import keras

    backend = keras.backend.backend()
    status = 0
    for seed in seeds:
        folder = run_folder(backend, seed, root)
        folder.mkdir(parents=True, exist_ok=True)
        os.environ[SEED_VARIABLE] = str(seed)  # the kernel inherits it
        for path in lectures:
            print(f"{backend}, seed {seed}: {path.name}", flush=True)
            nb, seconds, _ = execute(Path(path).resolve(), allow_errors=True)
            nb.metadata["aekeras_audit"] = {"commit": GIT_STATE, "seed": seed}
            nbformat.write(nb, folder / Path(path).name)
            problem = failure(nb)
            print(
                f"  {seconds:.0f} s, {len(claims(nb))} claims, {problem or 'no error'}", flush=True
            )
            status |= problem is not None
    return status


def collect(root=AUDIT):
    """The executed notebooks under `root`: a list of (backend, seed, lecture stem, notebook)."""
    found = []
    for path in sorted(Path(root).glob("*/seed-*/*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        record = environment(nb)
        if record is None:
            continue  # stopped before its set-up cell
        found.append((record["backend"], record["seed"], path.stem, nb))
    return found


def margin_in_sds(values, comparison, bound):
    """(mean, SD, margin in SDs) of `values` against `bound`; the margin is +-inf when SD is 0."""
    mean = statistics.fmean(values)
    sd = statistics.stdev(values) if len(values) > 1 else float("nan")
    distance = bound - mean if comparison.startswith("<") else mean - bound
    if sd == 0:
        return mean, sd, math.copysign(math.inf, distance) if distance else 0.0
    return mean, sd, distance / sd


def _number(value):
    return f"{value:.4g}"


def source_bounds(path):
    """The `claim(...)` calls of a lecture's code: a list of (description pattern, comparison,
    bound), the bound None where it is not a number literal.

    A literal description is matched exactly; an f-string's fields match any text.
    """
    import ast

    found = []
    for cell in nbformat.read(path, as_version=4).cells:
        if cell.cell_type != "code" or "claim(" not in cell.source:
            continue
        for node in ast.walk(ast.parse(cell.source)):
            name = getattr(node, "func", None)
            if not isinstance(node, ast.Call) or len(node.args) < 4:
                continue
            if (getattr(name, "attr", None) or getattr(name, "id", None)) != "claim":
                continue
            description, _, comparison, bound = node.args[:4]
            if isinstance(description, ast.Constant) and isinstance(description.value, str):
                pattern = re.escape(description.value)
            elif isinstance(description, ast.JoinedStr):
                pattern = "".join(
                    re.escape(part.value) if isinstance(part, ast.Constant) else ".+"
                    for part in description.values
                )
            else:
                continue
            try:
                bound = float(ast.literal_eval(bound))
            except (ValueError, TypeError, SyntaxError):
                bound = None
            comparison = comparison.value if isinstance(comparison, ast.Constant) else None
            found.append((re.compile(pattern, re.DOTALL), comparison, bound))
    return found


def current_bound(calls, description):
    """(comparison, bound) of the call among `calls` (from `source_bounds`) that makes this
    claim, None if no call does; a part the source does not spell out literally is None."""
    matches = {(c, b) for pattern, c, b in calls if pattern.fullmatch(description)}
    if not matches:
        return None
    if len(matches) > 1:
        return (None, None)  # several calls could make it: keep the bound on record
    return next(iter(matches))


def audit(runs, min_sds=MIN_SDS, sources=None):
    """Rows of the audit from `collect`'s runs: one dict per (lecture, claim), in lecture order.

    `sources`: {lecture stem: the `source_bounds` of the lecture as it is now}. A claim the
    lecture no longer makes is left out; one whose bound was set after the runs (the values do
    not depend on it) is audited against the lecture's bound. Without `sources`, the bounds on
    record are used, and a claim with two of them in the runs is an error.
    """
    values = defaultdict(lambda: defaultdict(list))  # (lecture, claim) -> backend -> values
    recorded = {}
    order = []
    runs_of = defaultdict(lambda: defaultdict(int))  # lecture -> backend -> runs
    for backend, _seed, lecture, nb in runs:
        runs_of[lecture][backend] += 1
        for record in claims(nb):
            key = (lecture, record["description"])
            if key not in recorded:
                order.append(key)
            bound = (record["comparison"], record["threshold"])
            if recorded.setdefault(key, bound) != bound and sources is None:
                raise ValueError(
                    f"The claim {record['description']!r} of {lecture} has two bounds in the runs "
                    f"audited: {recorded[key]} and {bound}. Rerun the audit after changing a bound "
                    "(remove build/claims_audit first), or audit against the lectures' bounds."
                )
            values[key][backend].append(record["value"])
    rows, dropped = [], []
    for key in order:
        comparison, bound = recorded[key]
        changed = False
        if sources is not None and key[0] in sources:
            now = current_bound(sources[key[0]], key[1])
            if now is None:
                dropped.append(key)
                continue
            now = (now[0] or comparison, bound if now[1] is None else now[1])
            changed = now != (comparison, bound)
            comparison, bound = now
        holds = _COMPARISONS[comparison]
        per_backend = {
            backend: margin_in_sds(found, comparison, bound)
            for backend, found in sorted(values[key].items())
        }
        missing = sum(runs_of[key[0]].values()) - sum(len(v) for v in values[key].values())
        held = missing == 0 and all(holds(v, bound) for v in chain(*values[key].values()))
        worst = min(m for _, _, m in per_backend.values())
        rows.append(
            {
                "lecture": key[0],
                "claim": key[1],
                "comparison": comparison,
                "bound": bound,
                "bound_changed": changed,
                "per_backend": per_backend,
                "missing": missing,
                "held": held,
                "worst": worst,
                "passes": held and worst >= min_sds,
            }
        )
    rows.sort(key=lambda row: row["lecture"])  # stable: each lecture's claims in cell order
    return rows, dropped


def _margin(m):
    if math.isinf(m):
        return "∞ (SD 0)" if m > 0 else "-∞ (SD 0)"
    return "?" if math.isnan(m) else f"{m:.1f}"


def report(runs, backends=None, min_sds=MIN_SDS, sources=None):
    """The Markdown of the audit: the runs, then one row per claim (`sources`: see `audit`)."""
    backends = backends or sorted({backend for backend, *_ in runs})
    summary = []
    for backend, seed, lecture, nb in sorted(runs, key=lambda r: (r[2], r[0], r[1])):
        seconds = recorded_seconds(nb)
        record = environment(nb)
        summary.append(
            [
                lecture,
                backend,
                seed,
                record["device"],
                "full" if record["full_run"] else "default",
                f"{seconds:.0f} s" if seconds is not None else "?",
                len(claims(nb)),
                failure(nb) or "passed",
            ]
        )
    rows, dropped = audit(runs, min_sds, sources)
    body = []
    for row in rows:
        cells = [row["lecture"], row["claim"].replace("|", "\\|")]
        mark = " *" if row["bound_changed"] else ""
        cells.append(f"{row['comparison']} {_number(row['bound'])}{mark}")
        for backend in backends:
            found = row["per_backend"].get(backend)
            cells.append(
                f"{_number(found[0])} ± {_number(found[1])} ({_margin(found[2])})" if found else "-"
            )
        cells.append(_margin(row["worst"]))
        if row["passes"]:
            cells.append("yes")
        elif row["missing"]:
            cells.append(f"NO (missing in {row['missing']} runs)")
        else:
            cells.append("NO" if row["held"] else "NO (fails a run)")
        body.append(cells)
    failing = [row for row in rows if not row["passes"]]
    verdict = (
        f"Every claim holds in every run, at least {min_sds:g} SDs from its bound on every backend."
        if not failing
        else f"{len(failing)} of {len(rows)} claims are within {min_sds:g} SDs of their bound "
        "on some backend, or failed a run: " + "; ".join(r["claim"] for r in failing) + "."
    )
    return (
        table(
            ["lecture", "backend", "seed", "device", "settings", "run time", "claims", "result"],
            summary,
        )
        + "\n\n"
        + f"{len(rows)} claims. Per backend: the mean ± SD of the value over the seeds, and in "
        "brackets the margin, how many SDs the mean is from the bound (on the side where the "
        f"claim holds). Audited: at least {min_sds:g} SDs on every backend and held in every run. "
        + verdict
        + (
            " Bounds marked * were set after the runs, from these values (the values do not "
            "depend on the bound)."
            if any(row["bound_changed"] for row in rows)
            else ""
        )
        + "\n\n"
        + table(
            ["lecture", "claim", "bound", *backends, "smallest margin (SDs)", "audited"],
            body,
        )
        + (
            "\n\nNo longer claimed by the lectures (left out): "
            + "; ".join(f"{lecture}: {claim}" for lecture, claim in dropped)
            + "."
            if dropped
            else ""
        )
    )


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("action", choices=["run", "report"])
    parser.add_argument("--seeds", type=int, nargs="+", default=list(SEEDS))
    parser.add_argument(
        "--lectures",
        type=Path,
        nargs="+",
        default=LECTURES,
        help="`run`: the lectures to execute; `report`: the lectures whose bounds apply "
        "(default: every lecture)",
    )
    parser.add_argument("--root", type=Path, default=AUDIT, help="the executed notebooks")
    parser.add_argument("--name", default="lecture_claims", help="`report`: the result file")
    parser.add_argument(
        "--note", action="append", default=[], help="a line to add to the header (repeatable)"
    )
    args = parser.parse_args(argv)
    if any(seed < 0 for seed in args.seeds):
        parser.error(f"Seeds must be non-negative integers. Received: {args.seeds}")
    if args.action == "run":
        return run(args.lectures, args.seeds, args.root)
    runs = collect(args.root)
    if not runs:
        parser.error(
            f"No executed lectures under {args.root}: run `python3 tasks.py claims` first."
        )
    backends = sorted({backend for backend, *_ in runs})
    seeds = sorted({seed for _, seed, *_ in runs})
    # Audited against each lecture's bounds as they are now (course/NN_name.ipynb).
    sources = {path.stem: source_bounds(path) for path in args.lectures}
    commits = sorted({nb.metadata.get("aekeras_audit", {}).get("commit", "?") for *_, nb in runs})
    write_result(
        args.name,
        "Lecture claims: the audit over seeds and backends",
        report(runs, backends, sources=sources),
        notes=[
            f"Seeds {', '.join(map(str, seeds))} (AEKERAS_SEED) on {', '.join(backends)}; "
            f"executed notebooks read from {os.path.relpath(args.root, ROOT)}, "
            f"lectures executed at commit {', '.join(commits)}",
            *args.note,
        ],
        backend=", ".join(backends),
        machine_text=f"as executed (see each run's device); read on {machine()}",
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
