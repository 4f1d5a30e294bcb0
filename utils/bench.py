#!/usr/bin/env python3
"""Benchmarks compiled programs against ONNX Runtime on the same ONNX files.

For each model: compile time, executable size against weight bytes,
start-up time (`info`), and prefill/decode tokens/s with peak RSS at 1 and
2 threads (the program's own `bench`, median of --runs), next to ONNX
Runtime running the same model.onnx with its KV cache at the same thread
count. Prints a Markdown table; ratios are program / ONNX Runtime.

  python3 -m pip install onnxruntime numpy   # once, for the peer
  python3 utils/bench.py [--microscale build/bin/microscale] [--runs 5]
  python3 utils/bench.py --perplexity   # whole-file perplexity, program vs
                                        # reference interpreter (minutes)
"""
import argparse
import json
import os
import statistics
import subprocess
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
MODELS = os.environ.get("MICROSCALE_MODELS",
                        os.path.join(HERE, "..", "..", "shared", "models"))


def ort_runner(model, threads, prompt, gen):
    """A function timing one greedy generation on ONNX Runtime per call.

    The session (and its KV-cache plumbing) is built once, so callers can
    interleave single runs with other engines: (prefill tok/s, decode tok/s).
    """
    import numpy as np
    import onnxruntime as ort
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    session = ort.InferenceSession(model, options,
                                   providers=["CPUExecutionProvider"])
    inputs = {i.name: i for i in session.get_inputs()}
    past = [n for n in inputs if n.startswith("past_key_values")]
    vocab = session.get_outputs()[0].shape[-1]

    def feed(ids, cache, start):
        n = len(ids)
        feeds = {"input_ids": np.array([ids], dtype=np.int64)}
        if "attention_mask" in inputs:
            feeds["attention_mask"] = np.ones((1, start + n), dtype=np.int64)
        if "position_ids" in inputs:
            feeds["position_ids"] = np.arange(start, start + n,
                                              dtype=np.int64)[None]
        for name in past:
            shape = inputs[name].shape
            feeds[name] = cache.get(name, np.zeros(
                (1, shape[1], 0, shape[3]), dtype=np.float32))
        outputs = session.run(None, feeds)
        names = [o.name for o in session.get_outputs()]
        new_cache = {}
        for name, value in zip(names[1:], outputs[1:]):
            new_cache[name.replace("present", "past_key_values")] = value
        return outputs[0], new_cache

    ids = [(i * 7919 + 3) % vocab for i in range(prompt)]

    def run():
        t0 = time.perf_counter()
        logits, cache = feed(ids, {}, 0)
        t1 = time.perf_counter()
        token = int(np.argmax(logits[0, -1]))
        for i in range(gen):
            logits, cache = feed([token], cache, prompt + i)
            token = int(np.argmax(logits[0, -1]))
        t2 = time.perf_counter()
        return prompt / (t1 - t0), gen / (t2 - t1)
    return run


def ort_bench(model, threads, prompt, gen, runs):
    run = ort_runner(model, threads, prompt, gen)
    prefill, decode = zip(*(run() for _ in range(runs)))
    return statistics.median(prefill), statistics.median(decode)


