"""Checks the sparsity end-to-end test's measurements (see
sparsity-quality.test):
`pattern SHARE N:M PRUNED_MLIR` reads every pruned weight of a module
printed by microscale-opt (dense_resource blobs of little-endian f32 after a
4-byte alignment header) and checks each row's zeros: round(SHARE * cols)
of them, or the N:M pattern (with SHARE 0). `within NAME FLOAT PRUNED LIMIT` checks a
perplexity change against a limit in percent, `beats A JSON_A B JSON_B`
that A has the lower perplexity, `same A JSON_A B JSON_B` that they agree."""

import json
import re
import struct
import sys


def pruned_weights(path):
    text = open(path).read()
    shapes = dict((key, (int(rows), int(cols))) for rows, cols, key in re.findall(
        r'llm.weight "[^"]*" : tensor<(\d+)x(\d+)xf32> = dense_resource<([^>]*\.pruned)>',
        text))
    blobs = dict(re.findall(r'^\s*([\w.]+\.pruned): "0x([0-9A-F]*)"', text, re.M))
    for key, (rows, cols) in shapes.items():
        data = bytes.fromhex(blobs[key])[4:]
        values = struct.unpack(f"<{rows * cols}f", data)
        yield key, rows, cols, values


def check_pattern(share, pattern, path):
    n, m = map(int, pattern.split(":")) if pattern != "-" else (0, 0)
    matrices = 0
    good = True
    zeros = total = 0
    for key, rows, cols, values in pruned_weights(path):
        matrices += 1
        for r in range(rows):
            row = values[r * cols:(r + 1) * cols]
            zeros += sum(v == 0.0 for v in row)
            total += cols
            if m:
                for begin in range(0, cols, m):
                    group = row[begin:begin + m]
                    if sum(v != 0.0 for v in group) > min(n, len(group)):
                        good = False
                    if len(group) == m and sum(v != 0.0 for v in group) != n:
                        good = False
            elif sum(v == 0.0 for v in row) != round(share * cols):
                good = False
    print(f"{matrices} matrices pruned")
    print("every row as asked", good, f"({zeros / total:.4f} of the weights are zero)")


def ppl(path):
    return json.load(open(path))["ppl"]


mode, args = sys.argv[1], sys.argv[2:]
if mode == "pattern":
    check_pattern(float(args[0]), args[1], args[2])
elif mode == "within":
    name, base, pruned, limit = args[0], ppl(args[1]), ppl(args[2]), float(args[3])
    change = 100 * (pruned / base - 1)
    print(f"{name} within +{args[3]} %", change <= limit, f"({change:+.3f} %)")
elif mode == "beats":
    print(f"{args[0]} beats {args[2]}", ppl(args[1]) < ppl(args[3]),
          f"({ppl(args[1]):.4f} against {ppl(args[3]):.4f})")
elif mode == "same":
    print(f"{args[0]} is {args[2]}", abs(ppl(args[1]) / ppl(args[3]) - 1) < 1e-6)
