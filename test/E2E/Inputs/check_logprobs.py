"""Checks a program's `perplexity --logprobs-out` stream against its own
`perplexity --json` summary and `tokenize --bos` ids: one record per scored
token, in scoring order, each row a normalized log-distribution whose mean
NLL of the following ids is the printed one."""

import json
import math
import struct
import sys

stream_path, summary_path, ids_path, ctx = sys.argv[1:5]
ctx = int(ctx)
summary = json.load(open(summary_path))
ids = [int(i) for i in open(ids_path).read().split(",")]
expected_next = []
for first in range(0, len(ids), ctx):
    window = ids[first:first + ctx]
    if len(window) < 2:
        break
    expected_next += window[1:]

with open(stream_path, "rb") as stream:
    magic, vocab = struct.unpack("=4si", stream.read(8))
    if magic != b"MSLP":
        sys.exit("bad magic %r" % magic)
    record = struct.Struct("=i%df" % vocab)
    nll, rows, worst = 0.0, 0, 0.0
    nexts = []
    while chunk := stream.read(record.size):
        if len(chunk) != record.size:
            sys.exit("truncated record %d" % rows)
        values = record.unpack(chunk)
        nexts.append(values[0])
        logprobs = values[1:]
        worst = max(worst, abs(math.fsum(math.exp(v) for v in logprobs) - 1))
        nll -= logprobs[values[0]]
        rows += 1

mean = nll / rows
print("vocab", vocab, "rows", rows, "tokens", summary["tokens"])
print("ids match", nexts == expected_next)
print("rows sum to 1", worst < 1e-5, worst)
print("mean NLL matches", abs(mean - summary["nll"]) < 1e-5, mean,
      summary["nll"])
