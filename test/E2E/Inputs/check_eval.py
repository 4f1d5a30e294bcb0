"""Checks `microscale eval` of a model against itself: its JSON row and CSV
row agree, the perplexity is the program's own `perplexity --json` one, and
compression changed nothing (delta 0, KL 0, full agreement)."""

import csv
import json
import sys

row_path, csv_path, program_path, info_path = sys.argv[1:5]
row = json.load(open(row_path))
program = json.load(open(program_path))
info = json.load(open(info_path))
with open(csv_path, newline="") as f:
    csv_rows = list(csv.DictReader(f))

# The JSON report's schema version is not a CSV column.
schema_version = row.pop("schema_version", None)
checks = {
    "json has the schema version": schema_version == 1,
    "csv has one row with the JSON's columns":
        len(csv_rows) == 1 and list(csv_rows[0]) == list(row),
    # Speeds are measured again by each run.
    "csv values equal the JSON's":
        all(csv_rows[0][k] == row[k] if isinstance(row[k], str) else
            float(csv_rows[0][k]) == row[k]
            for k in row if not k.endswith("_tok_s")),
    "same tokens as perplexity": row["tokens"] == program["tokens"],
    "float ppl is perplexity's": row["float_ppl"] == program["ppl"],
    "compressed ppl is perplexity's": row["compressed_ppl"] == program["ppl"],
    "delta 0": row["delta_ppl_pct"] == 0,
    "kl 0": abs(row["mean_kl"]) <= 1e-9,
    "agreement 1": row["top1_agreement"] == 1,
    "weight bytes are the program's":
        row["float_weight_bytes"] == info["weight_bytes"]
        and row["compressed_weight_bytes"] == info["weight_bytes"],
    "bits per weight": abs(row["bits_per_weight"] - row["compressed_weight_bytes"]
                           * 8 / row["weight_params"]) < 1e-4,
    "executables hold the weights":
        row["float_exe_bytes"] > row["float_weight_bytes"]
        and row["compressed_exe_bytes"] > row["compressed_weight_bytes"],
    "speeds measured": all(row[k] > 0 for k in (
        "float_decode_tok_s", "compressed_decode_tok_s",
        "float_prefill_tok_s", "compressed_prefill_tok_s")),
}
for name, ok in checks.items():
    print(name, ok)
