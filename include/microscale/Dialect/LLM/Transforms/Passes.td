//===- Passes.td - llm dialect passes ----------------------*- tablegen -*-===//
//
// Part of the Microscale project.
//
//===----------------------------------------------------------------------===//

#ifndef MICROSCALE_DIALECT_LLM_TRANSFORMS_PASSES_TD
#define MICROSCALE_DIALECT_LLM_TRANSFORMS_PASSES_TD

include "mlir/Pass/PassBase.td"

//===----------------------------------------------------------------------===//
// Raising
//===----------------------------------------------------------------------===//

def RaiseONNXPass : Pass<"llm-raise-onnx", "::mlir::ModuleOp"> {
  let summary = "Raise onnx-level graphs of decoder LLMs to the llm dialect";
  let description = [{
    Recognizes the subgraphs that ONNX exporters (torch.onnx, Hugging Face
    Optimum) produce for decoder-only transformers and replaces them with
    `llm` ops: embeddings, RMSNorm/LayerNorm (fused op or decomposed),
    linear projections (MatMul, Gemm, fused QKV + Split), rotary embeddings,
    causal attention with past key/value concatenation and grouped-query
    head repetition, gated and plain MLPs, residual adds and the logits
    projection. Shape plumbing (Shape/Gather/Concat/Reshape/...) that only
    served the recognized subgraphs becomes dead and is erased. Each pattern
    checks every constant it relies on (rotary Slice bounds, Reshape and
    Expand targets, Unsqueeze axes, the mask's constants and Ranges,
    epsilons, scales): a subgraph whose constants do not mean what the
    pattern assumes is not raised, and the error names the node holding the
    constant and the pattern that came closest.

    Afterwards the entry function is rewritten to the llm calling
    convention `(input_ids) -> logits`, the KV cache becoming the state of
    the `llm.attention` ops. Any onnx-level op that survives is an error
    that names its node and why it was not recognized. With
    `allow-partial` the pass only applies the patterns and keeps whatever
    they leave (for debugging and for testing patterns one by one).
  }];
  let dependentDialects = ["::mlir::microscale::llm::LLMDialect"];
  let options = [
    Option<"allowPartial", "allow-partial", "bool", "false",
           "Only apply the patterns; keep unrecognized ops and the signature">,
    Option<"tokenizer", "tokenizer", "std::string", "\"\"",
           "Tokenizer file to record in the llm.model attribute">,
    Option<"maxContext", "max-context", "int64_t", "0",
           "Context length to record (default: from the graph, else 2048)">,
  ];
}

//===----------------------------------------------------------------------===//
// Blocks
//===----------------------------------------------------------------------===//

def FormBlocksPass : Pass<"llm-form-blocks"> {
  let summary = "Fold each layer's attention chain into llm.self_attention";
  let description = [{
    Rewrites `linear -> [rope] -> llm.attention -> linear` chains (queries,
    keys and values projected from the same input, each used only by the
    chain) into one `llm.self_attention` that owns the four projections,
    the rotary embedding and the KV-cache slot. Compression then edits one
    op per head or layer. Chains that do not match exactly (a projection
    with another user, RoPE on values, queries and keys rotated
    differently) are left as they are.

    `microscale import --raise` ends with this pass (see
    `buildRaisePipeline`).
  }];
  let dependentDialects = ["::mlir::microscale::llm::LLMDialect"];
}

def ExpandBlocksPass : Pass<"llm-expand-blocks"> {
  let summary = "Expand llm.self_attention into linear, rope and attention";
  let description = [{
    The inverse of `llm-form-blocks`: each `llm.self_attention` becomes its
    Q/K/V `llm.linear`s, the `llm.rope` of queries and keys when the block
    has one, `llm.attention` on the same KV-cache slot and the output
    `llm.linear`. For consumers that handle the primitive ops only (the
    lowering runs it first).
  }];
  let dependentDialects = ["::mlir::microscale::llm::LLMDialect"];
}

