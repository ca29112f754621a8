#!/usr/bin/env python3
"""PyTorch CUDA's peer of bench/nn_bench.cpp's GPU rows (nn/<workload>/1), the same workloads:
mlp_train_step_b256 (784-512-512-10 ReLU MLP, cross-entropy, SGD lr 0.01: forward, backward,
step), transformer_layer_s256_d512 (nn.TransformerEncoderLayer(512, 8, 2048), eval, batch 1,
sequence 256) and mlp_train_step_784-4096-4096-10_b1024 (SGD lr 1e-3; matmul flops only, as
../shared/bench/gpu_torch_peers.py counts them). float32 with TF32 off. One JSON line per
workload with bench_main.cpp's fields:

    python3 bench/torch_nn_peers.py [--tag TAG]
"""
import argparse
import json
import statistics

import torch
import torch.nn.functional as F

DEV = "cuda"


def median_ms(fn, reps=50, warm=5):
    for _ in range(warm):
        fn()
    torch.cuda.synchronize()
    times = []
    for _ in range(reps):
        a, b = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        a.record()
        fn()
        b.record()
        b.synchronize()
        times.append(a.elapsed_time(b))
    return statistics.median(times)


def mlp_flops(dims, batch):
    fwd = sum(dims[i] * dims[i + 1] for i in range(len(dims) - 1))
    return 2.0 * batch * (3 * fwd - dims[0] * dims[1])


def mlp_case(dims, batch, lr):
    torch.manual_seed(0)
    layers = []
    for i in range(len(dims) - 1):
        layers.append(torch.nn.Linear(dims[i], dims[i + 1]))
        if i + 2 < len(dims):
            layers.append(torch.nn.ReLU())
    model = torch.nn.Sequential(*layers).to(DEV)
    opt = torch.optim.SGD(model.parameters(), lr=lr)
    x = torch.randn(batch, dims[0], device=DEV)
    y = torch.randint(0, dims[-1], (batch,), device=DEV)

    def step():
        opt.zero_grad(set_to_none=True)
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()

    return step, mlp_flops(dims, batch)


def transformer_case():
    torch.manual_seed(0)
    layer = torch.nn.TransformerEncoderLayer(512, 8, 2048, dropout=0.0, batch_first=True).to(DEV).eval()
    x = torch.randn(1, 256, 512, device=DEV)

    def run():
        with torch.inference_mode():
            layer(x)

    L, D, Fd = 256, 512, 2048
    return run, 2.0 * L * (4.0 * D * D + 2.0 * D * Fd) + 2.0 * 2.0 * L * L * D


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tag", default="local")
    args = ap.parse_args()
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    cases = {
        "mlp_train_step_b256": mlp_case([784, 512, 512, 10], 256, 0.01),
        "transformer_layer_s256_d512": transformer_case(),
        "mlp_train_step_784-4096-4096-10_b1024": mlp_case([784, 4096, 4096, 10], 1024, 1e-3),
    }
    for name, (fn, flops) in cases.items():
        ms = median_ms(fn)
        print(json.dumps({"tag": args.tag, "system": "torch", "workload": name,
                          "variant": "cuda " + torch.version.cuda, "unit": "GFLOP/s",
                          "rate": round(flops / (ms * 1e-3) * 1e-9, 3), "median_ms": round(ms, 4)}), flush=True)


if __name__ == "__main__":
    main()
