"""multistore benchmarks: each ``bench_*.py`` module measures against baselines in the same run."""
