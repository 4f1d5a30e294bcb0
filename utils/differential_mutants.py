#!/usr/bin/env python3
"""Differential test of the compiler against ONNX Runtime on mutated models.

Makes a deterministic set of mutants of one ONNX model (small integer
constants such as Slice starts, Range deltas, Unsqueeze axes and Reshape
targets; scalar float constants such as epsilons, scales and mask fills;
integer attributes such as axes and permutations; declared input shapes),
then for each one:

  - if `microscale run` accepts it, ONNX Runtime must accept it too and give
    the same logits within the relative tolerance;
  - otherwise microscale must fail cleanly: exit status 1 with a message,
    no signal, no timeout.

  differential_mutants.py --microscale BIN --model MODEL.onnx --work DIR
      [--count 80] [--seed 16] [--ids 1,403,407,...]

Prints one line per mutant and a summary; exits 1 if any mutant breaks a
rule. `--known REGEX` names mutants of a class raising is known not to
check yet (see the README): they are run and reported as KNOWN, not failed. Needs onnx, onnxruntime and numpy (build/venv from utils/setup.sh).
"""
import argparse
import copy
import os
import random
import re
import subprocess
import sys

import numpy as np
import onnx
from onnx import numpy_helper

from ort_logits import ort_logits

INT64_MAX = 2**63 - 1
INT64_MIN = -2**63


def constant_sites(model):
    """(description, tensor) for each Constant node value and initializer
    small enough to be a parameter of the graph's plumbing, not a weight."""
    sites = []
    for node in model.graph.node:
        if node.op_type != "Constant":
            continue
        for attr in node.attribute:
            if attr.name == "value" and attr.t.ByteSize() < 4096:
                sites.append((f"Constant {node.output[0]}", attr.t))
    for init in model.graph.initializer:
        if np.prod(init.dims, dtype=np.int64) <= 8:
            sites.append((f"initializer {init.name}", init))
    return sites


def value_mutations(array):
    """New values for one element of a small constant."""
    if array.dtype.kind in "iu":
        v = int(array.flat[0])
        options = [v + 1, v - 1, 0, -1, 2, INT64_MAX, INT64_MIN, 2 * v]
        return [x for x in dict.fromkeys(options)
                if x != v and INT64_MIN <= x <= INT64_MAX]
    if array.dtype.kind == "f":
        v = float(array.flat[0])
        options = [0.0, 1.0, -1.0, 2.0 * v, v + 1.0, float("nan"),
                   float("inf"), -3.4e38]
        return [x for x in options if not (x == v)]
    return []


def candidate_mutations(model):
    """Every (label, apply(model)) this script knows, in a fixed order."""
    candidates = []
    for site, tensor in constant_sites(model):
        array = numpy_helper.to_array(tensor)
        for index in range(min(array.size, 4)):
            for new in value_mutations(array.flat[index:index + 1].copy()):
                def apply(m, site=site, index=index, new=new):
                    for s, t in constant_sites(m):
                        if s == site:
                            a = numpy_helper.to_array(t).copy()
                            a.flat[index] = new
                            t.CopyFrom(numpy_helper.from_array(a, t.name))
                candidates.append((f"{site}[{index}] = {new}", apply))
    for n, node in enumerate(model.graph.node):
        for attr in node.attribute:
            if attr.type == onnx.AttributeProto.INT and attr.name != "to":
                for new in (attr.i + 1, attr.i - 1, -attr.i - 1):
                    def apply(m, n=n, name=attr.name, new=new):
                        for a in m.graph.node[n].attribute:
                            if a.name == name:
                                a.i = new
                    candidates.append(
                        (f"{node.name}.{attr.name} = {new}", apply))
            if attr.type == onnx.AttributeProto.INTS and attr.ints:
                ints = list(attr.ints)
                for new in (ints[::-1], ints[1:] + ints[:1]):
                    if new == ints:
                        continue
                    def apply(m, n=n, name=attr.name, new=new):
                        for a in m.graph.node[n].attribute:
                            if a.name == name:
                                del a.ints[:]
                                a.ints.extend(new)
                    candidates.append(
                        (f"{node.name}.{attr.name} = {new}", apply))
    for i, value in enumerate(model.graph.input):
        dims = value.type.tensor_type.shape.dim
        for d, dim in enumerate(dims):
            if dim.HasField("dim_value"):
                for new in (dim.dim_value + 1, 1):
                    if new == dim.dim_value:
                        continue
                    def apply(m, i=i, d=d, new=new):
                        m.graph.input[i].type.tensor_type.shape.dim[
                            d].dim_value = new
                    candidates.append(
                        (f"input {value.name} dim {d} = {new}", apply))
    return candidates


