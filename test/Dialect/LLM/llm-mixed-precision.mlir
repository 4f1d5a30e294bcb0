// Mixed precision on stories260K: real weights, and a tokenizer for the
// calibration text. Sizes are read back from `microscale import --summary`
// of the quantized result, not taken from the pass's own arithmetic.
// REQUIRES: models
// RUN: microscale import %models/stories260K/model.onnx --raise --print-weights -o %t.float.mlir

// The budget: the bytes of the all-q4_g32_asym model.
// RUN: microscale import %t.float.mlir --raise --quantize q4_g32_asym --summary > %t.q4.summary
// RUN: microscale-opt %t.float.mlir --llm-mixed-precision="budget-bytes=$(%python %utils/weight_budget.py bytes %t.q4.summary) calibration=%models/../data/wikitext-2-raw-test/wiki.test.part1.raw calibration-tokens=128 print-ranking" -o %t.mixed.mlir 2> %t.ranking
// RUN: FileCheck %s --check-prefix=RANKING < %t.ranking
// RUN: FileCheck %s --check-prefix=ATTRS < %t.mixed.mlir
// RUN: microscale import %t.mixed.mlir --raise --quantize int8 --summary > %t.mixed.summary
// RUN: %python %utils/weight_budget.py check %t.mixed.summary --at-most $(%python %utils/weight_budget.py bytes %t.q4.summary)

// A tighter budget (90 %) never takes more bytes (trials by round-to-nearest,
// which keeps the sanitized build's run short).
// RUN: microscale-opt %t.float.mlir --llm-mixed-precision="budget-bytes=$(%python %utils/weight_budget.py bytes %t.q4.summary --scale 0.9) calibration=%models/../data/wikitext-2-raw-test/wiki.test.part1.raw calibration-tokens=128 trial-method=rtn" -o %t.tight.mlir
// RUN: microscale import %t.tight.mlir --raise --quantize int8 --summary > %t.tight.summary
// RUN: %python %utils/weight_budget.py check %t.tight.summary --at-most $(%python %utils/weight_budget.py bytes %t.q4.summary --scale 0.9)
// RUN: %python %utils/weight_budget.py check %t.tight.summary --at-most $(%python %utils/weight_budget.py bytes %t.mixed.summary)

// Refinement against the whole model's loss, the losses on the first 128
// of 256 calibration tokens (trials by round-to-nearest): the assignment
// still fits, and the table reports the whole model's loss before and
// after each round.
// RUN: microscale-opt %t.float.mlir --llm-mixed-precision="budget-bytes=$(%python %utils/weight_budget.py bytes %t.q4.summary) calibration=%models/../data/wikitext-2-raw-test/wiki.test.part1.raw calibration-tokens=256 sensitivity-tokens=128 trial-method=rtn refine-rounds=2 print-ranking" -o %t.refined.mlir 2> %t.refined.ranking
// RUN: FileCheck %s --check-prefix=REFINED < %t.refined.ranking
// RUN: microscale import %t.refined.mlir --raise --quantize int8 --summary > %t.refined.summary
// RUN: %python %utils/weight_budget.py check %t.refined.summary --at-most $(%python %utils/weight_budget.py bytes %t.q4.summary)

// bits-per-weight: the average over the matrices; norms stay float (trials
// by plain round-to-nearest here).
// RUN: microscale-opt %t.float.mlir --llm-mixed-precision="bits-per-weight=4.5 calibration=%models/../data/wikitext-2-raw-test/wiki.test.part1.raw calibration-tokens=128 trial-method=rtn" -o %t.bits.mlir
// RUN: microscale import %t.bits.mlir --raise --quantize int8 --summary > %t.bits.summary
// RUN: %python %utils/weight_budget.py check %t.bits.summary --at-most $(%python %utils/weight_budget.py bits %t.float.mlir --bits-per-weight 4.5)

// A budget below the cheapest assignment names the minimum, checked before
// anything is measured; exactly that minimum gives every matrix the
// cheapest candidate.
// RUN: not microscale-opt %t.float.mlir --llm-mixed-precision="budget-bytes=1000 calibration=%models/../data/wikitext-2-raw-test/wiki.test.part1.raw" -o /dev/null 2> %t.impossible
// RUN: FileCheck %s --check-prefix=IMPOSSIBLE < %t.impossible
// RUN: microscale-opt %t.float.mlir --llm-mixed-precision="budget-bytes=$(sed -n 's/.*smallest assignment, \([0-9]*\) bytes.*/\1/p' %t.impossible) calibration=%models/../data/wikitext-2-raw-test/wiki.test.part1.raw calibration-tokens=16 trial-method=rtn" | FileCheck %s --check-prefix=MINIMUM --implicit-check-not=llm.quantize

