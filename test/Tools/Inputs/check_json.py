"""Checks that the compiler's and a program's --json reports share one
schema: each file holds one JSON object with "schema_version" 1, and every
key the compiler and the program both report has the same value.

usage: check_json.py COMPILER_JSON PROGRAM_JSON [KEY...]
KEY...: keys both must have (the shared facts under test)."""

import json
import sys

compiler = json.load(open(sys.argv[1]))
program = json.load(open(sys.argv[2]))
keys = sys.argv[3:]
problems = []
for name, report in (("compiler", compiler), ("program", program)):
    if report.get("schema_version") != 1:
        problems.append(f"{name} has schema_version {report.get('schema_version')!r}")
    for key in keys:
        if key not in report:
            problems.append(f"{name} lacks {key!r}")
for key in sorted(set(compiler) & set(program)):
    if compiler[key] != program[key]:
        problems.append(f"{key}: compiler {compiler[key]!r}, program {program[key]!r}")
print("\n".join(problems) if problems else f"same schema: {', '.join(keys)}")
sys.exit(1 if problems else 0)
