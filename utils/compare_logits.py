#!/usr/bin/env python3
"""Compares two raw float32 logits files; exits 1 beyond the tolerance.

  compare_logits.py A.f32 B.f32 [--tolerance 1e-3]
"""
import argparse
import sys

import numpy as np

parser = argparse.ArgumentParser()
parser.add_argument("a")
parser.add_argument("b")
parser.add_argument("--tolerance", type=float, default=1e-3)
args = parser.parse_args()
a = np.fromfile(args.a, dtype="<f4")
b = np.fromfile(args.b, dtype="<f4")
if a.size != b.size or a.size == 0:
    sys.exit(f"sizes differ: {a.size} and {b.size} values")
diff = float(np.max(np.abs(a - b)))
print(f"max |diff| = {diff:.3g} over {a.size} logits "
      f"(tolerance {args.tolerance:g})")
sys.exit(0 if diff <= args.tolerance else 1)
