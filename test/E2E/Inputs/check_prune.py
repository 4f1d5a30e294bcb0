"""Checks the pruning end-to-end test's measurements (see prune-quality.test):
`heads FLOAT LOSS MAGNITUDE PROGRAM PRUNED_MLIR`, `layers FLOAT CHEAPEST
WORST` (perplexity JSON files) or `sizes FLOAT_REPORT PRUNED_REPORT`
(`microscale compile` output)."""

import json
import re
import sys


def ppl(path):
    return json.load(open(path))["ppl"]


def sizes(path):
    text = open(path).read()
    return (int(re.search(r"weights: (\d+) bytes", text).group(1)),
            int(re.search(r"arena: +(\d+) bytes", text).group(1)))


mode, paths = sys.argv[1], sys.argv[2:]
if mode == "heads":
    base, loss, magnitude = ppl(paths[0]), ppl(paths[1]), ppl(paths[2])
    program = ppl(paths[3])
    heads = sum(int(n) for n in re.findall(r"llm.self_attention .*num_heads = (\d+)",
                                          open(paths[4]).read()))
    print(f"{heads} of 40 query heads stay")
    print("loss+refit within 10 %", loss / base - 1 <= 0.10,
          f"({100 * (loss / base - 1):+.2f} %, magnitude "
          f"{100 * (magnitude / base - 1):+.2f} %)")
    print("loss+refit beats magnitude", loss < magnitude)
    print("program agrees with the interpreter", abs(program / loss - 1) < 1e-3)
elif mode == "layers":
    base, cheapest, worst = ppl(paths[0]), ppl(paths[1]), ppl(paths[2])
    print("the cheapest layer costs less than the last-ranked", cheapest < worst,
          f"({100 * (cheapest / base - 1):+.1f} % against "
          f"{100 * (worst / base - 1):+.1f} %)")
elif mode == "sizes":
    (float_weights, float_arena), (weights, arena) = map(sizes, paths)
    print("weights smaller", weights < float_weights, float_weights, weights)
    print("arena smaller", arena < float_arena, float_arena, arena)
