//===- microscale.cpp - the Microscale driver -------------------*- C++ -*-===//
//
// Part of the Microscale project.
//
// `microscale import` brings an ONNX model to the onnx or llm level;
// `microscale run` executes a model on the reference interpreter;
// `microscale compile` turns a model into a self-contained native program;
// `microscale tokenize` / `detokenize` run the model's tokenizer.
//
//===----------------------------------------------------------------------===//

#include "Driver.h"

#include "microscale/Conversion/Passes.h"
#include "microscale/Dialect/LLM/IR/LLMDialect.h"
#include "microscale/Dialect/LLM/IR/LLMOps.h"
#include "microscale/Dialect/LLM/Transforms/Passes.h"
#include "microscale/Dialect/ONNX/IR/ONNXDialect.h"
#include "microscale/Import/ONNXImporter.h"
#include "microscale/Pipelines/Compress.h"
#include "microscale/Pipelines/Pipelines.h"
#include "microscale/Reference/Interpreter.h"
#include "microscale/Support/RegularFile.h"
#include "microscale/Target/Target.h"
#include "microscale/Tokenizer/Encode.h"
#include "microscale/Tokenizer/TokenizerTables.h"
#include "microscale/Version.h"
#include "microscale/report.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/AsmState.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Support/FileUtilities.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Config/llvm-config.h"
#include "llvm/IR/LLVMContext.h"
#include "llvm/IR/Module.h"
#include "llvm/Support/BLAKE3.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FileUtilities.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Support/ToolOutputFile.h"
#include "llvm/Support/WithColor.h"

#include <map>

using namespace mlir;
using namespace mlir::microscale;
namespace cl = llvm::cl;
using namespace mlir::microscale::driver;