def agree(ours, theirs, tolerance):
    if ours.size != theirs.size:
        return False, f"{ours.size} logits against {theirs.size}"
    theirs = theirs.reshape(ours.shape)
    both_nan = np.isnan(ours) & np.isnan(theirs)
    diff = np.abs(ours - theirs) / np.maximum(1.0, np.abs(theirs))
    diff[both_nan] = 0
    worst = float(np.nanmax(diff)) if diff.size else 0.0
    if np.isnan(diff).any() or worst > tolerance:
        return False, f"relative difference {worst:.3g}"
    return True, f"relative difference {worst:.3g}"


def check(label, path, args, ids):
    """One mutant: returns (outcome, detail), outcome in accepted/rejected/
    FAIL."""
    out = os.path.join(args.work, "logits.f32")
    if os.path.exists(out):
        os.remove(out)
    try:
        run = subprocess.run(
            [args.microscale, "run", path, "--prompt-ids",
             ",".join(map(str, ids)), "-n", "0", "--logits", out],
            capture_output=True, text=True, timeout=args.timeout)
    except subprocess.TimeoutExpired:
        return "FAIL", f"microscale timed out after {args.timeout} s"
    message = run.stderr.strip().splitlines()
    if run.returncode != 0:
        if run.returncode == 1 and message:
            return "rejected", message[0][:200]
        return "FAIL", (f"microscale exit status {run.returncode}: "
                        f"{message[:1]}")
    ours = np.fromfile(out, dtype="<f4")
    try:
        theirs = ort_logits(path, ids)
    except Exception as error:  # ORT raises many exception types.
        return "FAIL", f"microscale accepted, ONNX Runtime rejected: " \
                       f"{str(error).splitlines()[0][:200]}"
    ok, detail = agree(ours, theirs, args.tolerance)
    return ("accepted" if ok else "FAIL"), detail


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--microscale", required=True)
    parser.add_argument("--model", required=True)
    parser.add_argument("--work", required=True)
    parser.add_argument("--count", type=int, default=80)
    parser.add_argument("--seed", type=int, default=16)
    parser.add_argument("--ids", default="1,403,407,261,378,432,383,286")
    parser.add_argument("--tolerance", type=float, default=1e-4)
    parser.add_argument("--timeout", type=float, default=60)
    parser.add_argument("--known", action="append", default=[])
    args = parser.parse_args()
    os.makedirs(args.work, exist_ok=True)
    ids = [int(x) for x in args.ids.split(",")]
    model = onnx.load(args.model)
    candidates = candidate_mutations(model)
    chosen = random.Random(args.seed).sample(
        candidates, min(args.count, len(candidates)))
    # The tokenizer is found next to the model; mutants live elsewhere.
    tokenizer = [f for f in os.listdir(os.path.dirname(args.model))
                 if f.endswith(".model")]
    counts = {"accepted": 0, "rejected": 0, "FAIL": 0, "KNOWN": 0}
    for number, (label, apply) in enumerate(chosen):
        mutant = copy.deepcopy(model)
        apply(mutant)
        path = os.path.join(args.work, f"mutant{number}.onnx")
        onnx.save(mutant, path)
        for name in tokenizer:
            link = os.path.join(args.work, name)
            if not os.path.exists(link):
                os.symlink(os.path.join(os.path.dirname(
                    os.path.abspath(args.model)), name), link)
        outcome, detail = check(label, path, args, ids)
        if outcome == "FAIL" and any(re.search(k, label) for k in args.known):
            outcome = "KNOWN"
        counts[outcome] += 1
        print(f"{outcome:8} {label}: {detail}")
        os.remove(path)
    print(f"{len(chosen)} mutants of {len(candidates)} candidates: "
          f"{counts['accepted']} accepted and agree with ONNX Runtime, "
          f"{counts['rejected']} rejected cleanly, {counts['FAIL']} failures, "
          f"{counts['KNOWN']} known unchecked")
    sys.exit(1 if counts["FAIL"] else 0)


if __name__ == "__main__":
    main()
