#!/usr/bin/env python3
"""Byte budgets of weights for the mixed-precision tests.

  weight_budget.py bytes SUMMARY [--scale S]
      The weight bytes `microscale import --summary` printed (times S,
      rounded down).
  weight_budget.py bits FLOAT_MLIR --bits-per-weight B
      The budget `--bits-per-weight B` allows a raised float model: B bits
      for each element of its 2-D weights (the matrices the budget assigns,
      in llama-style models) plus the storage of the others, which stay
      float.
  weight_budget.py check SUMMARY --at-most N
      Fails unless the summary's weight bytes are at most N.
"""

import argparse
import re
import sys


def summary_bytes(path):
    with open(path, encoding="utf-8") as f:
        match = re.search(r"^weights: \d+ tensors, (\d+) bytes$", f.read(), re.M)
    if not match:
        sys.exit(f"{path}: no 'weights: N tensors, B bytes' line")
    return int(match.group(1))


def bits_budget(path, bits):
    """Budget of a float module whose weights print as
    `llm.weight "name" : tensor<AxBxf32> = ...`."""
    matrix_elements = 0
    fixed_bytes = 0
    weight = re.compile(r'llm\.weight "[^"]*" : tensor<([0-9x]+)xf32>')
    with open(path, encoding="utf-8") as f:
        for line in f:
            match = weight.search(line)
            if not match:
                continue
            dims = [int(d) for d in match.group(1).split("x")]
            elements = 1
            for d in dims:
                elements *= d
            if len(dims) == 2:
                matrix_elements += elements
            else:
                fixed_bytes += 4 * elements
    if matrix_elements == 0:
        sys.exit(f"{path}: no float weight matrices")
    return fixed_bytes + int(bits * matrix_elements / 8)


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=["bytes", "bits", "check"])
    parser.add_argument("file")
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--bits-per-weight", type=float)
    parser.add_argument("--at-most", type=int)
    args = parser.parse_args()
    if args.command == "bytes":
        print(int(summary_bytes(args.file) * args.scale))
    elif args.command == "bits":
        if args.bits_per_weight is None:
            sys.exit("bits needs --bits-per-weight")
        print(bits_budget(args.file, args.bits_per_weight))
    else:
        if args.at_most is None:
            sys.exit("check needs --at-most")
        used = summary_bytes(args.file)
        print(f"weight bytes {used}, budget {args.at_most}")
        if used > args.at_most:
            sys.exit(f"over the budget by {used - args.at_most} bytes")


if __name__ == "__main__":
    main()