//===----------------------------------------------------------------------===//
// Compression
//===----------------------------------------------------------------------===//

def QuantizeWeightsPass : Pass<"llm-quantize-weights", "::mlir::ModuleOp"> {
  let summary = "Quantize weight matrices to an #llm.quant encoding";
  let description = [{
    Replaces the weight matrices of linears (including the attention and
    MLP projections of blocks), the token embedding and the logits
    projection by `llm.weight`s with an `#llm.quant` encoding whose storage
    (packed codes, scales, zero points) the quantization library computes.
    Users keep their operands: only the weight's encoding changes, so the
    IR shows exactly which weights changed and how.

    `format` names the default format (`int8`, `q4`, or
    `q<bits>[_g<group>|_row][_sym|_asym][_f16|_bf16|_f32]`); `weights`
    chooses which matrices it applies to (`all` or `linears`); `overrides`
    are `regex=format` pairs, the first match winning (`float` keeps a
    weight); a regex matches the whole of the weight's name or of its
    canonical name, `layers.<L>.<role>` (e.g. `layers.0.down_proj`) inside
    the decoder layers and the role (`token_embedding`, `logits`) outside,
    so overrides work whatever the exporter named the weights. A weight
    with an `llm.quantize` attribute (a format name, or `float`), as a mixed
    precision pass leaves it, gets that format unless an override matches. A weight shared by several users (tied
    embedding and logits) is quantized once. Weights already encoded are
    left alone. A dimension that is not a multiple of the group gets a
    shorter tail group.

    `method` picks how codes are chosen: `rtn` rounds each weight to the
    nearest code of its group. The calibration-aware steps run the float
    model on `calibration` text (its first `calibration-tokens` tokens, in
    windows of `calibration-window`) on the reference interpreter to
    measure each matrix's input, and minimize each matrix's output error on
    it; they compose in this order, joined by `+`:
    - `awq`: activation-aware per-input-channel scales, folded exactly into
      the norm, value projection or up projection that produces the input;
    - `clip`: a per-group clipping search;
    - `gptq`: error-compensating rounding with activation order;
    - `refit`: least-squares scales for the chosen codes.
    `calibrated` is all four.
  }];
  let dependentDialects = ["::mlir::microscale::llm::LLMDialect"];
  let options = [
    Option<"format", "format", "std::string", "\"int8\"",
           "Default weight format (int8, q4, q<bits>_g<group>_[a]sym...)">,
    Option<"weights", "weights", "std::string", "\"all\"",
           "Which matrices: all (linears, embedding, logits) or linears">,
    ListOption<"overrides", "overrides", "std::string",
               "regex=format pairs on weight names (float keeps a weight)">,
    Option<"method", "method", "std::string", "\"rtn\"",
           "How codes are chosen: rtn, calibrated, or awq+clip+gptq+refit "
           "steps">,
    Option<"calibration", "calibration", "std::string", "\"\"",
           "Plain text file the calibration-aware steps run the model on, "
           "or 'self': text the float model samples itself">,
    Option<"calibrationTokens", "calibration-tokens", "int64_t", "8192",
           "Tokens of calibration text to use">,
    Option<"calibrationWindow", "calibration-window", "int64_t", "256",
           "Tokens per calibration window (each from an empty KV cache)">,
    Option<"modelDir", "model-dir", "std::string", "\"\"",
           "Folder a relative tokenizer path is resolved against">,
  ];
}

