# -*- Python -*-
# lit configuration for the Microscale regression and end-to-end tests.

import os
import shutil
import subprocess

import lit.formats
from lit.llvm import llvm_config
from lit.llvm.subst import ToolSubst

config.name = "MICROSCALE"
config.test_format = lit.formats.ShTest(not llvm_config.use_lit_shell)
config.suffixes = [".mlir", ".test"]
config.excludes = ["Inputs", "lit.cfg.py", "lit.site.cfg.py", "CMakeLists.txt"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.microscale_obj_root, "test")

# Models live outside the repository; MICROSCALE_MODELS overrides the folder.
models = os.environ.get("MICROSCALE_MODELS", config.microscale_models_dir)
config.substitutions.append(("%models", models))
config.substitutions.append(("%python", "/usr/bin/python3"))
config.substitutions.append(("%utils", os.path.join(config.microscale_src_root, "utils")))
config.substitutions.append(
    ("%microscale_unittests", os.path.join(config.microscale_tools_dir, "MicroscaleUnitTests")))
config.substitutions.append(("%inputs", os.path.join(config.test_source_root, "Inputs")))
# ONNX Runtime for differential tests: the virtual environment
# utils/setup.sh makes in the build folder (system packages plus PyPI's
# onnxruntime).
ort_python = os.path.join(config.microscale_obj_root, "venv", "bin", "python3")
if os.path.exists(ort_python) and subprocess.run(
        [ort_python, "-c", "import onnxruntime"], capture_output=True).returncode == 0:
    config.available_features.add("onnxruntime")
    config.substitutions.append(("%ort_python", ort_python))
if subprocess.run(["/usr/bin/python3", "-c", "import torch"],
                  capture_output=True).returncode == 0:
    config.available_features.add("torch")
# The GPT-2 reference encoder utils/setup.sh installs with npm.
gpt2_encoder = os.path.join(config.microscale_obj_root, "npm")
if shutil.which("node") and os.path.isfile(
        os.path.join(gpt2_encoder, "node_modules", "gpt-3-encoder", "package.json")):
    config.available_features.add("gpt2-encoder")
    config.substitutions.append(("%gpt2_encoder_dir", gpt2_encoder))
# The libFuzzer targets, built where the compiler can link them.
fuzz_import = os.path.join(config.microscale_tools_dir, "microscale-fuzz-import")
if os.path.exists(fuzz_import):
    config.available_features.add("fuzzer")
    for name in ("import", "tokenizer", "program"):
        config.substitutions.append(
            ("%microscale_fuzz_" + name,
             os.path.join(config.microscale_tools_dir, "microscale-fuzz-" + name)))
if os.path.isdir(os.path.join(models, "stories260K")):
    config.available_features.add("models")
# Programs the build compiles once for all end-to-end tests (test/CMakeLists).
for name in ("stories", "stories_int8", "stories_q4", "optimum", "gpt2", "s15"):
    config.substitutions.append(
        ("%" + name + "_program", os.path.join(config.microscale_programs_dir, name)))

# Sanitized builds: Debian's MLIR libraries are not instrumented, and LLVM's
# allocators poison memory only in instrumented inline code, which then
# reports the uninstrumented library's accesses. Real ASan checks (heap,
# stack, leaks) stay on; UBSan stops at the first error.
if config.sanitizers.upper() in ("ON", "1", "TRUE", "YES"):
    config.available_features.add("asan")
    config.environment["ASAN_OPTIONS"] = "allow_user_poisoning=0"
    config.environment["UBSAN_OPTIONS"] = "print_stacktrace=1:halt_on_error=1"

llvm_config.use_default_substitutions()
llvm_config.with_environment("PATH", config.llvm_tools_dir, append_path=True)
tools = [
    ToolSubst("microscale", unresolved="fatal"),
    ToolSubst("microscale-opt", unresolved="fatal"),
]
llvm_config.add_tool_substitutions(tools, [config.microscale_tools_dir])