namespace {
cl::SubCommand importCmd("import", "Import an ONNX model and print it");
cl::SubCommand runCmd("run", "Run a model on the reference interpreter");
cl::SubCommand perplexityCmd("perplexity",
                             "Score a text (or token ids) on the reference "
                             "interpreter");
cl::SubCommand compileCmd("compile", "Compile a model into a native program");
cl::SubCommand tokenizeCmd("tokenize",
                           "Print the ids the model's tokenizer gives a text");
cl::SubCommand detokenizeCmd("detokenize",
                             "Print the text of token ids with the model's "
                             "tokenizer");
cl::SubCommand
    evalCmd("eval",
            "Compare a compressed model with the float model: perplexity on "
            "the same ids, KL and top-1 agreement vs float, sizes, tokens/s "
            "at 1 thread (bits per weight = compressed weight bytes x 8 / "
            "weight parameters of the float model)");

// import
cl::opt<std::string> importInput(cl::Positional, cl::desc("<model.onnx>"),
                                 cl::Required, cl::sub(importCmd));
cl::opt<std::string> outputFile("o", cl::desc("Output file (default: stdout)"),
                                cl::init("-"), cl::sub(importCmd));
cl::opt<bool> raise("raise", cl::desc("Raise to the llm dialect"),
                    cl::sub(importCmd));
cl::opt<bool> printWeights("print-weights",
                           cl::desc("Print weight blobs instead of eliding"),
                           cl::sub(importCmd));
cl::opt<bool> summaryOnly("summary",
                          cl::desc("Print a summary of the module instead of "
                                   "the module"),
                          cl::sub(importCmd));
cl::opt<bool> importJson("json",
                         cl::desc("With --summary: print one JSON object"),
                         cl::sub(importCmd));

// run
cl::opt<std::string> runInput(cl::Positional,
                              cl::desc("<model.onnx | model.mlir>"),
                              cl::Required, cl::sub(runCmd));
cl::opt<std::string> promptIds("prompt-ids",
                               cl::desc("Comma-separated prompt token ids"),
                               cl::sub(runCmd));
cl::opt<std::string>
    promptText("prompt",
               cl::desc("Prompt text, tokenized with the model's tokenizer "
                        "(prints text, as the program's greedy generate)"),
               cl::sub(runCmd));
cl::opt<bool> printText("text",
                        cl::desc("Print the prompt and continuation as text "
                                 "(stops at end of sequence)"),
                        cl::sub(runCmd));
cl::opt<int> numTokens("n", cl::desc("Number of tokens to generate"),
                       cl::init(16), cl::sub(runCmd));
cl::opt<bool> jsonOutput("json", cl::desc("Print one JSON object"),
                         cl::sub(runCmd));
cl::opt<std::string> logitsFile(
    "logits",
    cl::desc("Write the float32 logits of every prompt position to this file"),
    cl::sub(runCmd));

// perplexity
cl::opt<std::string> perplexityInput(cl::Positional,
                                     cl::desc("<model.onnx | model.mlir>"),
                                     cl::Required, cl::sub(perplexityCmd));
cl::opt<std::string>
    idsFile("ids",
            cl::desc("File of comma-separated token ids (as a compiled "
                     "program's `tokenize --bos` prints them)"),
            cl::sub(perplexityCmd));
cl::opt<std::string>
    textFile("file",
             cl::desc("Text file to score (- for stdin), tokenized as the "
                      "program's perplexity does"),
             cl::sub(perplexityCmd), cl::sub(tokenizeCmd));
cl::opt<int64_t> windowSize("ctx", cl::desc("Window length in tokens"),
                            cl::Required, cl::sub(perplexityCmd));
cl::opt<bool> perplexityJson("json", cl::desc("Print one JSON object"),
                             cl::sub(perplexityCmd));

// compile
cl::opt<std::string> compileInput(cl::Positional,
                                  cl::desc("<model.onnx | model.mlir>"),
                                  cl::Required, cl::sub(compileCmd));
cl::opt<std::string>
    compileOutput("o",
                  cl::desc("Output file (- for stdout: asm, llvm-ir, mlir)"),
                  cl::Required, cl::sub(compileCmd));
cl::opt<bool> compileJson("json",
                          cl::desc("Print the size report as one JSON object "
                                   "on stdout"),
                          cl::sub(compileCmd));
cl::opt<EmitKind> emitKind(
    "emit", cl::desc("What to write"), cl::init(EmitKind::Executable),
    cl::values(clEnumValN(EmitKind::Executable, "exe", "static executable"),
               clEnumValN(EmitKind::Object, "obj", "object file"),
               clEnumValN(EmitKind::Assembly, "asm", "assembly"),
               clEnumValN(EmitKind::LLVMIR, "llvm-ir", "optimized LLVM IR"),
               clEnumValN(EmitKind::MLIR, "mlir",
                          "the lowered MLIR module before LLVM")),
    cl::sub(compileCmd));
cl::opt<std::string> targetTriple("target", cl::desc("Target triple"),
                                  cl::sub(compileCmd));
cl::opt<std::string> targetCpu("mcpu", cl::desc("Target CPU ('native')"),
                               cl::sub(compileCmd));
cl::opt<std::string> targetFeatures("mattr", cl::desc("Target features"),
                                    cl::sub(compileCmd));
cl::opt<unsigned> optLevel("O", cl::desc("Optimization level (0-3)"),
                           cl::Prefix, cl::init(2), cl::sub(compileCmd));
cl::opt<int64_t> maxTokens("max-tokens",
                           cl::desc("Most tokens per forward call"),
                           cl::init(64), cl::sub(compileCmd));
cl::opt<std::string>
    runtimeDir("runtime-dir",
               cl::desc("Folder of per-target runtime libraries"),
               cl::init(MICROSCALE_RUNTIME_DIR), cl::sub(compileCmd));

// tokenize, detokenize
cl::opt<std::string> tokenizeInput(cl::Positional,
                                   cl::desc("<model.onnx | model.mlir>"),
                                   cl::Required, cl::sub(tokenizeCmd),
                                   cl::sub(detokenizeCmd));
cl::opt<bool> tokenizeBos("bos", cl::desc("Start with the model's BOS id"),
                          cl::sub(tokenizeCmd));
cl::opt<std::string> detokenizeIds("ids", cl::desc("Comma-separated token ids"),
                                   cl::Required, cl::sub(detokenizeCmd));
cl::opt<bool> tokenizeJson("json", cl::desc("Print one JSON object"),
                           cl::sub(tokenizeCmd), cl::sub(detokenizeCmd));

// eval
cl::opt<std::string> evalInput(cl::Positional,
                               cl::desc("<model.onnx | model.mlir>"),
                               cl::Required, cl::sub(evalCmd));
cl::opt<std::string> evalData("data", cl::desc("Text file to score"),
                              cl::Required, cl::sub(evalCmd));
cl::opt<int64_t> evalContext("ctx", cl::desc("Window length in tokens"),
                             cl::Required, cl::sub(evalCmd));
cl::opt<bool> evalJson("json", cl::desc("Print one JSON object"),
                       cl::sub(evalCmd));
cl::opt<bool> evalCsv("csv", cl::desc("Print a CSV header and row"),
                      cl::sub(evalCmd));
cl::opt<int> evalRuns("runs", cl::desc("Runs of each program's bench (median)"),
                      cl::init(3), cl::sub(evalCmd));
cl::opt<std::string>
    evalWorkDir("work-dir",
                cl::desc("Keep the compiled programs in this folder "
                         "(default: a temporary folder, removed)"),
                cl::sub(evalCmd));

// compression (compile, run, perplexity, eval)
cl::OptionCategory compressionCategory("Compression");
cl::opt<std::string> quantizeFormat(
    "quantize",
    cl::desc("Quantize weights: int8, q4 (4-bit, groups of 32) or "
             "q<bits>[_g<group>|_row][_sym|_asym][_f16|_bf16|_f32|_log8]; "
             "_a8 at the end: 8-bit activations (faster, not exact)"),
    cl::cat(compressionCategory), cl::sub(importCmd), cl::sub(compileCmd),
    cl::sub(runCmd), cl::sub(perplexityCmd), cl::sub(evalCmd));
cl::opt<std::string> quantizeWeights(
    "quantize-weights",
    cl::desc("Which weights --quantize applies to: all (linears, embedding, "
             "logits) or linears"),
    cl::init("all"), cl::cat(compressionCategory), cl::sub(importCmd),
    cl::sub(compileCmd), cl::sub(runCmd), cl::sub(perplexityCmd),
    cl::sub(evalCmd));
cl::list<std::string> quantizeOverrides(
    "quantize-override",
    cl::desc("REGEX=FORMAT: weights whose name matches get FORMAT (float "
             "keeps them); the first match wins"),
    cl::cat(compressionCategory), cl::sub(importCmd), cl::sub(compileCmd),
    cl::sub(runCmd), cl::sub(perplexityCmd), cl::sub(evalCmd));
cl::opt<std::string>
    quantizeMethod("quantize-method",
                   cl::desc("Quantization method: rtn, calibrated, or steps "
                            "awq, clip, gptq, refit joined by +"),
                   cl::init("rtn"), cl::cat(compressionCategory),
                   cl::sub(importCmd), cl::sub(compileCmd), cl::sub(runCmd),
                   cl::sub(perplexityCmd), cl::sub(evalCmd));
cl::opt<std::string> calibrationFile(
    "calibration",
    cl::desc("Plain text the calibration-aware methods run the model on, or "
             "self: text the float model samples itself"),
    cl::cat(compressionCategory), cl::sub(importCmd), cl::sub(compileCmd),
    cl::sub(runCmd), cl::sub(perplexityCmd), cl::sub(evalCmd));
cl::opt<int64_t>
    calibrationTokens("calibration-tokens",
                      cl::desc("Tokens of calibration text to use"),
                      cl::init(8192), cl::cat(compressionCategory),
                      cl::sub(importCmd), cl::sub(compileCmd), cl::sub(runCmd),
                      cl::sub(perplexityCmd), cl::sub(evalCmd));
cl::opt<int64_t>
    weightBudget("weight-budget",
                 cl::desc("Mixed precision: most bytes all weights may take"),
                 cl::init(0), cl::cat(compressionCategory), cl::sub(importCmd),
                 cl::sub(compileCmd), cl::sub(runCmd), cl::sub(perplexityCmd),
                 cl::sub(evalCmd));
cl::opt<double> bitsPerWeight(
    "bits-per-weight",
    cl::desc("Mixed precision: average bits per quantized weight"), cl::init(0),
    cl::cat(compressionCategory), cl::sub(importCmd), cl::sub(compileCmd),
    cl::sub(runCmd), cl::sub(perplexityCmd), cl::sub(evalCmd));

// structured pruning (before quantization)
cl::opt<double> pruneHeads(
    "prune-heads",
    cl::desc("Remove this share of the query heads (e.g. 0.25), refitting "
             "each attention output on calibration text"),
    cl::init(0), cl::cat(compressionCategory), cl::sub(importCmd),
    cl::sub(compileCmd), cl::sub(runCmd), cl::sub(perplexityCmd),
    cl::sub(evalCmd));
cl::opt<double>
    pruneMLP("prune-mlp",
             cl::desc("Remove this share of each MLP's intermediate channels, "
                      "refitting the down projection on calibration text"),
             cl::init(0), cl::cat(compressionCategory), cl::sub(importCmd),
             cl::sub(compileCmd), cl::sub(runCmd), cl::sub(perplexityCmd),
             cl::sub(evalCmd));
cl::opt<std::string> pruneLayers(
    "prune-layers",
    cl::desc("Remove decoder layers: N (the N whose absence costs the least "
             "calibration loss) or a list L1,L2 (one layer: L,)"),
    cl::cat(compressionCategory), cl::sub(importCmd), cl::sub(compileCmd),
    cl::sub(runCmd), cl::sub(perplexityCmd), cl::sub(evalCmd));
cl::opt<std::string> pruneImportance(
    "prune-importance",
    cl::desc("What ranks heads and MLP channels: loss (measured; channels "
             "use activation), activation or magnitude"),
    cl::init("loss"), cl::cat(compressionCategory), cl::sub(importCmd),
    cl::sub(compileCmd), cl::sub(runCmd), cl::sub(perplexityCmd),
    cl::sub(evalCmd));

// unstructured sparsity (after structured pruning, before quantization)
cl::opt<double> pruneWeights(
    "prune-weights",
    cl::desc("Zero this share of each linear's weights (e.g. 0.25); "
             "--sparse-storage says how they are stored"),
    cl::init(0), cl::cat(compressionCategory), cl::sub(importCmd),
    cl::sub(compileCmd), cl::sub(runCmd), cl::sub(perplexityCmd),
    cl::sub(evalCmd));
cl::opt<std::string> prunePattern(
    "prune-pattern",
    cl::desc("Zero weights in an N:M pattern (keep N of every M consecutive "
             "inputs of a row), e.g. 2:4"),
    cl::cat(compressionCategory), cl::sub(importCmd), cl::sub(compileCmd),
    cl::sub(runCmd), cl::sub(perplexityCmd), cl::sub(evalCmd));
cl::opt<std::string> pruneMethod(
    "prune-method",
    cl::desc("How --prune-weights chooses the zeros: sparsegpt (error "
             "compensating), wanda (activation-aware) or magnitude (no "
             "calibration)"),
    cl::init("sparsegpt"), cl::cat(compressionCategory), cl::sub(importCmd),
    cl::sub(compileCmd), cl::sub(runCmd), cl::sub(perplexityCmd),
    cl::sub(evalCmd));

cl::opt<std::string> sparseStorage(
    "sparse-storage",
    cl::desc("How pruned matrices are stored: auto (without their zeros "
             "where the measured crossover says that pays), sparse (always) "
             "or dense"),
    cl::init("auto"), cl::cat(compressionCategory), cl::sub(importCmd),
    cl::sub(compileCmd), cl::sub(runCmd), cl::sub(perplexityCmd),
    cl::sub(evalCmd));

// shared
cl::opt<std::string>
    tokenizerPath("tokenizer",
                  cl::desc("Tokenizer file to record (default: found next to "
                           "the model)"),
                  cl::sub(importCmd), cl::sub(runCmd), cl::sub(compileCmd),
                  cl::sub(perplexityCmd), cl::sub(evalCmd),
                  cl::sub(tokenizeCmd), cl::sub(detokenizeCmd));
cl::opt<int64_t>
    maxContext("max-context",
               cl::desc("Context length (default: from the model)"),
               cl::init(0), cl::sub(importCmd), cl::sub(runCmd),
               cl::sub(compileCmd), cl::sub(perplexityCmd), cl::sub(evalCmd));

/// The longest context --max-context may ask for (2^20 tokens); the arena
/// it implies is checked against the arena's own limit when it is planned.
constexpr int64_t kMaxContextLimit = int64_t(1) << 20;

/// Range checks of the numeric flags shared by the subcommands; the error
/// names the flag and its range.
std::optional<std::string> checkFlagRanges() {
  if (maxContext.getNumOccurrences() &&
      (maxContext < 1 || maxContext > kMaxContextLimit))
    return llvm::formatv("--max-context must be between 1 and {0}",
                         kMaxContextLimit)
        .str();
  if (maxTokens < 1 || maxTokens > kMaxContextLimit)
    return llvm::formatv("--max-tokens must be between 1 and {0}",
                         kMaxContextLimit)
        .str();
  return std::nullopt;
}

} // namespace