def MixedPrecisionPass : Pass<"llm-mixed-precision", "::mlir::ModuleOp"> {
  let summary = "Choose each weight matrix's format to fit a byte budget";
  let description = [{
    Sets the `llm.quantize` attribute of every quantizable matrix (the set
    `llm-quantize-weights` covers with the same `weights`) to one of
    `candidates` so that the weights fit `budget-bytes` (all weights'
    storage, including those that stay float, such as norms) or
    `bits-per-weight` (the average over the matrices it assigns), with the
    least measured loss. `llm-quantize-weights` then quantizes each matrix
    in its chosen format, with whatever method it is given.

    Sensitivity is measured, not guessed: the float model runs on the
    reference interpreter over `calibration` text (its first
    `calibration-tokens` tokens, in windows of `calibration-window`) once to
    collect each matrix's input statistics H = X^T X and its own output
    distributions. Then each matrix in turn is quantized alone in each
    candidate format as `trial-method` says, swapped into the interpreter
    and scored by the mean KL divergence of the float model's next-token
    distribution to the perturbed one over the first `sensitivity-tokens`
    calibration tokens (0: all; the statistics always use all). The trial
    should resemble the method that quantizes the model afterwards: `rtn`,
    `calibrated` (the default: activation-aware scales searched for the
    matrix's input group all in the candidate format, the clip search, GPTQ
    and the scale refit under the matrix's H), or some of `awq`, `clip`,
    `gptq` and `refit` joined by `+`. An embedding table, which has no
    input statistics, is tried with round-to-nearest.

    Allocation assumes the matrices' effects add up: each matrix starts at
    its cheapest candidate and the upgrade with the largest loss reduction
    per extra byte is taken next, along each matrix's lower convex hull of
    (bytes, loss), which makes the greedy optimal for the additive model;
    an upgrade that does not fit retires its matrix. A budget below the
    cheapest assignment is an error that names the minimum. A weight used
    twice (tied embedding and logits) is one matrix.

    With `refine-rounds` N > 0 the assignment is then refined against the
    whole model: with every matrix in its chosen trial, the loss of each
    matrix one hull step down and one step up is measured, the greedy runs
    again on those in-context losses, and the new assignment is kept if the
    whole model's loss drops (at most N rounds, each about 2 model runs per
    matrix).

    `print-ranking` prints, to stderr, a table of matrices by candidates
    with each one's storage bytes and measured loss increase (`*` marks
    the choice), the budget's arithmetic and, when refining, the whole
    model's loss before and after each round.
  }];
  let dependentDialects = ["::mlir::microscale::llm::LLMDialect"];
  let options = [
    Option<"budgetBytes", "budget-bytes", "int64_t", "0",
           "Storage bytes for all weights (the float ones included)">,
    Option<"bitsPerWeight", "bits-per-weight", "double", "0.0",
           "Average bits per weight of the assigned matrices">,
    ListOption<"candidates", "candidates", "std::string",
               "Formats to choose from (float allowed); default "
               "q3_g32_asym_log8,q4_g32_asym_log8,q5_g32_asym_log8,"
               "q6_g32_asym_log8,int8">,
    Option<"weights", "weights", "std::string", "\"all\"",
           "Which matrices: all (linears, embedding, logits) or linears">,
    Option<"calibration", "calibration", "std::string", "\"\"",
           "Plain text file the sensitivities are measured on, or 'self': "
           "text the float model samples itself">,
    Option<"calibrationTokens", "calibration-tokens", "int64_t", "2048",
           "Tokens of calibration text to use">,
    Option<"sensitivityTokens", "sensitivity-tokens", "int64_t", "0",
           "Of those, the first tokens the losses are measured on (0: all)">,
    Option<"calibrationWindow", "calibration-window", "int64_t", "256",
           "Tokens per calibration window (each from an empty KV cache)">,
    Option<"modelDir", "model-dir", "std::string", "\"\"",
           "Folder a relative tokenizer path is resolved against">,
    Option<"trialMethod", "trial-method", "std::string", "\"calibrated\"",
           "How each trial quantization is made: rtn, calibrated, or awq, "
           "clip, gptq, refit joined by '+'">,
    Option<"refineRounds", "refine-rounds", "int64_t", "0",
           "Rounds of refinement against the whole model's loss (0: none)">,
    Option<"printRanking", "print-ranking", "bool", "false",
           "Print the measured sensitivities and the allocation">,
  ];
}

