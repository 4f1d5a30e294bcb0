#!/usr/bin/env python3
"""Measures where sparse weight storage pays: size and decode speed by
sparsity, dense against sparse storage, for float32 and int8 weights.

Compiles synthetic-llama-15M once per setting: every linear pruned by
magnitude to each sparsity (no calibration: the model's weights are random,
so which weights go does not matter for speed), stored dense (the zeros kept)
or sparse (--sparse-storage sparse: bitmask storage, the ms_linear_sparse_*
kernels), float32 or int8 (--quantize int8, per-row codes). Then times every
program round-robin at one thread (`bench`, --runs rounds after a warm-up
round; medians), and prints a Markdown table of weight bytes and decode and
prefill tokens per second, and for each value type the crossover: the largest
density (share of kept weights) from which on, down to the sparsest measured,
sparse storage is both smaller and at least as fast at decoding as dense
storage. llm-sparse-storage's max-density-f32 and max-density-int8 defaults
come from this line. The tied embedding and logits table stays dense in every
program (a table read by rows gains nothing from sparse storage), so whole
programs dilute the linears' difference: the table's columns say how much.

  python3 utils/bench_sparse.py [--runs 5] [--sparsities 0,0.5,2:4,0.9]
      [--threads 1]

A sparsity N:M prunes by that pattern (--prune-pattern) instead; it counts
as the sparsity 1 - N/M and takes no part in the crossover.
"""
import argparse
import json
import os
import shlex
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
MODELS = os.path.normpath(os.environ.get(
    "MICROSCALE_MODELS", os.path.join(HERE, "..", "..", "shared", "models")))
LLAMA15M = os.path.join(MODELS, "synthetic-llama-15M", "model.onnx")
TOKENIZER_32K = os.path.join(MODELS, "llama2c-tokenizer-32k",
                             "tokenizer.model")
KINDS = {"f32": [], "int8": ["--quantize", "int8"]}


class Commands:
    """Runs commands and remembers them, temporary paths shown as $TMP."""

    def __init__(self, tmp):
        self.tmp, self.lines = tmp, []

    def run(self, cmd):
        line = shlex.join(cmd).replace(self.tmp, "$TMP")
        if line not in self.lines:
            self.lines.append(line)
        return subprocess.run(cmd, capture_output=True, text=True, check=True)


def settings(sparsities):
    """(kind, sparsity, storage) of every program: dense storage once per
    kind (zeros stored as zeros cost what the unpruned weights cost), sparse
    storage at every sparsity above 0."""
    rows = [(kind, "0", "dense") for kind in KINDS]
    rows += [(kind, s, "sparse") for kind in KINDS for s in sparsities
             if s != "0"]
    return rows


def share(sparsity):
    """The share of pruned weights of a sparsity: a number or N:M."""
    if ":" in sparsity:
        n, m = sparsity.split(":")
        return 1 - int(n) / int(m)
    return float(sparsity)


def compile_program(commands, microscale, kind, sparsity, storage, path):
    flags = ["--max-context", "256", "--tokenizer", TOKENIZER_32K,
             "--sparse-storage", storage] + KINDS[kind]
    if ":" in sparsity:
        flags += ["--prune-pattern", sparsity, "--prune-method", "magnitude"]
    elif share(sparsity):
        flags += ["--prune-weights", sparsity, "--prune-method", "magnitude"]
    commands.run([microscale, "compile", LLAMA15M, "-o", path] + flags)
    info = commands.run([path, "info", "--json"])
    return json.loads(info.stdout)["weight_bytes"]


def bench_once(commands, program, args):
    """(prefill, decode) tokens per second of one timed generation."""
    result = commands.run([program, "bench", "--json", "--threads",
                           str(args.threads), "--runs", "1",
                           "--prompt-tokens", str(args.prompt_tokens),
                           "--gen-tokens", str(args.gen_tokens)])
    data = json.loads(result.stdout)
    return data["prefill_tokens_per_s"], data["decode_tokens_per_s"]


def crossover(rows, kind):
    """The largest density from which on every sparser program is smaller
    and decodes at least as fast as dense storage; None when none is."""
    dense = next(r for r in rows if r["kind"] == kind and
                 r["storage"] == "dense")
    sparse = sorted((r for r in rows if r["kind"] == kind and
                     r["storage"] == "sparse" and ":" not in r["sparsity"]),
                    key=lambda r: share(r["sparsity"]), reverse=True)
    best = None
    for row in sparse:  # sparsest first
        if row["bytes"] < dense["bytes"] and row["decode"] >= dense["decode"]:
            best = 1.0 - share(row["sparsity"])
        else:
            break
    return best


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--sparsities",
                        default="0,0.1,0.2,0.3,0.4,0.5,2:4,0.6,0.7,0.8,0.9")
    parser.add_argument("--prompt-tokens", type=int, default=128)
    parser.add_argument("--gen-tokens", type=int, default=64)
    parser.add_argument("--microscale",
                        default=os.path.join(HERE, "..", "build", "bin",
                                             "microscale"))
    args = parser.parse_args()
    sparsities = args.sparsities.split(",")
    with tempfile.TemporaryDirectory() as tmp:
        commands = Commands(tmp)
        rows = []
        for kind, sparsity, storage in settings(sparsities):
            path = os.path.join(tmp, f"{kind}-{storage}-{sparsity}")
            rows.append({"kind": kind, "sparsity": sparsity,
                         "storage": storage, "path": path,
                         "bytes": compile_program(commands, args.microscale,
                                                  kind, sparsity, storage,
                                                  path),
                         "times": []})
            print(f"compiled {os.path.basename(path)}", file=sys.stderr)
        for run in range(args.runs + 1):
            for row in rows:
                times = bench_once(commands, row["path"], args)
                if run:  # the first round warms caches up
                    row["times"].append(times)
            print(f"round {run} of {args.runs}", file=sys.stderr)
        for row in rows:
            row["prefill"] = statistics.median(t[0] for t in row["times"])
            row["decode"] = statistics.median(t[1] for t in row["times"])
    print(f"synthetic-llama-15M, {args.threads} thread(s), prompt "
          f"{args.prompt_tokens} + {args.gen_tokens} generated, medians of "
          f"{args.runs}:\n")
    print("| weights | sparsity | storage | weight bytes | % of dense | "
          "decode tok/s | decode vs dense | prefill tok/s | "
          "prefill vs dense |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for row in rows:
        dense = next(r for r in rows if r["kind"] == row["kind"] and
                     r["storage"] == "dense")
        label = row["sparsity"] if ":" in row["sparsity"] else \
            f"{share(row['sparsity']) * 100:.0f} %"
        print(f"| {row['kind']} | {label} | "
              f"{row['storage']} | {row['bytes']} | "
              f"{100 * row['bytes'] / dense['bytes']:.1f} | "
              f"{row['decode']:.0f} | {row['decode'] / dense['decode']:.2f}x "
              f"| {row['prefill']:.0f} | "
              f"{row['prefill'] / dense['prefill']:.2f}x |")
    print()
    for kind in KINDS:
        density = crossover(rows, kind)
        print(f"crossover {kind}: " +
              ("sparse never both smaller and as fast" if density is None
               else f"sparse pays at density <= {density:.2f} "
                    f"(sparsity >= {1 - density:.2f})"))
    print("\nCommands:\n```")
    print("\n".join(commands.lines))
    print("```")


if __name__ == "__main__":
    main()
