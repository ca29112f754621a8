#!/usr/bin/env python3
"""NumPy's peer of bench/io_bench.cpp: the same 1 GiB of float32 (256 Mi elements) saved as
.npy, loaded by np.load (read into memory), by np.load(mmap_mode="r") (mapped, like Tessera's
loaders) and by each of those followed by a sum over every element (first use). The file is
written once into $TMPDIR (or /tmp) and removed at the end; the page cache is warm, as in
io_bench.cpp. Prints one JSON line per workload with bench_main.cpp's fields:

    OPENBLAS_NUM_THREADS=2 /usr/bin/python3 bench/io_peers.py [--tag TAG]
"""
import argparse
import json
import os
import shutil
import statistics
import tempfile
import time

import numpy as np

ELEMS = 1 << 28
BYTES = 4.0 * ELEMS


def median_ms(fn, reps):
    fn()  # warm: the page cache holds the file, as for Tessera's runs
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times) * 1e3


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tag", default="local")
    ap.add_argument("--reps", type=int, default=5)
    args = ap.parse_args()
    d = tempfile.mkdtemp(prefix="tessera_io_peers_")
    try:
        path = os.path.join(d, "w.npy")
        np.save(path, np.random.default_rng(0).random(ELEMS, dtype=np.float32))
        work = [
            ("npy_load_1GiB", "read", lambda: np.load(path)),
            ("npy_load_1GiB", "mmap", lambda: np.load(path, mmap_mode="r")),
            ("npy_load_sum_1GiB", "read", lambda: np.load(path).sum()),
            ("npy_load_sum_1GiB", "mmap", lambda: np.load(path, mmap_mode="r").sum()),
        ]
        for name, variant, fn in work:
            ms = median_ms(fn, args.reps)
            print(json.dumps({"tag": args.tag, "system": "numpy", "workload": name,
                              "variant": "cpu " + variant, "unit": "GB/s",
                              "rate": round(BYTES / (ms * 1e-3) * 1e-9, 3), "median_ms": round(ms, 4)}))
    finally:
        shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    main()