//===----------------------------------------------------------------------===//
// Structured pruning
//===----------------------------------------------------------------------===//

def PruneHeadsPass : Pass<"llm-prune-heads", "::mlir::ModuleOp"> {
  let summary = "Remove query heads of llm.self_attention blocks";
  let description = [{
    Removes `fraction` of the query heads (or `count` of them) from the
    `llm.self_attention` blocks: the heads' rows of the query projection
    (and bias), the matching columns of the output projection and, when a
    kv group loses all its query heads, the group's rows of the key and
    value projections. `num_heads`, `num_kv_heads`, the KV-cache slot and
    `#llm.model` (the largest head counts) shrink with them. With grouped
    query attention every kept kv group must keep the same number of query
    heads (query head h reads kv group h / (num_heads / num_kv_heads)), so a
    layer keeps g groups of m heads each; a count no such shapes reach is
    rounded up.

    `scope=global` (the default) removes the cheapest heads of the whole
    model (the least total importance over all layers, exactly, by dynamic
    programming over the layers' shapes); `scope=layer` removes the same
    share from each layer. Every layer keeps at least one head.

    `importance` says what removing a head costs, measured on the float
    model over `calibration` text (its first `calibration-tokens` tokens,
    windows of `calibration-window`, or `self`: text the model samples) on
    the reference interpreter:
    - `loss` (the default): the loss increase when that head alone is
      removed, with the repair below applied, measured as the mean KL
      divergence of the next-token distributions from the float model's
      (the expected increase of the loss on the float model's own text,
      with less noise than scoring the calibration tokens): one forward
      pass per head. With `scope=global` each layer's candidate shapes
      (the heads the per-head costs propose for each count) are then
      measured the same way, since heads sharing an output projection
      interact, and the layers' shapes are chosen on those measurements.
    - `activation`: the output error of the block when the head alone is
      removed, from the output projection's input statistics H = X^T X
      (activation-weighted magnitude; with the repair, the error left after
      refitting the other heads). No extra forward passes.
    - `magnitude`: the squared norm of the head's query rows and output
      columns; needs no calibration (the baseline).

    Repair: with `refit` (the default) the output projection's kept columns
    are refit by ridge least squares on the calibration statistics of its
    input (W' = W H[:,S] (H[S,S] + lambda I)^-1, lambda = `dampening` times
    the mean of H[S,S]'s diagonal) so that the block's output matches the
    unpruned one; a refit that does not lower the output error is dropped.
    The refit also fits the projection's bias (one is added when the block
    has none), which absorbs what the removed heads contributed on average.
    With `sequential` the blocks are refit in program order, each toward
    the float model's output of its projection, on inputs measured in the
    model pruned so far, so that a layer also repairs what the pruning of
    earlier layers changed in its input (on stories260K this measured no
    better on unseen text, so it is off by default).

    Weights must be float: pruning runs before quantization. Attention that
    is not a block (`llm.attention`) is an error. `print-ranking` prints
    each head's importance and whether it was kept to stderr.
  }];
  let dependentDialects = ["::mlir::microscale::llm::LLMDialect"];
  let options = [
    Option<"fraction", "fraction", "double", "0.0",
           "Share of the query heads to remove">,
    Option<"count", "count", "int64_t", "0",
           "Number of query heads to remove (per layer with scope=layer)">,
    Option<"scope", "scope", "std::string", "\"global\"",
           "Rank heads over the whole model (global) or per layer (layer)">,
    Option<"importance", "importance", "std::string", "\"loss\"",
           "What a head is worth: loss, activation or magnitude">,
    Option<"refit", "refit", "bool", "true",
           "Refit the output projection on calibration statistics">,
    Option<"dampening", "dampening", "double", "0.01",
           "Ridge of the refit, relative to H's mean diagonal">,
    Option<"sequential", "sequential", "bool", "false",
           "Refit layer by layer toward the float model's outputs">,
    Option<"calibration", "calibration", "std::string", "\"\"",
           "Plain text file the importance and refit are measured on, or "
           "'self': text the float model samples itself">,
    Option<"calibrationTokens", "calibration-tokens", "int64_t", "2048",
           "Tokens of calibration text to use">,
    Option<"calibrationWindow", "calibration-window", "int64_t", "256",
           "Tokens per calibration window (each from an empty KV cache)">,
    Option<"modelDir", "model-dir", "std::string", "\"\"",
           "Folder a relative tokenizer path is resolved against">,
    Option<"printRanking", "print-ranking", "bool", "false",
           "Print each head's importance and the choice">,
  ];
}

def PruneMLPPass : Pass<"llm-prune-mlp", "::mlir::ModuleOp"> {
  let summary = "Remove intermediate channels of llm.mlp blocks";
  let description = [{
    Removes `fraction` of the intermediate channels of every `llm.mlp`
    (gated or plain): channel c is row c of the up and gate projections
    (and their biases) and column c of the down projection, so the op's
    intermediate size shrinks by one per channel.

    `importance=activation` (the default) measures the down projection's
    input statistics H = X^T X on `calibration` text with the reference
    interpreter and removes, one at a time, the channel whose removal
    leaves the least output error once the other channels are refit (the
    optimal-brain-surgeon cost, updated after each removal); without
    `refit`, the channels that add the least energy to the output.
    `importance=magnitude` removes the channels of least squared weight
    norm (up, gate and down together) and needs no calibration.

    With `refit` (the default) the down projection's kept columns are then
    refit by ridge least squares (as in `llm-prune-heads`, with its bias,
    and with `sequential` layer by layer toward the float model's outputs),
    and the refit is dropped when it does not lower the output error.
    Weights must be float: pruning runs before quantization.
  }];
  let dependentDialects = ["::mlir::microscale::llm::LLMDialect"];
  let options = [
    Option<"fraction", "fraction", "double", "0.0",
           "Share of each MLP's intermediate channels to remove">,
    Option<"importance", "importance", "std::string", "\"activation\"",
           "What a channel is worth: activation or magnitude">,
    Option<"refit", "refit", "bool", "true",
           "Refit the down projection on calibration statistics">,
    Option<"dampening", "dampening", "double", "0.01",
           "Ridge of the refit, relative to H's mean diagonal">,
    Option<"sequential", "sequential", "bool", "false",
           "Refit layer by layer toward the float model's outputs">,
    Option<"calibration", "calibration", "std::string", "\"\"",
           "Plain text file the statistics are measured on, or 'self'">,
    Option<"calibrationTokens", "calibration-tokens", "int64_t", "2048",
           "Tokens of calibration text to use">,
    Option<"calibrationWindow", "calibration-window", "int64_t", "256",
           "Tokens per calibration window (each from an empty KV cache)">,
    Option<"modelDir", "model-dir", "std::string", "\"\"",
           "Folder a relative tokenizer path is resolved against">,
  ];
}

def PruneLayersPass : Pass<"llm-prune-layers", "::mlir::ModuleOp"> {
  let summary = "Remove whole decoder layers";
  let description = [{
    Removes decoder layers: each layer's `llm.self_attention` and `llm.mlp`
    (and the norms that only feed them) go, the residual stream passing
    straight through, and the later layers' `layer` attributes (KV-cache
    slots) and `#llm.model`'s `num_layers` are renumbered to stay
    `0 .. num_layers - 1`.

    `layers` names the layers to remove; otherwise `count` layers are
    chosen by what the model loses without them: for each layer in turn,
    the reference interpreter runs the float model on `calibration` text
    (or `self`) with that layer bypassed, and the layers whose absence
    raises the calibration loss (mean next-token negative log-likelihood)
    least go. This is the loss itself, not how much a block changes its
    input, which can pick the worst layer of a real model.
    `print-ranking` prints every layer's loss without it, the increase, and
    the choice to stderr.
  }];
  let dependentDialects = ["::mlir::microscale::llm::LLMDialect"];
  let options = [
    Option<"count", "count", "int64_t", "0",
           "Number of layers to remove, the cheapest by calibration loss">,
    ListOption<"layerList", "layers", "int64_t", "Layers to remove">,
    Option<"calibration", "calibration", "std::string", "\"\"",
           "Plain text file the ranking is measured on, or 'self'">,
    Option<"calibrationTokens", "calibration-tokens", "int64_t", "2048",
           "Tokens of calibration text to use">,
    Option<"calibrationWindow", "calibration-window", "int64_t", "256",
           "Tokens per calibration window (each from an empty KV cache)">,
    Option<"modelDir", "model-dir", "std::string", "\"\"",
           "Folder a relative tokenizer path is resolved against">,
    Option<"printRanking", "print-ranking", "bool", "false",
           "Print each layer's loss without it and the choice">,
  ];
}

def PruneWeightsPass : Pass<"llm-prune-weights", "::mlir::ModuleOp"> {
  let summary = "Zero single weights of the linears (unstructured or N:M)";
  let description = [{
    Sets weights of the linears' matrices (the attention and MLP
    projections of blocks and plain `llm.linear`s; with `weights=all` also
    the logits projection) to zero: `fraction` of each output row
    (`scope=row`, the default) or of each matrix (`scope=matrix`), or an
    N:M `pattern` such as `2:4` (in every group of M consecutive inputs of
    a row, N weights stay; a row whose length is not a multiple of M ends
    in a shorter group of r inputs that keeps min(N, r), so the row padded
    with zeros follows the pattern). With a pattern, `fraction` may be left
    out or must equal 1 - N/M. Shapes do not change: the weights stay dense
    (`llm.weight`s in their own float type) holding zeros.

    `method` chooses the zeros:
    - `magnitude`: the smallest |W_ij|; needs no calibration;
    - `wanda`: the smallest |W_ij| * ||X_j||, where ||X_j|| is the norm of
      input j over the calibration tokens (Wanda, Sun et al. 2023);
    - `sparsegpt` (the default): columns are pruned in order and the error
      each pruned weight leaves is compensated by the columns not yet
      visited, through the Cholesky factor of the inverse of H = X^T X
      (damped by `dampening` times its mean diagonal; the factor GPTQ
      uses); the mask is chosen a block of `block-size` columns (or a
      pattern group) at a time from the weights as the earlier updates left
      them, by the optimal-brain-surgeon cost w^2 / [H^-1]_jj (SparseGPT,
      Frantar and Alistarh 2023).
    `wanda` and `sparsegpt` measure each matrix's input on `calibration`
    text (its first `calibration-tokens` tokens in windows of
    `calibration-window`, or `self`: text the float model samples itself)
    with the reference interpreter. With `sequential` (the default) the
    layers are pruned in order, each from inputs measured in the model
    whose earlier layers are already pruned.

    Weights must be float: pruning runs before quantization, and a
    quantized weight is an error.
  }];
  let dependentDialects = ["::mlir::microscale::llm::LLMDialect"];
  let options = [
    Option<"fraction", "fraction", "double", "0.0",
           "Share of the weights to zero, in (0, 1)">,
    Option<"method", "method", "std::string", "\"sparsegpt\"",
           "How the zeros are chosen: magnitude, wanda or sparsegpt">,
    Option<"pattern", "pattern", "std::string", "\"\"",
           "N:M pattern (keep N of every M consecutive inputs), e.g. 2:4">,
    Option<"scope", "scope", "std::string", "\"row\"",
           "Where the fraction is counted: row (each output row) or matrix">,
    Option<"weights", "weights", "std::string", "\"linears\"",
           "Which matrices: linears, or all (also the logits projection)">,
    Option<"dampening", "dampening", "double", "0.01",
           "sparsegpt: added to H's diagonal, relative to its mean">,
    Option<"blockSize", "block-size", "int64_t", "128",
           "sparsegpt: columns whose mask is chosen together">,
    Option<"sequential", "sequential", "bool", "true",
           "Prune layer by layer on inputs of the model pruned so far">,
    Option<"calibration", "calibration", "std::string", "\"\"",
           "Plain text file the inputs are measured on, or 'self'">,
    Option<"calibrationTokens", "calibration-tokens", "int64_t", "2048",
           "Tokens of calibration text to use">,
    Option<"calibrationWindow", "calibration-window", "int64_t", "256",
           "Tokens per calibration window (each from an empty KV cache)">,
    Option<"modelDir", "model-dir", "std::string", "\"\"",
           "Folder a relative tokenizer path is resolved against">,
  ];
}