int driver::fail(const llvm::Twine &message) {
  llvm::WithColor::error(llvm::errs(), "microscale") << message << "\n";
  return 1;
}

/// Looks for a tokenizer next to the model: a SentencePiece `.model` file or
/// GPT-2's `encoder.json`.
static std::string findTokenizer(StringRef modelPath) {
  if (!tokenizerPath.empty()) {
    llvm::SmallString<256> absolute(tokenizerPath);
    llvm::sys::fs::make_absolute(absolute);
    return std::string(absolute);
  }
  StringRef dir = llvm::sys::path::parent_path(modelPath);
  if (dir.empty())
    dir = ".";
  std::error_code ec;
  std::string found;
  for (llvm::sys::fs::directory_iterator it(dir, ec), end; it != end && !ec;
       it.increment(ec)) {
    StringRef name = llvm::sys::path::filename(it->path());
    if (name.ends_with(".model") || name == "encoder.json" ||
        name == "vocab.json")
      if (found.empty() || name < StringRef(found))
        found = name.str();
  }
  return found;
}

CompressionOptions driver::compressionOptionsFromFlags(StringRef path) {
  CompressionOptions options;
  options.quantize = quantizeFormat;
  options.quantizeWeights = quantizeWeights;
  options.overrides.assign(quantizeOverrides.begin(), quantizeOverrides.end());
  options.method = quantizeMethod;
  options.calibrationFile = calibrationFile;
  options.calibrationTokens = calibrationTokens;
  options.weightBudget = weightBudget;
  options.bitsPerWeight = bitsPerWeight;
  options.pruneHeads = pruneHeads;
  options.pruneMLP = pruneMLP;
  options.pruneLayers = pruneLayers;
  options.pruneImportance = pruneImportance;
  options.pruneWeights = pruneWeights;
  options.prunePattern = prunePattern;
  options.pruneMethod = pruneMethod;
  options.sparseStorage = sparseStorage;
  options.modelDir = llvm::sys::path::parent_path(path).str();
  return options;
}

