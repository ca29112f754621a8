#!/usr/bin/env python3
"""PyTorch CUDA on the op-set workloads of bench/bench_ops.cpp (take_16M, cumsum_16M, sort_1M,
argsort_4096x1024, topk8_1024x32000, conv2d_b32_28x28_32to64_3x3 forward and _bwd in
channels-last float32 with cuDNN's defaults: TF32 off, as Tessera computes in float32), timed as ../shared/bench/gpu_torch_peers.py times its
workloads: 3 warm-up calls, then one CUDA-event pair per call for at least 30 calls and 0.3 s,
the median reported. Same inputs and byte counts as bench_ops.cpp (random normal, int32
indices promoted to int64 as torch.take needs). Prints one JSON line per workload:

    python3 bench/torch_ops_peers.py          (on the device machine, with its python3)
"""
import json
import statistics
import time

import torch


def bench(fn, min_reps=30, min_seconds=0.3):
    for _ in range(3):
        fn()
    torch.cuda.synchronize()
    times = []
    start = time.perf_counter()
    while len(times) < min_reps or time.perf_counter() - start < min_seconds:
        s, e = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        s.record()
        fn()
        e.record()
        e.synchronize()
        times.append(s.elapsed_time(e))
    return statistics.median(times)


def main():
    g = torch.Generator(device="cuda").manual_seed(0)
    rn = lambda *s: torch.randn(*s, generator=g, device="cuda")
    n16 = 1 << 24
    x16 = rn(n16)
    idx16 = torch.randint(0, n16, (n16,), generator=g, device="cuda", dtype=torch.int32).long()
    xs = rn(1 << 20)
    a = rn(4096, 1024)
    logits = rn(1024, 32000)
    torch.backends.cudnn.allow_tf32 = False
    xc = rn(32, 32, 28, 28).to(memory_format=torch.channels_last)
    wc = (rn(64, 32, 3, 3) * 0.06).to(memory_format=torch.channels_last)
    xg = xc.clone().requires_grad_(True)
    wg = wc.clone().requires_grad_(True)
    gy = rn(32, 64, 28, 28).to(memory_format=torch.channels_last)
    conv_flops = 2 * 32 * 64 * 28 * 28 * 32 * 9

    def conv_bwd():
        return torch.autograd.grad(torch.nn.functional.conv2d(xg, wg, padding=1), (xg, wg), gy)

    cases = [
        ("take_16M", 12 * n16, lambda: torch.take(x16, idx16)),
        ("cumsum_16M", 8 * n16, lambda: torch.cumsum(x16, 0)),
        ("sort_1M", 8 * (1 << 20), lambda: torch.sort(xs)),
        ("argsort_4096x1024", 8 * 4096 * 1024, lambda: torch.argsort(a, -1)),
        ("topk8_1024x32000", 4 * 1024 * 32000, lambda: torch.topk(logits, 8, -1)),
        ("conv2d_b32_28x28_32to64_3x3", conv_flops, lambda: torch.nn.functional.conv2d(xc, wc, padding=1)),
        ("conv2d_b32_28x28_32to64_3x3_bwd", 2 * conv_flops, conv_bwd),
    ]
    for name, amount, fn in cases:
        ms = bench(fn)
        unit = "GFLOP/s" if name.startswith("conv") else "GB/s"
        print(json.dumps({"system": "torch " + torch.__version__ + " cuda", "workload": name, "unit": unit,
                          "rate": round(amount / ms / 1e6, 3), "median_ms": round(ms, 4),
                          "device": torch.cuda.get_device_name()}), flush=True)


if __name__ == "__main__":
    main()
