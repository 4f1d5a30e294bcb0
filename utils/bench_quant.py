#!/usr/bin/env python3
"""Benchmarks weight quantization: quality on stories260K, speed against
ONNX Runtime's own quantized models on synthetic-llama-15M.

--quality compiles stories260K once per setting (one after another), scores
the whole TinyStories validation file at --ctx 256 with each program at one
thread, and prints weight bytes, bits per weight, perplexity and its change
against the float program. A setting is NAME=FLAGS (compile flags; the text
{calibration} stands for the --calibration file); --settings replaces the
default list, the float program is always the reference.

--speed compiles our float, int8 and 4-bit programs and makes ONNX Runtime's
int8 (quantize_dynamic, per channel) and 4-bit (MatMulNBits, blocks of 32,
symmetric, accuracy_level 4) models from the same model.onnx in a temporary
folder, then times prefill and decode at each thread count, our program and
ONNX Runtime alternating run by run (median of --runs). Ratios are ours /
ONNX Runtime for the same kind of quantization.

Both modes print a Markdown table and the command lines they ran ($TMP is
the temporary folder).

  build/venv/bin/python utils/bench_quant.py --quality [--jobs 2]
      [--settings 'q4 awq=--quantize q4_g32_asym --quantize-method awq
                   --calibration {calibration}' ...]
  build/venv/bin/python utils/bench_quant.py --speed [--runs 5]
      [--threads 1,2] [--speed-settings int8,int8_a8]

--speed needs ONNX Runtime's quantization tools, which import onnx >= 1.13,
onnx_ir and ml_dtypes besides numpy (Debian 12's python3-onnx is 1.12):
  python3 -m venv --system-site-packages /tmp/ortq
  /tmp/ortq/bin/pip install onnxruntime 'onnx>=1.13' onnx_ir ml_dtypes
"""
import argparse
import json
import logging
import os
import re
import shlex
import statistics
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor

from bench import HERE, MODELS, ort_runner

MODELS = os.path.normpath(MODELS)
DATA = os.path.normpath(os.path.join(MODELS, "..", "data"))
TINYSTORIES = os.path.join(DATA, "tinystories-valid",
                           "tinystories_valid_part1.txt")
WIKITEXT = os.path.join(DATA, "wikitext-2-raw-test", "wiki.test.part1.raw")
STORIES = os.path.join(MODELS, "stories260K", "model.onnx")
LLAMA15M = os.path.join(MODELS, "synthetic-llama-15M", "model.onnx")
TOKENIZER_32K = os.path.join(MODELS, "llama2c-tokenizer-32k",
                             "tokenizer.model")
CALIBRATED = "--quantize-method {} --calibration {{calibration}}"


def default_settings():
    """(name, flags) pairs: float, int8 by every method (calibrated on
    --calibration), 4-bit and 3-bit formats on the layer matrices
    (calibrated on text the model samples itself, and on --calibration)."""
    settings = [("float", ""), ("int8 RTN", "--quantize int8")]
    for method in ("awq", "clip", "gptq", "refit", "clip+gptq", "calibrated"):
        settings.append((f"int8 {method}",
                         "--quantize int8 " + CALIBRATED.format(method)))
    self_calibrated = "--quantize-method {} --calibration self"
    for fmt in ("q4_g32_sym", "q4_g64_asym", "q4_g32_asym",
                "q4_g32_asym_log8"):
        flags = f"--quantize {fmt} --quantize-weights linears"
        settings.append((f"{fmt} linears RTN", flags))
        if fmt == "q4_g32_asym_log8":
            settings.append((f"{fmt} linears gptq (self)", flags + " " +
                             self_calibrated.format("gptq")))
            settings.append((f"{fmt} linears calibrated (WikiText)",
                             flags + " " + CALIBRATED.format("calibrated")))
        settings.append((f"{fmt} linears calibrated (self)",
                         flags + " " + self_calibrated.format("calibrated")))
    settings.append(("q4_g32_asym_log8 all calibrated (self)",
                     "--quantize q4_g32_asym_log8 " +
                     self_calibrated.format("calibrated")))
    settings.append(("q3_g32_asym linears calibrated (self)",
                     "--quantize q3_g32_asym --quantize-weights linears " +
                     self_calibrated.format("calibrated")))
    return settings