// Every matrix shows its storage and measured loss per candidate, the
// choice marked; the tied embedding and logits are one matrix.
// RANKING: llm-mixed-precision: loss = mean KL(float || trial) per token over 128 calibration tokens; bytes = storage
// RANKING-NEXT: {{^matrix +shape +q3_g32_asym_log8 +q4_g32_asym_log8 +q5_g32_asym_log8 +q6_g32_asym_log8 +int8$}}
// RANKING-NEXT: {{^token_embedding +512x64( +[0-9]+ +[0-9]\.[0-9]{3}e[-+][0-9]+\*?){5}$}}
// RANKING-NOT: logits
// RANKING: {{^layers\.0\.q_proj +64x64( +[0-9]+ +[0-9]\.[0-9]{3}e[-+][0-9]+\*?){5}$}}
// RANKING-NOT: logits
// RANKING: {{^layers\.4\.down_proj +64x172( +[0-9]+ +[0-9]\.[0-9]{3}e[-+][0-9]+\*?){5}$}}
// RANKING-NEXT: assigned {{[0-9]+}} bytes of {{[0-9]+}} for 36 matrices, {{[0-9]+}} bytes stay float; predicted loss {{.*}}

// REFINED: llm-mixed-precision: loss = mean KL(float || trial) per token over 128 calibration tokens; bytes = storage
// REFINED: {{^}}assigned {{[0-9]+}} bytes of {{[0-9]+}} for 36 matrices
// REFINED-NEXT: {{^measured loss [0-9]\.[0-9]{3}e[-+][0-9]+(, refined [0-9]\.[0-9]{3}e[-+][0-9]+)*$}}

// ATTRS-COUNT-36: llm.weight {{.*}} {llm.quantize = "{{q[0-9]_g[0-9]+_[a]?sym(_log8)?|int8}}"}
// ATTRS-NOT: llm.quantize

// IMPOSSIBLE: error: llm-mixed-precision: a budget of 1000 bytes is below the smallest assignment, {{[0-9]+}} bytes (36 matrices in their cheapest candidates, {{[0-9]+}} bytes, and {{[0-9]+}} bytes of weights that stay float)

// MINIMUM-COUNT-36: {llm.quantize = "q3_g32_asym_log8"}

// Errors in the options, on a hand-written module.
// RUN: not microscale-opt %s --llm-mixed-precision="calibration=x" 2>&1 | FileCheck %s --check-prefix=NO-BUDGET
// RUN: not microscale-opt %s --llm-mixed-precision="budget-bytes=100 bits-per-weight=4 calibration=x" 2>&1 | FileCheck %s --check-prefix=NO-BUDGET
// RUN: not microscale-opt %s --llm-mixed-precision="bits-per-weight=4" 2>&1 | FileCheck %s --check-prefix=NO-CALIBRATION
// RUN: not microscale-opt %s --llm-mixed-precision="bits-per-weight=4 calibration=x candidates=q4,q9" 2>&1 | FileCheck %s --check-prefix=BAD-CANDIDATE
// RUN: not microscale-opt %s --llm-mixed-precision="bits-per-weight=3 calibration=x" 2>&1 | FileCheck %s --check-prefix=TOO-FEW-BITS
// RUN: not microscale-opt %s --llm-mixed-precision="bits-per-weight=4 calibration=x weights=norms" 2>&1 | FileCheck %s --check-prefix=BAD-WEIGHTS
// RUN: not microscale-opt %s --llm-mixed-precision="bits-per-weight=4 calibration=x trial-method=clip+seq" 2>&1 | FileCheck %s --check-prefix=BAD-TRIAL
// NO-BUDGET: error: llm-mixed-precision: give exactly one of budget-bytes and bits-per-weight (positive)
// NO-CALIBRATION: error: llm-mixed-precision: the sensitivities are measured on calibration text (calibration=FILE)
// BAD-CANDIDATE: error: llm-mixed-precision: candidate: bad quantization format 'q9': bits must be in [2, 8]
// 2 rows of 64: 3 bits per code, an f16 scale per 32, and the two 3-bit
// zero points of a row packed in a byte.
// TOO-FEW-BITS: error: llm-mixed-precision: 3 bits per weight is below the smallest assignment, 3.625 bits per weight (58 bytes for 1 matrices)
// BAD-WEIGHTS: error: llm-mixed-precision: weights must be 'all' or 'linears', got 'norms'
// BAD-TRIAL: error: llm-mixed-precision: trial-method must be rtn, calibrated, or awq, clip, gptq, refit joined by '+', got 'clip+seq'
func.func @linear(%x: tensor<?x?x64xf32>) -> tensor<?x?x2xf32> {
  %w = llm.weight "w" : tensor<2x64xf32> = dense<0.5> : tensor<2x64xf32>
  %y = llm.linear %x, %w : (tensor<?x?x64xf32>, tensor<2x64xf32>) -> tensor<?x?x2xf32>
  return %y : tensor<?x?x2xf32>
}
