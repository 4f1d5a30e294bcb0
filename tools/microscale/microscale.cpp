//===- microscale.cpp - the Microscale driver -------------------*- C++ -*-===//
//
// Part of the Microscale project.
//
// `microscale import` brings an ONNX model to the onnx or llm level;
// `microscale run` executes a model on the reference interpreter;
// `microscale compile` turns a model into a self-contained native program.
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
#include "microscale/Tokenizer/TokenizerTables.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/AsmState.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Support/FileUtilities.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/IR/LLVMContext.h"
#include "llvm/IR/Module.h"
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
                             "Score token ids on the reference interpreter");
cl::SubCommand compileCmd("compile", "Compile a model into a native program");
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

// run
cl::opt<std::string> runInput(cl::Positional,
                              cl::desc("<model.onnx | model.mlir>"),
                              cl::Required, cl::sub(runCmd));
cl::opt<std::string> promptIds("prompt-ids",
                               cl::desc("Comma-separated prompt token ids"),
                               cl::Required, cl::sub(runCmd));
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
            cl::Required, cl::sub(perplexityCmd));
cl::opt<int64_t> windowSize("ctx", cl::desc("Window length in tokens"),
                            cl::Required, cl::sub(perplexityCmd));
cl::opt<bool> perplexityJson("json", cl::desc("Print one JSON object"),
                             cl::sub(perplexityCmd));

// compile
cl::opt<std::string> compileInput(cl::Positional,
                                  cl::desc("<model.onnx | model.mlir>"),
                                  cl::Required, cl::sub(compileCmd));
cl::opt<std::string> compileOutput("o", cl::desc("Output file"), cl::Required,
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
                  cl::sub(perplexityCmd), cl::sub(evalCmd));
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
  OwningOpRef<ModuleOp> module = loadModel(importInput, context, raise);
  if (!module)
    return 1;
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

int runInterpreter(MLIRContext &context) {
  std::vector<int64_t> prompt;
  if (!parseIds(promptIds, "--prompt-ids", prompt))
    return 1;
  if (prompt.empty())
    return fail("--prompt-ids is empty");
  if (numTokens < 0)
    return fail("-n must be non-negative");

  std::optional<ReferenceModel> loaded = loadReferenceModel(runInput, context);
  if (!loaded)
    return 1;
  reference::Interpreter &model = *loaded->interpreter;
  if ((int64_t)prompt.size() + numTokens > model.maxContext())
    return fail(llvm::Twine("prompt plus -n (") +
                llvm::Twine(prompt.size() + numTokens) +
                " tokens) exceeds the model's context of " +
                llvm::Twine(model.maxContext()));

  auto logits = model.forward(prompt);
  if (!logits)
    return fail(llvm::toString(logits.takeError()));
  if (!logitsFile.empty()) {
    std::string error;
    auto out = openOutputFile(logitsFile, &error);
    if (!out)
      return fail(error);
    out->os().write(reinterpret_cast<const char *>(logits->data()),
                    logits->size() * sizeof(float));
    out->keep();
  }
  int64_t vocab = model.vocabSize();
  auto argmax = [&](const float *row) {
    return static_cast<int64_t>(std::max_element(row, row + vocab) - row);
  };
  llvm::SmallVector<int64_t> generated;
  const float *last = logits->data() + (prompt.size() - 1) * vocab;
  std::vector<float> step;
  for (int i = 0; i < numTokens; ++i) {
    int64_t next = argmax(last);
    generated.push_back(next);
    if (i + 1 == numTokens)
      break;
    auto result = model.forward({next});
    if (!result)
      return fail(llvm::toString(result.takeError()));
    step = std::move(*result);
    last = step.data();
  }
  if (jsonOutput) {
    llvm::json::Array ids;
    for (int64_t id : generated)
      ids.push_back(id);
    llvm::outs() << llvm::json::Value(
                        llvm::json::Object{{"ids", std::move(ids)}})
                 << "\n";
  } else {
    llvm::outs() << llvm::join(llvm::map_range(generated,
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
  auto buffer = readRegularFile(idsFile);
  if (!buffer)
    return fail(idsFile + ": " + llvm::toString(buffer.takeError()));
  std::vector<int64_t> ids;
  if (!parseIds((*buffer)->getBuffer(), idsFile, ids))
    return 1;
  if (windowSize < 2)
    return fail("--ctx must be at least 2");
  std::optional<ReferenceModel> loaded =
      loadReferenceModel(perplexityInput, context);
  if (!loaded)
    return 1;
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
    llvm::outs() << llvm::formatv("{{\"tokens\": {0}, \"nll\": {1:f6}, "
                                  "\"ppl\": {2:f6}, \"windows\": {3}}\n",
                                  scored, mean, std::exp(mean), windows);
  else
    llvm::outs() << llvm::formatv("tokens scored {0}\nmean NLL      {1:f6} "
                                  "nats\nperplexity    {2:f6}\n",
                                  scored, mean, std::exp(mean));
  return 0;
}

/// The flags that shaped the program, for its descriptor. The output name
/// does not shape it, so the same model and flags give the same bytes
/// wherever they are written.
std::string buildFlagsOf(int argc, char **argv) {
  std::string flags;
  for (int i = 1; i < argc; ++i) {
    StringRef arg = argv[i];
    if (arg == "-o" && i + 1 < argc) {
      ++i;
      continue;
    }
    if (arg.starts_with("-o"))
      continue;
    flags += (flags.empty() ? "" : " ") + arg.str();
  }
  return flags;
}

int runCompile(MLIRContext &context, int argc, char **argv) {
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
  if (model.getTokenizer().empty() && emitKind != EmitKind::MLIR)
    llvm::WithColor::warning(llvm::errs(), "microscale")
        << "no tokenizer found next to the model (pass --tokenizer); the "
           "program can run ids but not generate text or score files\n";
  auto result = compile(*module, options, compileOutput);
  if (!result)
    return fail(llvm::toString(result.takeError()));
  llvm::errs() << "weights: " << result->weightBytes
               << " bytes (read-only data)\n"
               << "arena:   " << result->arenaBytes
               << " bytes (activations, scratch, KV cache for "
               << result->maxContext << " positions)\n"
               << "RAM:     " << result->weightBytes + result->arenaBytes
               << " bytes (arena + weights paged in from the program)\n";
  return 0;
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
    return runEval(context, options, compressionOptionsFromFlags(evalInput));
  }
  cl::PrintHelpMessage();
  return 1;
}
