#!/usr/bin/env python3
"""Recomputes every statistic of an mcsim run report from its samples file, independently.

Usage: statistics_check.py SAMPLES.csv|SAMPLES.parquet REPORT.json OPTIONS_JSON

A .parquet samples file is read with pyarrow.

OPTIONS_JSON holds the run's requested {"percentiles": [...], "risk_levels": [...],
"targets": [...], "fail_if": [...]}. Checks each output's summary, convergence trace and
sensitivity, every statistics-function cell (RiskMean, RiskPercentile, ...) and every --fail-if
threshold. Uses numpy, and scipy when it is importable (otherwise numpy only). Prints one
line per output with the number of comparisons, every mismatch, and exits 1 if there is any.

Definitions (from crates/mcsim-results/src/summary.rs, sensitivity.rs, convergence.rs):
- statistics are over the finite samples; errors = non-finite (null) samples;
- variance/std_dev with divisor n - 1; skewness m3/m2^1.5 and kurtosis m4/m2^2 with mk = mean of
  (x - mean)^k (scipy's bias=True); excess_kurtosis = kurtosis - 3;
- std_error = std_dev/sqrt(n), ci95 = mean -/+ z_0.975 * std_error;
- percentiles: Excel PERCENTILE.INC = numpy method="linear";
- VaR_a = the a-percentile (lower tail, output's own sign); CVaR_a = mean of samples <= VaR_a;
- targets: P(X < t) and P(X > t) over the finite samples;
- sensitivity over the rows where the output and every input are finite: Spearman = Pearson
  correlation of average ranks; SRC = least-squares slopes of y on all inputs (with intercept),
  times sd_x/sd_y; contribution = rho_i^2 / sum_j rho_j^2;
- convergence: 10 checkpoints after ceil(k*len/10) iterations, running mean, 1.96 sd/sqrt(n),
  the 5th/50th/95th percentiles.

Tolerances: counts, min/max and target probabilities exact; PERCENTILE.INC by its formula exact,
numpy's "linear" quantile within 1e-12 of the data's spread; moments, VaR/CVaR and convergence
1e-9 relative (with a floor of 1e-9 times the mean |x|, for values near 0); sensitivity 1e-9
absolute (Spearman, contribution) and 1e-8 absolute (SRC: numpy's QR least squares against
mcsim's Cholesky of the correlation matrix).
"""

import csv
import json
import math
import re
import sys

import numpy as np

try:
    import scipy.stats as st
except ImportError:  # numpy only
    st = None

DEFAULT_PERCENTILES = [0.01, 0.05, 0.10, 0.25, 0.50, 0.75, 0.90, 0.95, 0.99]
Z95 = float(st.norm.ppf(0.975)) if st is not None else 1.959963984540054

mismatches = []
checks = 0


def fail(where, what, got, expected, note=""):
    mismatches.append(f"{where}: {what}: report {got!r} != independent {expected!r} {note}")


def check_exact(where, what, got, expected):
    global checks
    checks += 1
    if isinstance(expected, float) and math.isnan(expected):
        if got is not None:
            fail(where, what, got, None)
    elif got != expected:
        fail(where, what, got, expected)


def check_close(where, what, got, expected, rel=1e-9, floor=0.0):
    """|got - expected| <= rel * max(|got|, |expected|, floor); None in the report means NaN."""
    global checks
    checks += 1
    expected = float(expected)
    if math.isnan(expected):
        if got is not None:
            fail(where, what, got, None, "(undefined)")
        return
    if got is None:
        fail(where, what, got, expected)
        return
    tol = rel * max(abs(got), abs(expected), floor)
    if not abs(got - expected) <= tol:
        fail(where, what, got, expected, f"(diff {abs(got - expected):.3g} > tol {tol:.3g})")


def check_abs(where, what, got, expected, tol):
    global checks
    checks += 1
    if expected is None or (isinstance(expected, float) and math.isnan(expected)):
        if got is not None:
            fail(where, what, got, None, "(undefined)")
        return
    if got is None or not abs(got - expected) <= tol:
        fail(where, what, got, expected, f"(tol {tol})")