/// Imports (and optionally raises) an ONNX model, or parses an .mlir file.
static OwningOpRef<ModuleOp>
loadUncompressed(StringRef path, MLIRContext &context, bool raiseToLLM) {
  if (path.ends_with(".mlir") || path.ends_with(".mlirbc")) {
    llvm::SourceMgr sourceMgr;
    std::string error;
    auto file = openInputFile(path, &error);
    if (!file) {
      fail(error);
      return nullptr;
    }
    sourceMgr.AddNewSourceBuffer(std::move(file), llvm::SMLoc());
    return parseSourceFile<ModuleOp>(sourceMgr, &context);
  }
  auto module = importONNXModel(path, &context);
  if (!module) {
    fail(llvm::toString(module.takeError()));
    return nullptr;
  }
  if (!raiseToLLM)
    return std::move(*module);
  PassManager pm(&context);
  if (failed(applyPassManagerCLOptions(pm)))
    return nullptr;
  llm::RaiseONNXPassOptions options;
  options.tokenizer = findTokenizer(path);
  options.maxContext = maxContext;
  llm::buildRaisePipeline(pm, options);
  if (failed(pm.run(**module)))
    return nullptr;
  return std::move(*module);
}

OwningOpRef<ModuleOp> driver::loadFloatModel(StringRef path,
                                             MLIRContext &context) {
  return loadUncompressed(path, context, /*raiseToLLM=*/true);
}

OwningOpRef<ModuleOp> driver::loadModel(StringRef path, MLIRContext &context,
                                        bool raiseToLLM) {
  OwningOpRef<ModuleOp> module = loadUncompressed(path, context, raiseToLLM);
  if (!module || !raiseToLLM)
    return module;
  CompressionOptions options = compressionOptionsFromFlags(path);
  if (!options.enabled())
    return module;
  if (llvm::Error error = compress(*module, options)) {
    fail(llvm::toString(std::move(error)));
    return nullptr;
  }
  return module;
}

