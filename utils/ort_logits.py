#!/usr/bin/env python3
"""Writes ONNX Runtime's logits for a token sequence (the differential test's
independent reference): little-endian float32 [len(ids), vocab], row t =
logits after ids 0..t, from one full-sequence call with an empty KV cache.

  ort_logits.py MODEL.onnx --ids 1,403,407 --out logits.f32
"""
import argparse

import numpy as np
import onnxruntime as ort


def ort_logits(path, ids):
    """ONNX Runtime's logits [len(ids), vocab] for `ids` in one call with an
    empty KV cache; RuntimeError for a model input it does not know."""
    session = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    n = len(ids)
    feeds = {}
    for i in session.get_inputs():
        if i.name == "input_ids":
            feeds[i.name] = np.array([ids], dtype=np.int64)
        elif i.name == "attention_mask":
            feeds[i.name] = np.ones((1, n), dtype=np.int64)
        elif i.name == "position_ids":
            feeds[i.name] = np.arange(n, dtype=np.int64)[None]
        elif i.name.startswith("past_key_values"):
            feeds[i.name] = np.zeros((1, i.shape[1], 0, i.shape[3]),
                                     dtype=np.float32)
        else:
            raise RuntimeError(f"unexpected model input '{i.name}'")
    return session.run([session.get_outputs()[0].name], feeds)[0][0]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("model")
    parser.add_argument("--ids", required=True)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    ids = [int(x) for x in args.ids.split(",")]
    try:
        logits = ort_logits(args.model, ids)
    except RuntimeError as error:
        raise SystemExit(str(error))
    logits.astype("<f4").tofile(args.out)


if __name__ == "__main__":
    main()
