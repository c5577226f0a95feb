"""Monte Carlo reference statistics of the bench models from the hand-vectorised numpy models.

Usage: python3 bench/reference_stats.py [ITERATIONS] > bench/reference_stats.json

For each output: mean, standard deviation and percentiles over ITERATIONS iterations (default 4M),
sampled with numpy's default generator, seed 12345. mcsim's test `bench_models_agree_with_numpy`
checks its own estimates against these within their Monte Carlo error.
"""
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_models as mm  # noqa: E402

PCTS = [0.01, 0.05, 0.10, 0.25, 0.50, 0.75, 0.90, 0.95, 0.99]


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 4_000_000
    models = os.path.join(os.path.dirname(os.path.abspath(__file__)), "models")
    out = {"iterations": n, "seed": 12345, "generator": "numpy.random.default_rng", "numpy": np.__version__, "models": {}}
    for name in ["npv_project", "portfolio"]:
        spec = mm.load_spec(name, models)
        f = mm.numpy_model(name, models)
        rng = np.random.default_rng(12345)
        chunks = {}
        left = n
        while left > 0:
            k = min(left, 500_000)
            res = f(mm.sample_inputs(spec, k, rng))
            for key, v in res.items():
                chunks.setdefault(key, []).append(np.asarray(v, float))
            left -= k
        stats = {}
        for key, parts in chunks.items():
            x = np.concatenate(parts)
            stats[key] = {
                "mean": float(x.mean()),
                "sd": float(x.std(ddof=1)),
                "percentiles": {str(p): float(np.quantile(x, p)) for p in PCTS},
            }
        out["models"][name] = stats
    json.dump(out, sys.stdout, indent=1)


if __name__ == "__main__":
    main()