namespace {

/// Prints a --json report: one object on one line, with the schema version
/// the generated programs print too (report.h).
void printReport(llvm::json::Object object) {
  object["schema_version"] = MS_REPORT_SCHEMA_VERSION;
  llvm::outs() << llvm::json::Value(std::move(object)) << "\n";
}

/// BLAKE3 of a file's bytes, in hex: what identifies a model in the
/// programs compiled from it, however its path is spelled.
llvm::Expected<std::string> blake3OfFile(StringRef path) {
  auto buffer = readRegularFile(path);
  if (!buffer)
    return buffer.takeError();
  llvm::BLAKE3 hash;
  hash.update(llvm::arrayRefFromStringRef((*buffer)->getBuffer()));
  return llvm::toHex(hash.final(), /*LowerCase=*/true);
}

/// A text file's bytes, or standard input's for "-".
llvm::Expected<std::unique_ptr<llvm::MemoryBuffer>> readText(StringRef path) {
  if (path != "-")
    return readRegularFile(path);
  auto buffer = llvm::MemoryBuffer::getSTDIN();
  if (!buffer)
    return llvm::createStringError(buffer.getError(),
                                   "cannot read standard input");
  return std::move(*buffer);
}

/// The tokenizer tables a program of the raised `module` would carry.
llvm::Expected<std::vector<uint8_t>> modelTokenizer(ModuleOp module,
                                                    StringRef modelPath) {
  auto model = module->getAttrOfType<llm::ModelAttr>(llm::kModelAttrName);
  if (!model)
    return llvm::createStringError(modelPath +
                                   ": not a raised model (no #llm.model)");
  if (model.getTokenizer().empty())
    return llvm::createStringError(
        modelPath + ": no tokenizer found next to the model (pass "
                    "--tokenizer FILE)");
  auto dir = module->getAttrOfType<StringAttr>("onnx.model_dir");
  return buildModelTokenizerBlob(model.getTokenizer(),
                                 dir ? dir.getValue()
                                     : llvm::sys::path::parent_path(modelPath),
                                 model.getVocabSize());
}

/// `import --summary --json`: the model's facts under the names `info
/// --json` gives them, op counts and weight storage.
void printSummaryJson(ModuleOp module, StringRef path) {
  llvm::json::Object report;
  if (auto model = module->getAttrOfType<llm::ModelAttr>(llm::kModelAttrName)) {
    report["arch"] = model.getArch().str();
    report["vocab_size"] = model.getVocabSize();
    report["hidden_size"] = model.getHiddenSize();
    report["num_layers"] = model.getNumLayers();
    report["num_heads"] = model.getNumHeads();
    report["num_kv_heads"] = model.getNumKvHeads();
    report["head_dim"] = model.getHeadDim();
    report["max_context"] = model.getMaxContext();
    report["bos_id"] = model.getBosId();
    report["eos_id"] = model.getEosId();
    report["tokenizer"] = model.getTokenizer().str();
  }
  llvm::json::Object ops;
  int64_t weightBytes = 0, weightCount = 0;
  module.walk([&](Operation *op) {
    if (isa<ModuleOp, func::FuncOp, func::ReturnOp>(op))
      return;
    std::string name = op->getName().getStringRef().str();
    if (auto node = dyn_cast<onnx::NodeOp>(op))
      name += "(" + node.getOpType().str() + ")";
    llvm::json::Value &count = ops[name];
    count = count.getAsInteger().value_or(0) + 1;
    if (auto weight = dyn_cast<llm::WeightOp>(op)) {
      weightBytes += weight.getStorageBytes();
      ++weightCount;
    }
  });
  report["ops"] = std::move(ops);
  report["weight_tensors"] = weightCount;
  report["weight_bytes"] = weightBytes;
  if (auto hash = blake3OfFile(path))
    report["model_blake3"] = *hash;
  else
    llvm::consumeError(hash.takeError());
  printReport(std::move(report));
}

void printSummary(ModuleOp module, llvm::raw_ostream &os) {
  if (auto model = module->getAttrOfType<llm::ModelAttr>(llm::kModelAttrName))
    os << "model: " << model.getArch() << ", vocab " << model.getVocabSize()
       << ", hidden " << model.getHiddenSize() << ", layers "
       << model.getNumLayers() << ", heads " << model.getNumHeads()
       << ", kv heads " << model.getNumKvHeads() << ", head_dim "
       << model.getHeadDim() << ", max context " << model.getMaxContext()
       << ", bos " << model.getBosId() << ", eos " << model.getEosId()
       << ", tokenizer '" << model.getTokenizer() << "'\n";
  std::map<std::string, int64_t> counts;
  int64_t weightBytes = 0, weightCount = 0;
  module.walk([&](Operation *op) {
    if (isa<ModuleOp, func::FuncOp, func::ReturnOp>(op))
      return;
    std::string name = op->getName().getStringRef().str();
    if (auto node = dyn_cast<onnx::NodeOp>(op))
      name += "(" + node.getOpType().str() + ")";
    ++counts[name];
    if (auto weight = dyn_cast<llm::WeightOp>(op)) {
      // What the weight costs in the program: its storage (packed codes,
      // scales, ...), not its logical f32 size.
      weightBytes += weight.getStorageBytes();
      ++weightCount;
    }
  });
  os << "ops:\n";
  for (auto &[name, count] : counts)
    os << "  " << name << " " << count << "\n";
  if (weightCount)
    os << "weights: " << weightCount << " tensors, " << weightBytes
       << " bytes\n";
}

int runImport(MLIRContext &context) {
  if (importJson && !summaryOnly)
    return fail("import --json reports the --summary (the module itself is "
                "MLIR): add --summary");
  if (importJson && outputFile != "-")
    return fail("import --json prints to stdout: drop -o");
  OwningOpRef<ModuleOp> module = loadModel(importInput, context, raise);
  if (!module)
    return 1;
  if (importJson) {
    printSummaryJson(*module, importInput);
    return 0;
  }
  std::string error;
  auto output = openOutputFile(outputFile, &error);
  if (!output)
    return fail(error);
  if (summaryOnly) {
    printSummary(*module, output->os());
  } else {
    OpPrintingFlags flags;
    if (!printWeights)
      flags.elideLargeResourceString(64);
    module->print(output->os(), flags);
    output->os() << "\n";
  }
  output->keep();
  return 0;
}

/// Parses comma-separated token ids; reports the first bad one as coming
/// from `what`.
bool parseIds(StringRef text, const llvm::Twine &what,
              std::vector<int64_t> &ids) {
  for (StringRef piece : llvm::split(text.trim(), ',')) {
    int64_t id;
    if (piece.trim().getAsInteger(10, id)) {
      fail(what + ": '" + piece + "' is not an integer id");
      return false;
    }
    ids.push_back(id);
  }
  return true;
}

/// A raised model with its reference interpreter, which reads the module.
struct ReferenceModel {
  OwningOpRef<ModuleOp> module;
  std::unique_ptr<reference::Interpreter> interpreter;
};

/// Imports and raises (or parses) `path` for the interpreter; diagnostics
/// go to stderr.
std::optional<ReferenceModel> loadReferenceModel(StringRef path,
                                                 MLIRContext &context) {
  ReferenceModel model;
  model.module = loadModel(path, context, /*raiseToLLM=*/true);
  if (!model.module)
    return std::nullopt;
  auto interpreter = reference::Interpreter::create(*model.module);
  if (!interpreter) {
    fail(llvm::toString(interpreter.takeError()));
    return std::nullopt;
  }
  model.interpreter = std::move(*interpreter);
  return model;
}

/// Greedy ids after `prompt`: `count` of them, fewer in text mode when the
/// end of sequence comes (it is not included).
llvm::Expected<llvm::SmallVector<int64_t>>
greedyContinuation(reference::Interpreter &model, ArrayRef<int64_t> prompt,
                   int count, int64_t stopId, std::vector<float> *logits) {
  auto first = model.forward(prompt);
  if (!first)
    return first.takeError();
  if (logits)
    *logits = *first;
  int64_t vocab = model.vocabSize();
  auto argmax = [&](const float *row) {
    return static_cast<int64_t>(std::max_element(row, row + vocab) - row);
  };
  llvm::SmallVector<int64_t> generated;
  std::vector<float> step = std::move(*first);
  const float *last = step.data() + (prompt.size() - 1) * vocab;
  for (int i = 0; i < count; ++i) {
    int64_t next = argmax(last);
    if (next == stopId)
      break;
    generated.push_back(next);
    if (i + 1 == count)
      break;
    auto result = model.forward({next});
    if (!result)
      return result.takeError();
    step = std::move(*result);
    last = step.data();
  }
  return generated;
}

int runInterpreter(MLIRContext &context) {
  if (promptIds.empty() == promptText.empty())
    return fail("run needs --prompt-ids or --prompt (one of them)");
  bool textMode = printText || !promptText.empty();
  std::vector<int64_t> prompt;
  if (!promptIds.empty() && !parseIds(promptIds, "--prompt-ids", prompt))
    return 1;
  if (!promptIds.empty() && prompt.empty())
    return fail("--prompt-ids is empty");
  if (numTokens < 0)
    return fail("-n must be non-negative");

  std::optional<ReferenceModel> loaded = loadReferenceModel(runInput, context);
  if (!loaded)
    return 1;
  std::vector<uint8_t> tokenizer;
  if (textMode) {
    auto blob = modelTokenizer(*loaded->module, runInput);
    if (!blob)
      return fail(llvm::toString(blob.takeError()));
    tokenizer = std::move(*blob);
  }
  auto model =
      (*loaded->module)->getAttrOfType<llm::ModelAttr>(llm::kModelAttrName);
  if (!promptText.empty()) {
    auto ids = encodeText(tokenizer, promptText, model.getBosId() >= 0);
    if (!ids)
      return fail("--prompt: " + llvm::toString(ids.takeError()));
    prompt.assign(ids->begin(), ids->end());
    if (prompt.empty())
      return fail("the prompt is empty");
  }
  reference::Interpreter &interpreter = *loaded->interpreter;
  if ((int64_t)prompt.size() + numTokens > interpreter.maxContext())
    return fail(llvm::Twine("prompt plus -n (") +
                llvm::Twine(prompt.size() + numTokens) +
                " tokens) exceeds the model's context of " +
                llvm::Twine(interpreter.maxContext()));

  std::vector<float> logits;
  auto generated = greedyContinuation(interpreter, prompt, numTokens,
                                      textMode ? model.getEosId() : -1,
                                      logitsFile.empty() ? nullptr : &logits);
  if (!generated)
    return fail(llvm::toString(generated.takeError()));
  if (!logitsFile.empty()) {
    std::string error;
    auto out = openOutputFile(logitsFile, &error);
    if (!out)
      return fail(error);
    out->os().write(reinterpret_cast<const char *>(logits.data()),
                    logits.size() * sizeof(float));
    out->keep();
  }
  std::string text;
  if (textMode) {
    // The prompt as the program's generate echoes it, then the
    // continuation decoded after the prompt's last id.
    auto continuation = decodeIds(tokenizer, *generated, prompt.back());
    auto start = decodeIds(tokenizer, prompt, -1);
    if (!continuation || !start)
      return fail(llvm::toString(
          llvm::joinErrors(continuation.takeError(), start.takeError())));
    text =
        (promptText.empty() ? *start : promptText.getValue()) + *continuation;
  }
  if (jsonOutput) {
    llvm::json::Object report{{"ids", llvm::json::Array(*generated)}};
    if (textMode)
      report["text"] = text;
    printReport(std::move(report));
  } else if (textMode) {
    llvm::outs() << text << "\n";
  } else {
    llvm::outs() << llvm::join(llvm::map_range(*generated,
                                               [](int64_t id) {
                                                 return std::to_string(id);
                                               }),
                               ",")
                 << "\n";
  }
  return 0;
}

/// Scores consecutive windows of ids exactly as a compiled program's
/// `perplexity` command does: each window from an empty KV cache, every
/// token after its first predicted from the ones before it.
int runPerplexity(MLIRContext &context) {
  if (idsFile.empty() == textFile.empty())
    return fail("perplexity needs --file (text) or --ids (one of them)");
  StringRef input = idsFile.empty() ? textFile : idsFile;
  auto buffer = readText(input);
  if (!buffer)
    return fail(input + ": " + llvm::toString(buffer.takeError()));
  std::vector<int64_t> ids;
  if (!idsFile.empty() && !parseIds((*buffer)->getBuffer(), idsFile, ids))
    return 1;
  if (windowSize < 2)
    return fail("--ctx must be at least 2");
  std::optional<ReferenceModel> loaded =
      loadReferenceModel(perplexityInput, context);
  if (!loaded)
    return 1;
  if (!textFile.empty()) {
    // The program's tokenization: the whole text, one BOS at the start.
    if ((*buffer)->getBufferSize() == 0)
      return fail("'" + textFile + "' is empty");
    auto tokenizer = modelTokenizer(*loaded->module, perplexityInput);
    if (!tokenizer)
      return fail(llvm::toString(tokenizer.takeError()));
    auto model =
        (*loaded->module)->getAttrOfType<llm::ModelAttr>(llm::kModelAttrName);
    auto encoded =
        encodeText(*tokenizer, (*buffer)->getBuffer(), model.getBosId() >= 0);
    if (!encoded)
      return fail(textFile + ": " + llvm::toString(encoded.takeError()));
    ids.assign(encoded->begin(), encoded->end());
  }
  reference::Interpreter &model = *loaded->interpreter;
  if (windowSize > model.maxContext())
    return fail("--ctx exceeds the model's context");
  int64_t vocab = model.vocabSize(), scored = 0, windows = 0;
  double nll = 0.0;
  for (size_t first = 0; first < ids.size(); first += windowSize) {
    size_t length = std::min<size_t>(windowSize, ids.size() - first);
    if (length < 2)
      break;
    model.reset();
    auto logits = model.forward(llvm::ArrayRef(ids).slice(first, length));
    if (!logits)
      return fail(llvm::toString(logits.takeError()));
    for (size_t t = 0; t + 1 < length; ++t) {
      const float *row = logits->data() + t * vocab;
      float maxLogit = *std::max_element(row, row + vocab);
      double total = 0.0;
      for (int64_t i = 0; i < vocab; ++i)
        total += std::exp(double(row[i]) - maxLogit);
      nll += std::log(total) + maxLogit - row[ids[first + t + 1]];
      ++scored;
    }
    ++windows;
  }
  if (scored == 0)
    return fail("too few ids to score");
  double mean = nll / scored;
  if (perplexityJson)
    printReport(llvm::json::Object{{"tokens", scored},
                                   {"nll", mean},
                                   {"ppl", std::exp(mean)},
                                   {"windows", windows},
                                   {"ctx", windowSize.getValue()}});
  else
    llvm::outs() << llvm::formatv("tokens scored {0}\nmean NLL      {1:f6} "
                                  "nats\nperplexity    {2:f6}\n",
                                  scored, mean, std::exp(mean));
  return 0;
}

/// The flags that shaped the program, for its descriptor. The output name
/// does not shape it, and files (the model, a tokenizer, calibration text)
/// are recorded by their names without a folder: the same model and flags
/// give the same bytes however the paths are spelled and wherever the
/// output goes. The model's identity is its hash.
std::string buildFlagsOf(int argc, char **argv) {
  auto withoutFolder = [](StringRef arg) -> std::string {
    if (!arg.empty() && llvm::sys::fs::exists(arg))
      return llvm::sys::path::filename(arg).str();
    return arg.str();
  };
  std::string flags;
  for (int i = 1; i < argc; ++i) {
    StringRef arg = argv[i];
    if (arg == "-o" && i + 1 < argc) {
      ++i;
      continue;
    }
    // Where the output goes and how the report is printed shape nothing.
    if (arg.starts_with("-o") || arg == "--json" || arg == "-json")
      continue;
    auto [name, value] = arg.split('=');
    std::string recorded = arg.contains('=') && arg.starts_with("-")
                               ? name.str() + "=" + withoutFolder(value)
                               : withoutFolder(arg);
    flags += (flags.empty() ? "" : " ") + recorded;
  }
  return flags;
}

/// Where `compile` may write: `-o -` is stdout, for text outputs only.
std::optional<std::string> checkCompileOutput() {
  if (compileOutput != "-")
    return std::nullopt;
  if (emitKind == EmitKind::Executable || emitKind == EmitKind::Object)
    return std::string("-o - writes text to stdout (--emit=asm, llvm-ir or "
                       "mlir); an executable or object needs a file name");
  if (compileJson)
    return std::string("--json and -o - would both write to stdout");
  return std::nullopt;
}

/// The size report: on stderr, or with --json on stdout with the names
/// `info --json` gives the same facts.
void printSizeReport(const CompileResult &result,
                     const CompileOptions &options) {
  if (compileJson) {
    printReport(llvm::json::Object{
        {"weight_bytes", result.weightBytes},
        {"arena_bytes", result.arenaBytes},
        {"ram_bytes", result.weightBytes + result.arenaBytes},
        {"max_context", result.maxContext},
        {"max_tokens", result.maxTokens},
        {"build_flags", options.buildFlags},
        {"compression", options.compression},
        {"microscale_version", options.version},
        {"microscale_commit", options.commit},
        {"model_blake3", options.modelBlake3}});
    return;
  }
  llvm::errs() << "weights: " << result.weightBytes
               << " bytes (read-only data)\n"
               << "arena:   " << result.arenaBytes
               << " bytes (activations, scratch, KV cache for "
               << result.maxContext << " positions)\n"
               << "RAM:     " << result.weightBytes + result.arenaBytes
               << " bytes (arena + weights paged in from the program)\n";
}

int runCompile(MLIRContext &context, int argc, char **argv) {
  if (std::optional<std::string> message = checkCompileOutput())
    return fail(*message);
  auto modelHash = blake3OfFile(compileInput);
  if (!modelHash)
    return fail(compileInput + ": " + llvm::toString(modelHash.takeError()));
  OwningOpRef<ModuleOp> module = loadModel(compileInput, context, true);
  if (!module)
    return 1;
  auto model = (*module)->getAttrOfType<llm::ModelAttr>(llm::kModelAttrName);
  if (!model)
    return fail(compileInput + ": not a raised model (no #llm.model)");

  CompileOptions options;
  options.target.triple = targetTriple;
  options.target.cpu = targetCpu;
  options.target.features = targetFeatures;
  options.target.optLevel = optLevel;
  options.emit = emitKind;
  options.maxTokens = maxTokens;
  options.maxContext = maxContext;
  options.runtimeDir = runtimeDir;
  options.modelDir = llvm::sys::path::parent_path(compileInput.getValue());
  options.buildFlags = buildFlagsOf(argc, argv);
  options.compression = compressionOptionsFromFlags(compileInput).describe();
  options.version = MICROSCALE_VERSION;
  options.commit = MICROSCALE_COMMIT;
  options.modelBlake3 = *modelHash;
  if (model.getTokenizer().empty() && emitKind != EmitKind::MLIR)
    llvm::WithColor::warning(llvm::errs(), "microscale")
        << "no tokenizer found next to the model (pass --tokenizer); the "
           "program can run ids but not generate text or score files\n";
  auto result = compile(*module, options, compileOutput);
  if (!result)
    return fail(llvm::toString(result.takeError()));
  printSizeReport(*result, options);
  return 0;
}

/// Loads `path` raised and uncompressed for its tokenizer.
llvm::Expected<std::vector<uint8_t>>
loadTokenizer(StringRef path, MLIRContext &context, int64_t &bosId) {
  OwningOpRef<ModuleOp> module = loadFloatModel(path, context);
  if (!module)
    return llvm::createStringError("cannot load '" + path + "'");
  auto model = (*module)->getAttrOfType<llm::ModelAttr>(llm::kModelAttrName);
  bosId = model ? model.getBosId() : -1;
  return modelTokenizer(*module, path);
}

int runTokenize(MLIRContext &context) {
  auto text = readText(textFile);
  if (!text)
    return fail(textFile + ": " + llvm::toString(text.takeError()));
  int64_t bosId;
  auto tokenizer = loadTokenizer(tokenizeInput, context, bosId);
  if (!tokenizer)
    return fail(llvm::toString(tokenizer.takeError()));
  auto ids = encodeText(*tokenizer, (*text)->getBuffer(), tokenizeBos);
  if (!ids)
    return fail(textFile + ": " + llvm::toString(ids.takeError()));
  if (tokenizeJson) {
    printReport(
        llvm::json::Object{{"tokens", static_cast<int64_t>(ids->size())},
                           {"ids", llvm::json::Array(*ids)}});
    return 0;
  }
  llvm::outs() << llvm::join(
                      llvm::map_range(
                          *ids, [](int32_t id) { return std::to_string(id); }),
                      ",")
               << "\n";
  return 0;
}

int runDetokenize(MLIRContext &context) {
  std::vector<int64_t> ids;
  if (!parseIds(detokenizeIds, "--ids", ids))
    return 1;
  int64_t bosId;
  auto tokenizer = loadTokenizer(tokenizeInput, context, bosId);
  if (!tokenizer)
    return fail(llvm::toString(tokenizer.takeError()));
  // As the program's detokenize: the text starts as if after BOS.
  auto text = decodeIds(*tokenizer, ids, bosId);
  if (!text)
    return fail("--ids: " + llvm::toString(text.takeError()));
  if (tokenizeJson)
    printReport(llvm::json::Object{
        {"text", *text}, {"tokens", static_cast<int64_t>(ids.size())}});
  else
    llvm::outs() << *text;
  return 0;
}

/// `microscale --version`: the first line is what a compiled program's
/// `--version` prints for the compiler that built it.
void printVersion(llvm::raw_ostream &os) {
  os << "Microscale " << MICROSCALE_VERSION << " (commit " << MICROSCALE_COMMIT
     << ")\n"
     << "  LLVM " << LLVM_VERSION_STRING << "\n";
}

cl::OptionCategory debugCategory("Debugging (every subcommand)");

/// `--help` lists Microscale's options: the libraries' own (LLVM's
/// backends, MLIR's) stay accepted but hidden (--help-hidden), except a few
/// for looking at the IR.
void hideLibraryOptions() {
  llvm::StringMap<cl::Option *> &options =
      cl::getRegisteredOptions(cl::SubCommand::getTopLevel());
  for (StringRef name :
       {"mlir-print-ir-after-all", "mlir-print-ir-before-all",
        "mlir-print-ir-after-failure", "mlir-elide-resource-strings-if-larger",
        "mlir-timing"})
    if (auto it = options.find(name); it != options.end())
      it->second->addCategory(debugCategory);
  cl::HideUnrelatedOptions({&debugCategory, &compressionCategory});
}
} // namespace