def parse_setting(text):
    name, sep, flags = text.partition("=")
    if not sep or not name.strip():
        raise argparse.ArgumentTypeError(f"expected NAME=FLAGS, got '{text}'")
    return name.strip(), flags.strip()


class Commands:
    """Runs commands and remembers them, temporary paths shown as $TMP."""

    def __init__(self, tmp):
        self.tmp, self.lines = tmp, []

    def show(self, cmd):
        line = shlex.join(cmd).replace(self.tmp, "$TMP")
        if line not in self.lines:
            self.lines.append(line)

    def run(self, cmd, **kwargs):
        self.show(cmd)
        return subprocess.run(cmd, capture_output=True, text=True, **kwargs)

    def print(self):
        print("\nCommands:\n```")
        print("\n".join(self.lines))
        print("```")


def element_bytes(element):
    """Bytes of one element of an MLIR element type (i8, f16, f32...)."""
    return max(1, int(re.search(r"\d+", element).group()) // 8)


TENSOR = re.compile(r"tensor<((?:\d+x)*)(\w+)")
WEIGHT = re.compile(r'^\s*(%\d+) = llm\.weight "[^"]*" : (.*)$')


def tensor_size(match, of_bytes):
    count = 1
    for dim in match.group(1).split("x")[:-1]:
        count *= int(dim)
    return count * element_bytes(match.group(2)) if of_bytes else count


def weight_inventory(module):
    """{ssa: (rank, parameters, stored bytes)} and the embedding/logits tables
    of a raised module, as `microscale import --raise` prints it."""
    weights, tables = {}, set()
    for line in module.splitlines():
        match = WEIGHT.match(line)
        if match:
            declared, _, storage = match.group(2).partition(" = ")
            logical = TENSOR.search(declared)
            stored = list(TENSOR.finditer(storage)) or [logical]
            # Logarithmic scales also store their matrix's float scale_max.
            weights[match.group(1)] = (
                logical.group(1).count("x"), tensor_size(logical, False),
                sum(tensor_size(m, True) for m in stored) +
                (4 if "scale_max" in match.group(2) else 0))
            continue
        use = re.search(r"llm\.embedding (%\d+)|llm\.logits %\d+, (%\d+)",
                        line)
        if use:
            tables.add(use.group(1) or use.group(2))
    return weights, tables


def weight_counts(commands, microscale, onnx, flags):
    """Parameters and stored bytes of all weights and of the linears: the
    matrices inside the layers (every 2-D weight but the embedding and
    logits tables), counted from the raised module with the same flags."""
    result = commands.run([microscale, "import", onnx, "--raise"] + flags)
    if result.returncode:
        return None
    weights, tables = weight_inventory(result.stdout)
    linears = [w for ssa, w in weights.items()
               if w[0] == 2 and ssa not in tables]
    return {"params": sum(w[1] for w in weights.values()),
            "bytes": sum(w[2] for w in weights.values()),
            "linear_params": sum(w[1] for w in linears),
            "linear_bytes": sum(w[2] for w in linears)}


def compile_program(commands, microscale, onnx, flags, program):
    """Compiles; returns the weight bytes `compile` reports, or the error."""
    result = commands.run([microscale, "compile", onnx, "-o", program] +
                          flags)
    if result.returncode:
        lines = result.stderr.strip().splitlines() or ["compile failed"]
        return lines[-1]
    return int(re.search(r"weights:\s+(\d+) bytes", result.stderr).group(1))


def perplexity(commands, program, data):
    result = commands.run([program, "perplexity", "--file", data, "--ctx",
                           "256", "--json", "--threads", "1"])
    if result.returncode:
        return result.stderr.strip().splitlines()[-1]
    return json.loads(result.stdout)["ppl"]


def quality_row(name, weights, counts, ppl, reference):
    """One Markdown row; a failed step shows its error in its column."""
    if not isinstance(weights, int):
        return f"| {name} | error: {weights} |" + " |" * 5
    linear_bits = all_bits = "?"
    if counts and counts["bytes"] == weights:
        linear_bits = 8 * counts["linear_bytes"] / counts["linear_params"]
        linear_bits = f"{linear_bits:.2f}"
        all_bits = f"{8 * weights / counts['params']:.2f}"
    cells = [name, weights, linear_bits, all_bits,
             f"{100 * weights / reference[0]:.1f}"]
    if not isinstance(ppl, float):
        cells += [f"error: {ppl}", ""]
    else:
        delta = (f"{100 * (ppl / reference[1] - 1):+.3f}"
                 if isinstance(reference[1], float) else "?")
        cells += [f"{ppl:.6f}", delta]
    return "| " + " | ".join(str(c) for c in cells) + " |"


def build_settings(commands, args, settings, tmp):
    """Compiles each setting in turn: [(name, weight bytes or error,
    weight counts, program)]."""
    built = []
    for i, (name, flags) in enumerate(settings):
        flags = shlex.split(flags.replace("{calibration}", args.calibration))
        program = os.path.join(tmp, f"setting{i}")
        weights = compile_program(commands, args.microscale, STORIES, flags,
                                  program)
        counts = weight_counts(commands, args.microscale, STORIES, flags)
        built.append((name, weights, counts, program))
    return built


def quality(args):
    settings = [("float", "")] + [s for s in args.settings or
                                  default_settings()[1:] if s[0] != "float"]
    with tempfile.TemporaryDirectory(prefix="bench_quant-") as tmp:
        commands = Commands(tmp)
        built = build_settings(commands, args, settings, tmp)
        with ThreadPoolExecutor(max_workers=args.jobs) as pool:
            ppls = list(pool.map(
                lambda b: perplexity(commands, b[3], args.data)
                if isinstance(b[1], int) else None, built))
    reference = (built[0][1], ppls[0])
    print("| setting | weight bytes | bits/weight (linears) | "
          "bits/weight (all) | % of float bytes | perplexity | ΔPPL % |")
    print("|" + " --- |" * 7)
    for (name, weights, counts, _), ppl in zip(built, ppls):
        print(quality_row(name, weights, counts, ppl, reference))
    print("\nBits per weight = 8 x stored bytes (codes, scales, zero points) "
          "/ parameters. Linears: the matrices inside the layers (every 2-D "
          "weight but the embedding and logits tables). All: every weight "
          "the program stores (a tied table once, norm gains included); "
          "'?' when this count disagrees with the bytes `compile` reports.")
    commands.print()


def make_ort_models(commands, onnx, tmp):
    """ONNX Runtime's int8 and 4-bit models of `onnx`, written under tmp."""
    import onnx as onnxlib
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from onnxruntime.quantization.matmul_nbits_quantizer import (
        MatMulNBitsQuantizer)
    logging.disable(logging.INFO)  # the quantizers log every node they visit
    int8 = os.path.join(tmp, "ort-int8.onnx")
    commands.lines.append(f"quantize_dynamic({onnx!r}, '$TMP/ort-int8.onnx', "
                          "per_channel=True, weight_type=QuantType.QInt8)")
    quantize_dynamic(onnx, int8, per_channel=True,
                     weight_type=QuantType.QInt8)
    q4 = os.path.join(tmp, "ort-q4.onnx")
    commands.lines.append(f"MatMulNBitsQuantizer(onnx.load({onnx!r}), "
                          "block_size=32, is_symmetric=True, "
                          "accuracy_level=4).process(); onnx.save(..., "
                          "'$TMP/ort-q4.onnx')")
    quantizer = MatMulNBitsQuantizer(onnxlib.load(onnx), block_size=32,
                                     is_symmetric=True, accuracy_level=4)
    quantizer.process()
    onnxlib.save(quantizer.model.model, q4)
    logging.disable(logging.NOTSET)
    return {"float32": onnx, "int8": int8, "q4_g32_sym": q4}


# (our setting, the ONNX Runtime model it is compared with, compile flags).
# `_a8` settings quantize activations to 8 bits as ONNX Runtime's int8 and
# accuracy_level=4 kernels do; the others keep them float.
SPEED_SETTINGS = [
    ("float32", "float32", []),
    ("int8", "int8", ["--quantize", "int8", "--quantize-weights", "all"]),
    ("int8_a8", "int8", ["--quantize", "int8_a8", "--quantize-weights",
                         "all"]),
    ("q4_g32_sym", "q4_g32_sym", ["--quantize", "q4_g32_sym",
                                  "--quantize-weights", "all"]),
    ("q4_g32_sym_a8", "q4_g32_sym", ["--quantize", "q4_g32_sym_a8",
                                     "--quantize-weights", "all"]),
    ("q4_g32_asym_log8_a8", "q4_g32_sym", ["--quantize",
                                           "q4_g32_asym_log8_a8",
                                           "--quantize-weights", "all"]),
]


def our_programs(commands, microscale, onnx, tmp, names):
    """Our programs per setting: {name: (path, weight bytes from `info`,
    ONNX Runtime kind)}."""
    programs = {}
    for name, kind, flags in SPEED_SETTINGS:
        if names and name not in names:
            continue
        program = os.path.join(tmp, name)
        compiled = compile_program(
            commands, microscale, onnx,
            ["--max-context", "256", "--tokenizer", TOKENIZER_32K] + flags,
            program)
        if not isinstance(compiled, int):
            sys.exit(f"bench_quant: compiling {name} failed: {compiled}")
        info = commands.run([program, "info", "--json"], check=True)
        programs[name] = (program, json.loads(info.stdout)["weight_bytes"],
                          kind)
    return programs


def our_run(commands, program, threads, args):
    """One timed generation of our program: (prefill, decode, peak RSS)."""
    cmd = [program, "bench", "--json", "--threads", str(threads), "--runs",
           "1", "--prompt-tokens", str(args.prompt_tokens), "--gen-tokens",
           str(args.gen_tokens)]
    result = commands.run(cmd, check=True)
    data = json.loads(result.stdout)
    return (data["prefill_tokens_per_s"], data["decode_tokens_per_s"],
            data["peak_rss_bytes"])


def alternate(commands, programs, ort_models, threads, args):
    """Medians per kind, ours and ONNX Runtime alternating run by run
    (after one untimed warm-up run of each)."""
    runners = {kind: ort_runner(path, threads, args.prompt_tokens,
                                args.gen_tokens)
               for kind, path in ort_models.items()}
    times = {name: ([], []) for name in programs}
    for run in range(args.runs + 1):
        for name, (program, _, kind) in programs.items():
            ours = our_run(commands, program, threads, args)
            theirs = runners[kind]()
            if run:
                times[name][0].append(ours)
                times[name][1].append(theirs)
    return {name: ([statistics.median(x) for x in zip(*ours)],
                   [statistics.median(x) for x in zip(*theirs)])
            for name, (ours, theirs) in times.items()}


def speed_rows(results, programs, ort_models, threads):
    ort_float = os.path.getsize(ort_models["float32"])
    our_float = programs["float32"][1]
    rows = []
    for name, (ours, theirs) in results.items():
        kind = programs[name][2]
        ort_bytes = os.path.getsize(ort_models[kind])
        ours_bytes = programs[name][1]
        rows.append(
            f"| {name} | {kind} | {threads} | {ours[0]:.0f} | {theirs[0]:.0f} | "
            f"{ours[0] / theirs[0]:.2f}x | "
            f"{ours[0] / results['float32'][0][0]:.2f}x | {ours[1]:.0f} | "
            f"{theirs[1]:.0f} | {ours[1] / theirs[1]:.2f}x | "
            f"{ours[2] / 1e6:.1f} | {ours_bytes} | "
            f"{100 * ours_bytes / our_float:.1f} | {ort_bytes} | "
            f"{100 * ort_bytes / ort_float:.1f} |")
    return rows


def speed(args):
    try:  # the quantizers also need onnx >= 1.13, onnx_ir and ml_dtypes
        import onnxruntime
        import onnxruntime.quantization.matmul_nbits_quantizer  # noqa: F401
    except ImportError as error:
        print(f"bench_quant: --speed needs ONNX Runtime and its quantization "
              f"tools: {error}", file=sys.stderr)
        sys.exit(1)
    with tempfile.TemporaryDirectory(prefix="bench_quant-") as tmp:
        commands = Commands(tmp)
        programs = our_programs(commands, args.microscale, LLAMA15M, tmp,
                                ["float32"] + args.speed_settings
                                if args.speed_settings else None)
        ort_models = make_ort_models(commands, LLAMA15M, tmp)
        rows = []
        for threads in args.threads:
            results = alternate(commands, programs, ort_models, threads, args)
            rows += speed_rows(results, programs, ort_models, threads)
    print_speed(rows, args, onnxruntime.__version__)
    commands.print()


def print_speed(rows, args, version):
    print("| weights | ORT weights | threads | prefill tok/s | "
          "ORT prefill tok/s | "
          "prefill vs ORT | prefill vs our float32 | decode tok/s | "
          "ORT decode tok/s | decode vs ORT | peak RSS MB | weight bytes | "
          "% of float32 | ORT .onnx bytes | ORT % of float32 |")
    print("|" + " --- |" * 15)
    print("\n".join(rows))
    print(f"\nsynthetic-llama-15M, prompt {args.prompt_tokens} + "
          f"{args.gen_tokens} generated tokens, median of {args.runs} runs, "
          f"ours and ONNX Runtime {version} alternating run by run. Ours "
          "quantize every weight (linears, embedding, logits); ORT's "
          "quantize_dynamic quantizes MatMul and Gather (the embedding), "
          "MatMulNBitsQuantizer MatMul only (the embedding stays float32). "
          "ORT's bytes are .onnx file sizes, the graph included and a table "
          "the file holds twice counted twice (ours store a tied table "
          "once); each % is against the same engine's float32.")


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--quality", action="store_true")
    mode.add_argument("--speed", action="store_true")
    parser.add_argument("--microscale", default=os.path.normpath(
        os.path.join(HERE, "..", "build", "bin", "microscale")))
    parser.add_argument("--settings", action="append", type=parse_setting,
                        metavar="NAME=FLAGS")
    parser.add_argument("--data", default=TINYSTORIES)
    parser.add_argument("--calibration", default=WIKITEXT)
    parser.add_argument("--jobs", type=int, default=1,
                        help="perplexity runs at once (the machine is shared)")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--speed-settings", default=None,
                        type=lambda s: s.split(","),
                        help="--speed: comma-separated names of "
                        "SPEED_SETTINGS to time besides float32 (default: "
                        "all)")
    parser.add_argument("--threads", default=[1], type=lambda s: [
        int(t) for t in s.split(",")])
    parser.add_argument("--prompt-tokens", type=int, default=128)
    parser.add_argument("--gen-tokens", type=int, default=64)
    args = parser.parse_args()
    print("`" + shlex.join(["python3"] + sys.argv) + "`\n")
    return quality(args) if args.quality else speed(args)


if __name__ == "__main__":
    main()
