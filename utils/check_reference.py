#!/usr/bin/env python3
"""Checks a model's greedy continuation and logits against its reference.

Runs `microscale run` on MODEL (an .onnx or raised .mlir file), or a program
made by `microscale compile` (its own `run` command; no --model), and compares
with the folder's reference.json (prompt_ids, greedy_new_ids, logits_tokens)
and reference_logits.f32 (float32 [len(logits_tokens), vocab], row t = logits
after tokens 0..t). Exits non-zero on the first mismatch, printing what
differed; prints the measured maximum |logit difference| on success.

  check_reference.py --microscale BIN [--model M.onnx] --reference-dir DIR
                     [--tolerance 1e-4] [--extra-arg=--tokenizer=...]
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

import numpy as np


def run(cmd):
    result = subprocess.run(cmd, capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"command failed ({result.returncode}): {' '.join(cmd)}\n"
                 f"{result.stderr}")
    return result.stdout


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--microscale", required=True)
    parser.add_argument("--model")
    parser.add_argument("--reference-dir", required=True)
    parser.add_argument("--tolerance", type=float, default=1e-4)
    parser.add_argument("--extra-arg", action="append", default=[])
    args = parser.parse_args()

    with open(os.path.join(args.reference_dir, "reference.json")) as f:
        reference = json.load(f)

    # Greedy continuation of the prompt.
    prompt = reference["prompt_ids"]
    expected = reference["greedy_new_ids"]
    command = [args.microscale, "run"] + ([args.model] if args.model else [])
    out = run(command + ["--json",
               "--prompt-ids", ",".join(map(str, prompt)),
               "-n", str(len(expected))] + args.extra_arg)
    got = json.loads(out)["ids"]
    if got != expected:
        first = next(i for i, (a, b) in enumerate(zip(got, expected)) if a != b)
        sys.exit(f"greedy ids differ at step {first}:\n  got      {got}\n"
                 f"  expected {expected}")
    print(f"greedy: {len(got)} ids match the reference")

    # Logits of every position of logits_tokens.
    tokens = reference["logits_tokens"]
    ref = np.fromfile(os.path.join(args.reference_dir,
                                   reference.get("logits_file",
                                                 "reference_logits.f32")),
                      dtype="<f4").reshape(len(tokens), -1)
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "logits.f32")
        run(command + ["-n", "0", "--logits", path,
             "--prompt-ids", ",".join(map(str, tokens))] + args.extra_arg)
        logits = np.fromfile(path, dtype="<f4")
    if logits.size != ref.size:
        sys.exit(f"logits have {logits.size} values, reference {ref.size}")
    diff = float(np.max(np.abs(logits.reshape(ref.shape) - ref)))
    print(f"logits: max |diff| = {diff:.3g} over {ref.shape[0]} positions "
          f"x {ref.shape[1]} (tolerance {args.tolerance:g})")
    if not diff <= args.tolerance:
        sys.exit("logits differ from the reference beyond the tolerance")


if __name__ == "__main__":
    main()