def percentile_inc(sorted_x, p):
    """Excel's PERCENTILE.INC on sorted data, written out from its definition."""
    n = len(sorted_x)
    if n == 0:
        return float("nan")
    h = (n - 1) * p
    lo = math.floor(h)
    if lo + 1 >= n:
        return float(sorted_x[n - 1])
    frac = h - lo
    a, b = float(sorted_x[lo]), float(sorted_x[lo + 1])
    return a if frac == 0.0 else a + frac * (b - a)


def average_ranks(x):
    if st is not None:
        return st.rankdata(x, method="average")
    order = np.argsort(x, kind="mergesort")
    xs = x[order]
    ranks = np.empty(len(x))
    i = 0
    while i < len(x):
        j = i
        while j + 1 < len(x) and xs[j + 1] == xs[i]:
            j += 1
        ranks[order[i : j + 1]] = (i + j) / 2.0 + 1.0
        i = j + 1
    return ranks


def pearson(a, b):
    if len(a) < 2 or np.ptp(a) == 0 or np.ptp(b) == 0:
        return None
    return float(np.corrcoef(a, b)[0, 1])


def moments(where, x, s, floor):
    n = len(x)
    mean = float(np.mean(x)) if n else float("nan")
    var = float(np.var(x, ddof=1)) if n > 1 else float("nan")
    sd = math.sqrt(var) if n > 1 else float("nan")
    check_close(where, "mean", s["mean"], mean, floor=floor)
    check_close(where, "variance", s["variance"], var, floor=floor * floor)
    check_close(where, "std_dev", s["std_dev"], sd, floor=floor)
    if n > 1 and np.ptp(x) > 0:
        if st is not None:
            skew = float(st.skew(x, bias=True))
            kurt = float(st.kurtosis(x, fisher=False, bias=True))
        else:
            d = x - mean
            m2, m3, m4 = np.mean(d**2), np.mean(d**3), np.mean(d**4)
            skew, kurt = float(m3 / m2**1.5), float(m4 / m2**2)
    else:
        skew = kurt = float("nan")
    # Skewness can be near 0: its floor is 1e-6 (a relative error of 1e-9 on the third moment
    # of a unit-scale variable shows up at that level).
    check_close(where, "skewness", s["skewness"], skew, floor=1e-6)
    check_close(where, "kurtosis", s["kurtosis"], kurt)
    check_close(where, "excess_kurtosis", s["excess_kurtosis"], kurt - 3.0, floor=1e-6)
    se = sd / math.sqrt(n) if n > 1 else float("nan")
    check_close(where, "std_error", s["std_error"], se, floor=floor)
    check_close(where, "ci95_low", s["ci95_low"], mean - Z95 * se, floor=floor)
    check_close(where, "ci95_high", s["ci95_high"], mean + Z95 * se, floor=floor)


def quantile_checks(where, what, got, sorted_x, p, spread):
    """PERCENTILE.INC by its formula (exact) and numpy's linear quantile (1e-12 of the spread)."""
    global checks
    check_exact(where, what + " (PERCENTILE.INC)", got, percentile_inc(sorted_x, p))
    checks += 1
    q = float(np.quantile(sorted_x, p, method="linear"))
    if got is None or not abs(got - q) <= 1e-12 * max(spread, abs(q)):
        fail(where, what + " (numpy linear)", got, q)


def finite_sorted(x):
    return np.sort(x[np.isfinite(x)])