def SparseStoragePass : Pass<"llm-sparse-storage", "::mlir::ModuleOp"> {
  let summary = "Store pruned matrices without their zeros where that pays";
  let description = [{
    Re-encodes the matrices of the linears (every weight whose uses are all
    layer projections or the logits projection; a table tied to the
    embedding stays dense) as `#llm.sparse<pattern = "unstructured", format
    = bitmask>`: a mask byte per 8 inputs and the kept values, which the
    runtime's `ms_linear_sparse_*` kernels read. Dense f32 weights keep f32
    values; per-row symmetric 8-bit weights (`--quantize int8`,
    `#llm.quant<bits = 8, symmetric = true, scale = f16>`) keep their codes
    and scales (`quant` on the encoding). Other encodings stay as they are.

    With `storage=auto` (the default) a matrix is re-encoded only when its
    density (the share of non-zero weights, or codes) is at most
    `max-density-f32` or `max-density-int8`: the crossover below which the
    sparse kernel is both smaller and at least as fast at decoding as the
    dense one, measured on synthetic-llama-15M at one thread by
    `utils/bench_sparse.py` (README, "Sparse storage"). On the machine it
    was measured on no density is (the sparse kernels expand each block of
    8 inputs whatever it keeps, which costs more than the memory traffic
    it saves), so both default to 0: `auto` keeps every matrix dense until
    faster kernels or another machine move the crossover.
    `storage=sparse` re-encodes every such matrix that has a zero. A matrix
    without any non-zero stays dense (its storage would be empty).
    `print-choices` prints each candidate's density and storage.
  }];
  let dependentDialects = ["::mlir::microscale::llm::LLMDialect"];
  let options = [
    Option<"storage", "storage", "std::string", "\"auto\"",
           "auto (sparse below the measured crossover) or sparse (always)">,
    Option<"maxDensityF32", "max-density-f32", "double", "0.0",
           "auto: largest density of an f32 matrix stored sparse">,
    Option<"maxDensityInt8", "max-density-int8", "double", "0.0",
           "auto: largest density of an int8 matrix stored sparse">,
    Option<"printChoices", "print-choices", "bool", "false",
           "Print each candidate matrix's density and storage">,
  ];
}

//===----------------------------------------------------------------------===//
// Debugging
//===----------------------------------------------------------------------===//

def PrintWeightsPass : Pass<"llm-print-weights"> {
  let summary = "Print the weights WeightUserOpInterface finds";
  let description = [{
    Prints one line per weight operand found through
    `WeightUserOpInterface`: layer (or `-`), role, weight name (or `?` when
    the operand is not an `llm.weight`), logical type (with its encoding)
    and the op using it. `roles` and `layer` filter the list the way a
    compression pass asks for "the K and V projections of layer 3"
    (`findWeights`). The IR is unchanged; this is for inspection and tests.
  }];
  let options = [
    ListOption<"roles", "roles", "std::string",
               "Only these roles (e.g. k_proj,v_proj); all when empty">,
    Option<"layer", "layer", "int64_t", "-1",
           "Only ops of this layer; all when negative">,
  ];
}

#endif // MICROSCALE_DIALECT_LLM_TRANSFORMS_PASSES_TD
