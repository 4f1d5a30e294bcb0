#!/usr/bin/env bash
# The main job: import and raise the default model (stories260K), print the
# raised module's summary, then its greedy continuation of "Once upon a time"
# on the reference interpreter.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
models="${MICROSCALE_MODELS:-$repo/../shared/models}"
model="$models/stories260K/model.onnx"
bin="${MICROSCALE_BUILD_DIR:-$repo/build}/bin"

"$bin/microscale" import "$model" --raise --summary
echo "greedy ids for prompt [1, 403, 407, 261, 378] (\"Once upon a time\"):"
"$bin/microscale" run "$model" --prompt-ids 1,403,407,261,378 -n 40

echo "compiling into build/stories:"
"$bin/microscale" compile "$model" -o "$bin/../stories" --max-context 512
"$bin/../stories" generate --prompt "Once upon a time" -n 40 --temperature 0
