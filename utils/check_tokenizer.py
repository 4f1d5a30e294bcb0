#!/usr/bin/env python3
"""Compares a compiled program's tokenizer with the reference implementation.

The program (made by `microscale compile`) encodes through its own runtime
code: `PROGRAM tokenize --file F`. The reference is SentencePiece
(python3-sentencepiece) for a `.model`, or the `gpt-3-encoder` npm package
(run with node; --gpt2-encoder-dir points at its node_modules folder) for
GPT-2. Each text file is compared whole and paragraph by paragraph (the first
--paragraphs ones); the first difference is printed and the exit is 1.
--prefix-chars N compares the file's first N characters (cut at a line end)
instead of the whole file: the npm reference needs minutes for a whole file.

  check_tokenizer.py --program P --sentencepiece tok.model FILE...
  check_tokenizer.py --program P --gpt2-encoder-dir DIR FILE...
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile


def program_ids(program, text_bytes, tmp):
    path = os.path.join(tmp, "text.txt")
    with open(path, "wb") as f:
        f.write(text_bytes)
    out = subprocess.run([program, "tokenize", "--file", path],
                         capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(f"{program} tokenize failed: {out.stderr}")
    line = out.stdout.strip()
    return [int(x) for x in line.split(",")] if line else []


class SentencePieceReference:
    def __init__(self, model):
        import sentencepiece
        self.sp = sentencepiece.SentencePieceProcessor(model_file=model)

    def encode_all(self, texts):
        return [self.sp.encode(t) for t in texts]


class GPT2Reference:
    def __init__(self, encoder_dir):
        self.dir = encoder_dir

    def encode_all(self, texts):
        script = ("const {encode} = require('gpt-3-encoder');"
                  "const texts = JSON.parse(require('fs').readFileSync(0));"
                  "process.stdout.write(JSON.stringify(texts.map(encode)));")
        out = subprocess.run(["node", "-e", script], input=json.dumps(texts),
                             capture_output=True, text=True,
                             cwd=self.dir)
        if out.returncode != 0:
            sys.exit(f"node gpt-3-encoder failed: {out.stderr}")
        return json.loads(out.stdout)


def first_difference(a, b):
    for i, (x, y) in enumerate(zip(a, b)):
        if x != y:
            return i
    return min(len(a), len(b))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--program", required=True)
    parser.add_argument("--sentencepiece")
    parser.add_argument("--gpt2-encoder-dir")
    parser.add_argument("--paragraphs", type=int, default=100)
    parser.add_argument("--prefix-chars", type=int, default=0)
    parser.add_argument("files", nargs="+")
    args = parser.parse_args()
    reference = (SentencePieceReference(args.sentencepiece)
                 if args.sentencepiece else GPT2Reference(args.gpt2_encoder_dir))

    with tempfile.TemporaryDirectory() as tmp:
        for path in args.files:
            with open(path, encoding="utf-8") as f:
                text = f.read()
            paragraphs = [p for p in text.split("\n\n") if p]
            if len(paragraphs) < args.paragraphs:  # one paragraph per line
                paragraphs = [p for p in text.split("\n") if p.strip()]
            paragraphs = paragraphs[:args.paragraphs]
            whole = "whole file"
            if args.prefix_chars and len(text) > args.prefix_chars:
                cut = text.rfind("\n", 0, args.prefix_chars) + 1
                text = text[:cut or args.prefix_chars]
                whole = f"first {len(text)} characters"
            texts = [text] + paragraphs
            expected = reference.encode_all(texts)
            tokens = 0
            for sample, want in zip(texts, expected):
                got = program_ids(args.program, sample.encode("utf-8"), tmp)
                if got != want:
                    i = first_difference(got, want)
                    sys.exit(f"{path}: ids differ at token {i} of a "
                             f"{len(sample)}-character sample:\n"
                             f"  got      {got[max(0, i - 3):i + 5]}\n"
                             f"  expected {want[max(0, i - 3):i + 5]}")
                tokens += len(want)
            print(f"{os.path.basename(path)}: {whole} ({len(expected[0])} "
                  f"ids) and {len(paragraphs)} paragraphs match "
                  f"({tokens} ids)")


if __name__ == "__main__":
    main()