def statistic_cell(c, by_cell, cols):
    """A RiskMean/RiskPercentile/... cell, recomputed from the output it names (definitions in
    crates/mcsim-functions/src/functions/risk.rs: sd/variance n - 1, skewness and kurtosis as the
    summary's, RiskTarget = P(X <= x), RiskTargetD = 1 - RiskTarget, RiskPercentileD(p) =
    RiskPercentile(1 - p), RiskCIMean(conf, lower=TRUE) = mean -/+ z_(0.5+conf/2) sd/sqrt(n),
    RiskMode of a discrete output = its most frequent value, the smallest on a tie)."""
    where = f"statistics cell {c['cell']} {c['formula']}"
    m = re.fullmatch(r"=Risk(\w+)\((B\d+)(?:,([-\d.]+))?(?:,(TRUE|FALSE))?\)", c["formula"])
    if m is None:
        fail(where, "formula", c["formula"], "a known statistics call")
        return
    stat, ref, arg, flag = m.group(1).upper(), "Sheet1!" + m.group(2), m.group(3), m.group(4)
    check_exact(where, "of", c["of"], ref)
    x = finite_sorted(cols[by_cell[ref]])
    n = len(x)
    floor = float(np.mean(np.abs(x)))
    got = c["value"]
    mean, sd = float(np.mean(x)), float(np.std(x, ddof=1))
    d = x - mean
    m2, m3, m4 = np.mean(d**2), np.mean(d**3), np.mean(d**4)
    a = float(arg) if arg is not None else None
    if stat == "MEAN":
        check_close(where, "value", got, mean, floor=floor)
    elif stat == "STDDEV":
        check_close(where, "value", got, sd)
    elif stat == "VARIANCE":
        check_close(where, "value", got, sd * sd)
    elif stat == "MIN":
        check_exact(where, "value", got, float(x[0]))
    elif stat == "MAX":
        check_exact(where, "value", got, float(x[-1]))
    elif stat == "RANGE":
        check_exact(where, "value", got, float(x[-1] - x[0]))
    elif stat == "SKEWNESS":
        check_close(where, "value", got, float(m3 / m2**1.5), floor=1e-6)
    elif stat == "KURTOSIS":
        check_close(where, "value", got, float(m4 / m2**2))
    elif stat in ("PERCENTILE", "PTOX"):
        quantile_checks(where, "value", got, x, a, float(np.ptp(x)))
    elif stat == "PERCENTILED":
        quantile_checks(where, "value", got, x, 1.0 - a, float(np.ptp(x)))
    elif stat == "TARGET":
        check_exact(where, "value", got, int(np.sum(x <= a)) / n)
    elif stat == "TARGETD":
        check_exact(where, "value", got, 1.0 - int(np.sum(x <= a)) / n)
    elif stat == "CIMEAN":
        z = float(st.norm.ppf(0.5 + a / 2.0)) if st is not None else {0.9: 1.6448536269514722, 0.95: Z95}[a]
        half = z * sd / math.sqrt(n)
        check_close(where, "value", got, mean + half if flag == "FALSE" else mean - half, floor=floor)
    elif stat == "COEFFOFVARIATION":
        check_close(where, "value", got, sd / mean)
    elif stat == "MODE":
        values, counts = np.unique(x, return_counts=True)
        check_exact(where, "value", got, float(values[np.argmax(counts)]))
    else:
        fail(where, "statistic", stat, "one this script knows")


CMP = {
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
    "==": lambda a, b: a == b,
}


def threshold(t, cols):
    """A --fail-if condition (grammar in crates/mcsim-results/src/threshold.rs): its statistic
    recomputed, and `holds` = the comparison applied to the reported value."""
    where = f"threshold `{t['condition']}`"
    m = re.fullmatch(r"(.+) (<=|>=|==|<|>) ([-+\d.eE]+)", t["condition"])
    stat, op, bound = m.group(1), m.group(2), float(m.group(3))
    check_exact(where, "holds", t["holds"], CMP[op](t["value"], bound))
    if mp := re.fullmatch(r"P\((\w+) (<=|>=|==|<|>) ([-+\d.eE]+)\)", stat):
        x = finite_sorted(cols[mp.group(1)])
        value = int(np.sum(CMP[mp.group(2)](x, float(mp.group(3))))) / len(x)
        check_exact(where, "value", t["value"], value)
        return
    if mp := re.fullmatch(r"(mean|std|min|max|median)\((\w+)\)", stat):
        x = finite_sorted(cols[mp.group(2)])
        f = mp.group(1)
        if f in ("min", "max"):
            check_exact(where, "value", t["value"], float(x[0] if f == "min" else x[-1]))
        elif f == "median":
            quantile_checks(where, "value", t["value"], x, 0.5, float(np.ptp(x)))
        else:
            value = float(np.mean(x)) if f == "mean" else float(np.std(x, ddof=1))
            check_close(where, "value", t["value"], value, floor=float(np.mean(np.abs(x))))
        return
    if mp := re.fullmatch(r"p([\d.]+)\((\w+)\)", stat):
        x = finite_sorted(cols[mp.group(2)])
        quantile_checks(where, "value", t["value"], x, float(mp.group(1)) / 100.0, float(np.ptp(x)))
        return
    if mp := re.fullmatch(r"(var|cvar)\((\w+), ([\d.]+)\)", stat):
        x = finite_sorted(cols[mp.group(2)])
        a = float(mp.group(3))
        if mp.group(1) == "var":
            quantile_checks(where, "value", t["value"], x, a, float(np.ptp(x)))
        else:
            tail = x[x <= percentile_inc(x, a)]
            check_close(where, "value", t["value"], float(np.mean(tail)), floor=float(np.mean(np.abs(x))))
        return
    fail(where, "statistic", stat, "one this script knows")