def whole_file_perplexity(microscale):
    """The long form of test/E2E/perplexity.test: the whole file."""
    text = os.path.join(MODELS, "..", "data", "tinystories-valid",
                        "tinystories_valid_part1.txt")
    onnx = os.path.join(MODELS, "stories260K", "model.onnx")
    with tempfile.TemporaryDirectory() as tmp:
        program = os.path.join(tmp, "stories")
        subprocess.run([microscale, "compile", onnx, "-o", program,
                        "--max-context", "512"], check=True,
                       capture_output=True)
        t0 = time.perf_counter()
        scored = json.loads(subprocess.run(
            [program, "perplexity", "--file", text, "--ctx", "256", "--json"],
            check=True, capture_output=True, text=True).stdout)
        program_s = time.perf_counter() - t0
        ids = os.path.join(tmp, "ids")
        with open(ids, "w") as f:
            subprocess.run([program, "tokenize", "--file", text, "--bos"],
                           check=True, stdout=f)
        t0 = time.perf_counter()
        reference = json.loads(subprocess.run(
            [microscale, "perplexity", onnx, "--ids", ids, "--ctx", "256",
             "--json"], check=True, capture_output=True, text=True).stdout)
        reference_s = time.perf_counter() - t0
    print("| scorer | tokens | windows | perplexity | seconds |")
    print("| --- | --- | --- | --- | --- |")
    print(f"| program | {scored['tokens']} | {scored['windows']} | "
          f"{scored['ppl']:.6f} | {program_s:.1f} |")
    print(f"| reference interpreter | {reference['tokens']} | "
          f"{reference['windows']} | {reference['ppl']:.6f} | "
          f"{reference_s:.1f} |")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--microscale",
                        default=os.path.join(HERE, "..", "build", "bin",
                                             "microscale"))
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--prompt-tokens", type=int, default=128)
    parser.add_argument("--gen-tokens", type=int, default=64)
    parser.add_argument("--perplexity", action="store_true",
                        help="score the whole TinyStories validation file "
                        "(stories260K, --ctx 256) with the program and the "
                        "reference interpreter instead of timing")
    args = parser.parse_args()
    if args.perplexity:
        return whole_file_perplexity(args.microscale)
    models = [
        ("stories260K", os.path.join(MODELS, "stories260K", "model.onnx"), []),
        ("synthetic-llama-15M",
         os.path.join(MODELS, "synthetic-llama-15M", "model.onnx"),
         ["--tokenizer", os.path.join(MODELS, "llama2c-tokenizer-32k",
                                      "tokenizer.model")]),
    ]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name, onnx, extra in models:
            program = os.path.join(tmp, name)
            t0 = time.perf_counter()
            subprocess.run([args.microscale, "compile", onnx, "-o", program,
                            "--max-context", "256"] + extra, check=True,
                           capture_output=True)
            compile_s = time.perf_counter() - t0
            info = json.loads(subprocess.run(
                [program, "info", "--json"], check=True, capture_output=True,
                text=True).stdout)
            starts = []
            for _ in range(args.runs):
                t0 = time.perf_counter()
                subprocess.run([program, "info"], check=True,
                               capture_output=True)
                starts.append(time.perf_counter() - t0)
            size = os.path.getsize(program)
            for threads in (1, 2):
                bench = json.loads(subprocess.run(
                    [program, "bench", "--threads", str(threads), "--json",
                     "--runs", str(args.runs),
                     "--prompt-tokens", str(args.prompt_tokens),
                     "--gen-tokens", str(args.gen_tokens)],
                    check=True, capture_output=True, text=True).stdout)
                ort_prefill, ort_decode = ort_bench(
                    onnx, threads, args.prompt_tokens, args.gen_tokens,
                    args.runs)
                rows.append((name, threads, compile_s, size,
                             info["weight_bytes"],
                             statistics.median(starts) * 1000,
                             bench["prefill_tokens_per_s"],
                             bench["decode_tokens_per_s"],
                             bench["peak_rss_bytes"], ort_prefill,
                             ort_decode))
    print("| model | threads | compile s | exe bytes | weight bytes | "
          "exe - weights | start-up ms | prefill tok/s | decode tok/s | "
          "peak RSS MB | ORT prefill tok/s | ORT decode tok/s | "
          "decode vs ORT |")
    print("|" + " --- |" * 13)
    for (name, threads, compile_s, size, weights, start, prefill, decode,
         rss, ort_prefill, ort_decode) in rows:
        print(f"| {name} | {threads} | {compile_s:.1f} | {size} | {weights} | "
              f"{size - weights} | {start:.1f} | {prefill:.0f} | "
              f"{decode:.0f} | {rss / 1e6:.1f} | {ort_prefill:.0f} | "
              f"{ort_decode:.0f} | {decode / ort_decode:.2f}x |")


if __name__ == "__main__":
    main()