int main(int argc, char **argv) {
  llvm::InitLLVM initLLVM(argc, argv);
  registerAsmPrinterCLOptions();
  registerMLIRContextCLOptions();
  registerPassManagerCLOptions();
  // clang's spelling of IR dumps passes through to MLIR's option, which
  // every pass manager of the run applies.
  std::vector<char *> args(argv, argv + argc);
  std::string mlirPrintFlag = "--mlir-print-ir-after-all";
  for (char *&arg : args)
    if (StringRef(arg) == "--print-ir-after-all" ||
        StringRef(arg) == "-print-ir-after-all")
      arg = mlirPrintFlag.data();
  cl::SetVersionPrinter(printVersion);
  hideLibraryOptions();
  cl::ParseCommandLineOptions(static_cast<int>(args.size()), args.data(),
                              "Microscale: compression compiler for LLMs\n");
  DialectRegistry registry;
  registry.insert<llm::LLMDialect, onnx::ONNXDialect, func::FuncDialect>();
  MLIRContext context(registry);
  context.loadAllAvailableDialects();
  if (std::optional<std::string> message = checkFlagRanges())
    return fail(*message);

  if (importCmd)
    return runImport(context);
  if (runCmd)
    return runInterpreter(context);
  if (perplexityCmd)
    return runPerplexity(context);
  if (tokenizeCmd)
    return runTokenize(context);
  if (detokenizeCmd)
    return runDetokenize(context);
  if (compileCmd || evalCmd) {
    llvm::InitializeAllTargetInfos();
    llvm::InitializeAllTargets();
    llvm::InitializeAllTargetMCs();
    llvm::InitializeAllAsmPrinters();
  }
  if (compileCmd)
    return runCompile(context, argc, argv);
  if (evalCmd) {
    EvalOptions options;
    options.model = evalInput;
    options.data = evalData;
    options.ctx = evalContext;
    options.json = evalJson;
    options.csv = evalCsv;
    options.runs = evalRuns;
    options.workDir = evalWorkDir;
    options.compile.runtimeDir = MICROSCALE_RUNTIME_DIR;
    options.compile.modelDir =
        llvm::sys::path::parent_path(evalInput.getValue()).str();
    options.compile.maxContext = maxContext;
    options.compile.version = MICROSCALE_VERSION;
    options.compile.commit = MICROSCALE_COMMIT;
    return runEval(context, options, compressionOptionsFromFlags(evalInput));
  }
  cl::PrintHelpMessage();
  return 1;
}