def main():
    samples_path, report_path, options = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
    if samples_path.endswith(".parquet"):
        import pyarrow.parquet as pq

        table = pq.read_table(samples_path)
        # Nulls (error iterations) become NaN.
        cols = {n: np.array(table.column(n).to_pylist(), dtype=float) for n in table.column_names}
    else:
        with open(samples_path, newline="") as f:
            rows = list(csv.reader(f))
        header, body = rows[0], rows[1:]
        cols = {
            name: np.array([float(r[i]) if r[i] != "" else np.nan for r in body])
            for i, name in enumerate(header)
        }
    with open(report_path) as f:
        report = json.load(f)
    iterations = len(cols["iteration"])
    check_exact("run", "iterations", report["iterations"], iterations)
    check_exact("run", "iteration column", list(cols["iteration"]), list(range(1, iterations + 1)))
    inputs = [i["name"] for i in report["inputs"]]
    X = np.column_stack([cols[name] for name in inputs])

    # The run really is Latin Hypercube and correlated: the normal input's CDF values fall one
    # per stratum of the whole run, and its rank correlation with its RiskCorrmat partner is 0.7.
    if "z" in cols:
        u = np.array([0.5 * math.erfc(-v / math.sqrt(2.0)) for v in cols["z"]])
        strata = np.sort(np.floor(u * iterations).astype(int))
        misses = int(np.sum(strata != np.arange(iterations)))
        if misses > 2:  # a CDF value within rounding of a stratum boundary may land next door
            fail("inputs", "z: one sample per Latin Hypercube stratum", f"{misses} strata wrong", "<= 2")
    if "z" in cols and "growth" in cols:
        rho = pearson(average_ranks(cols["z"]), average_ranks(cols["growth"]))
        check_abs("inputs", "spearman(z, growth) near the RiskCorrmat 0.7", rho, 0.7, 0.05)

    requested_p = sorted(set(DEFAULT_PERCENTILES) | set(options["percentiles"]))
    requested_levels = [0.05] + [a for a in options["risk_levels"] if abs(a - 0.05) >= 1e-12]
    for out in report["outputs"]:
        name = out["name"]
        before = checks
        where = f"output `{name}`"
        x_all = cols[name]
        finite = np.isfinite(x_all)
        x = x_all[finite]
        xs = np.sort(x)
        n = len(x)
        s = out["summary"]
        spread = float(np.ptp(x)) if n else 0.0
        floor = float(np.mean(np.abs(x))) if n else 0.0
        check_exact(where, "deterministic", out["deterministic"], False)
        check_exact(where, "n", s["n"], n)
        check_exact(where, "errors", s["errors"], int(np.sum(~finite)))
        check_exact(where, "min", s["min"], float(xs[0]) if n else float("nan"))
        check_exact(where, "max", s["max"], float(xs[-1]) if n else float("nan"))
        moments(where, x, s, floor)

        check_exact(where, "percentile levels", [p["p"] for p in s["percentiles"]], requested_p)
        for pv in s["percentiles"]:
            quantile_checks(where, f"percentile {pv['p']}", pv["value"], xs, pv["p"], spread)

        check_exact(where, "risk levels", [r["level"] for r in s["risk"]], requested_levels)
        for r in s["risk"]:
            a = r["level"]
            quantile_checks(where, f"VaR {a}", r["var"], xs, a, spread)
            var = percentile_inc(xs, a)
            tail = xs[xs <= var]
            check_close(where, f"CVaR {a}", r["cvar"], float(np.mean(tail)), floor=floor)
            check_exact(where, f"CVaR {a} <= VaR", r["cvar"] <= r["var"], True)

        check_exact(where, "targets", [t["target"] for t in s["targets"]], options["targets"])
        for t in s["targets"]:
            check_exact(where, f"P(< {t['target']})", t["p_below"], int(np.sum(x < t["target"])) / n)
            check_exact(where, f"P(> {t['target']})", t["p_above"], int(np.sum(x > t["target"])) / n)

        # Convergence trace.
        ends = sorted({-(-k * iterations // 10) for k in range(1, 11)} - {0})
        conv = out["convergence"]
        check_exact(where, "convergence checkpoints", [c["iterations"] for c in conv], ends)
        for c, end in zip(conv, ends):
            part = x_all[:end]
            part = np.sort(part[np.isfinite(part)])
            m = len(part)
            cw = f"{where} convergence at {end}"
            check_exact(cw, "n", c["n"], m)
            check_close(cw, "mean", c["mean"], float(np.mean(part)), floor=floor)
            hw = Z95 * float(np.std(part, ddof=1)) / math.sqrt(m) if m > 1 else float("nan")
            check_close(cw, "ci95_half_width", c["ci95_half_width"], hw, floor=floor)
            check_exact(cw, "percentile levels", [p["p"] for p in c["percentiles"]], [0.05, 0.5, 0.95])
            for pv in c["percentiles"]:
                quantile_checks(cw, f"percentile {pv['p']}", pv["value"], part, pv["p"], spread)
        if conv:
            last = conv[-1]
            check_close(where, "convergence end = summary mean", last["mean"], s["mean"] if s["mean"] is not None else float("nan"), floor=floor)

        # Sensitivity.
        sens = out["sensitivity"]
        if sens is None:
            fail(where, "sensitivity", None, "present")
            continue
        rows_ok = finite & np.all(np.isfinite(X), axis=1)
        y = x_all[rows_ok]
        Xr = X[rows_ok]
        check_exact(where, "sensitivity n", sens["n"], int(np.sum(rows_ok)))
        check_exact(where, "sensitivity inputs", [e["input"] for e in sens["entries"]], inputs)
        ry = average_ranks(y)
        rhos = []
        for j in range(len(inputs)):
            rho = pearson(average_ranks(Xr[:, j]), ry)
            if st is not None and rho is not None:
                # scipy's own Spearman agrees with the rank-Pearson definition.
                check_abs(where, f"scipy spearmanr {inputs[j]}", rho, float(st.spearmanr(Xr[:, j], y)[0]), 1e-12)
            rhos.append(rho)
        total = sum(r * r for r in rhos if r is not None)
        # SRC: ordinary least squares with an intercept on the raw values, rescaled.
        sd_y = float(np.std(y, ddof=1)) if len(y) > 1 else 0.0
        if sd_y > 0:
            A = np.column_stack([np.ones(len(y)), Xr])
            coef = np.linalg.lstsq(A, y, rcond=None)[0][1:]
            src = [float(b * np.std(Xr[:, j], ddof=1) / sd_y) for j, b in enumerate(coef)]
        else:
            src = [None] * len(inputs)
        for e, rho, b in zip(sens["entries"], rhos, src):
            ew = f"{where} sensitivity to `{e['input']}`"
            check_abs(ew, "spearman", e["spearman"], rho, 1e-9)
            check_abs(ew, "src", e["src"], b, 1e-8)
            contrib = rho * rho / total if rho is not None and total > 0 else None
            check_abs(ew, "contribution", e["contribution"], contrib, 1e-9)
        print(f"{name}: {checks - before} comparisons (n={n}, errors={int(np.sum(~finite))})")

    by_cell = {o["cell"]: o["name"] for o in report["outputs"]}
    before = checks
    for c in report["statistics"]:
        statistic_cell(c, by_cell, cols)
    print(f"statistics cells: {checks - before} comparisons")
    before = checks
    check_exact("thresholds", "conditions", [t["condition"] for t in report["thresholds"]], options["fail_if"])
    for t in report["thresholds"]:
        threshold(t, cols)
    print(f"thresholds: {checks - before} comparisons")

    if mismatches:
        print(f"{len(mismatches)} mismatch(es) in {checks} comparisons:")
        for m in mismatches:
            print("  " + m)
        sys.exit(1)
    print(f"all {checks} comparisons agree (scipy {'used' if st is not None else 'not installed'})")


if __name__ == "__main__":
    main()
