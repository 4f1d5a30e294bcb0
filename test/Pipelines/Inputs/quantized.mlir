// A one-layer model whose every matrix is quantized (see
// ../microscale-compile-pipeline.mlir): the tied embedding int8 per row,
// the attention block's projections int8, 4-bit symmetric and asymmetric
// (groups of 3 over 8 features: a tail group of 2) and 3-bit, the MLP 4-bit
// asymmetric, 5-bit and 4-bit with a tail group (12 = 8 + 4).
module attributes {llm.model = #llm.model<arch = "llama", vocab_size = 16, hidden_size = 8, num_layers = 1, num_heads = 2, num_kv_heads = 1, head_dim = 4, max_context = 32, bos_id = 1, eos_id = 2, tokenizer = "tok.model">} {
  func.func @forward(%ids: tensor<?x?xi64>) -> tensor<?x?x16xf32> {
    %emb = llm.weight "emb" : tensor<16x8xf32, #llm.quant<bits = 8, symmetric = true, scale = f16>> = dense_resource<emb_q> : tensor<16x8xi8> scales dense_resource<emb_s> : tensor<16x1xf16>
    %g = llm.weight "g" : tensor<8xf32> = dense<1.0> : tensor<8xf32>
    %wq = llm.weight "wq" : tensor<8x8xf32, #llm.quant<bits = 8, symmetric = true, scale = f16>> = dense_resource<wq_q> : tensor<8x8xi8> scales dense_resource<wq_s> : tensor<8x1xf16>
    %wk = llm.weight "wk" : tensor<4x8xf32, #llm.quant<bits = 4, group = 4, symmetric = true, scale = f16>> = dense_resource<wk_q> : tensor<4x4xi8> scales dense_resource<wk_s> : tensor<4x2xf16>
    %wv = llm.weight "wv" : tensor<4x8xf32, #llm.quant<bits = 4, group = 3, symmetric = false, scale = f16>> = dense_resource<wv_q> : tensor<4x4xi8> scales dense_resource<wv_s> : tensor<4x3xf16> zero_points dense_resource<wv_z> : tensor<4x2xi8>
    %wo = llm.weight "wo" : tensor<8x8xf32, #llm.quant<bits = 3, symmetric = true, scale = f16>> = dense_resource<wo_q> : tensor<8x3xi8> scales dense_resource<wo_s> : tensor<8x1xf16>
    %up = llm.weight "up" : tensor<12x8xf32, #llm.quant<bits = 4, group = 4, symmetric = false, scale = f16>> = dense_resource<up_q> : tensor<12x4xi8> scales dense_resource<up_s> : tensor<12x2xf16> zero_points dense_resource<up_z> : tensor<12x1xi8>
    %gate = llm.weight "gate" : tensor<12x8xf32, #llm.quant<bits = 5, symmetric = true, scale = f16>> = dense_resource<gate_q> : tensor<12x5xi8> scales dense_resource<gate_s> : tensor<12x1xf16>
    %down = llm.weight "down" : tensor<8x12xf32, #llm.quant<bits = 4, group = 8, symmetric = true, scale = f16>> = dense_resource<down_q> : tensor<8x6xi8> scales dense_resource<down_s> : tensor<8x2xf16>
    %x = llm.embedding %emb, %ids : (tensor<16x8xf32, #llm.quant<bits = 8, symmetric = true, scale = f16>>, tensor<?x?xi64>) -> tensor<?x?x8xf32>
    %h = llm.rms_norm %x, %g {epsilon = 1.0e-5 : f64} : (tensor<?x?x8xf32>, tensor<8xf32>) -> tensor<?x?x8xf32>
    %a = llm.self_attention %h q %wq k %wk v %wv o %wo {num_heads = 2 : i64, num_kv_heads = 1 : i64, head_dim = 4 : i64, scale = 0.5 : f64, layer = 0 : i64, rope = #llm.rope<theta = 10000.0 : f64, rotary_dim = 4, style = rotate_half>} : (tensor<?x?x8xf32>, tensor<8x8xf32, #llm.quant<bits = 8, symmetric = true, scale = f16>>, tensor<4x8xf32, #llm.quant<bits = 4, group = 4, symmetric = true, scale = f16>>, tensor<4x8xf32, #llm.quant<bits = 4, group = 3, symmetric = false, scale = f16>>, tensor<8x8xf32, #llm.quant<bits = 3, symmetric = true, scale = f16>>) -> tensor<?x?x8xf32>
    %r = llm.add %x, %a : tensor<?x?x8xf32>
    %m = llm.mlp %r up %up gate %gate down %down {activation = #llm<activation silu>, layer = 0 : i64} : (tensor<?x?x8xf32>, tensor<12x8xf32, #llm.quant<bits = 4, group = 4, symmetric = false, scale = f16>>, tensor<12x8xf32, #llm.quant<bits = 5, symmetric = true, scale = f16>>, tensor<8x12xf32, #llm.quant<bits = 4, group = 8, symmetric = true, scale = f16>>) -> tensor<?x?x8xf32>
    %r2 = llm.add %r, %m : tensor<?x?x8xf32>
    %l = llm.logits %r2, %emb {tied} : (tensor<?x?x8xf32>, tensor<16x8xf32, #llm.quant<bits = 8, symmetric = true, scale = f16>>) -> tensor<?x?x16xf32>
    return %l : tensor<?x?x16xf32>
  }
}

{-#
  dialect_resources: {
    builtin: {
      emb_q: "0x0400000025303B46515C67727D88939EA9B4BFCAD5E0EBF6010C17222D38434E59646F7A85909BA6B1BCC7D2DDE8F3FE09141F2A35404B56616C77828D98A3AEB9C4CFDAE5F0FB06111C27323D48535E69747F8A95A0ABB6C1CCD7E2EDF8030E19242F3A45505B66717C87929DA8B3BEC9D4DFEAF5000B16212C37424D58636E79848F9A",
      emb_s: "0x020000001F211F25AE271F29662AAE2B7B2C1F211F25AE271F29662AAE2B7B2C1F211F25",
      wq_q: "0x040000004A55606B76818C97A2ADB8C3CED9E4EFFA05101B26313C47525D68737E89949FAAB5C0CBD6E1ECF7020D18232E39444F5A65707B86919CA7B2BDC8D3DEE9F4FF",
      wq_s: "0x020000001F211F25AE271F29662AAE2B7B2C1F21",
      wk_q: "0x040000006F7A85909BA6B1BCC7D2DDE8F3FE0914",
      wk_s: "0x020000001F211F25AE271F29662AAE2B7B2C1F21",
      wv_q: "0x04000000949FAAB5C0CBD6E1ECF7020D18232E39",
      wv_s: "0x020000001F211F25AE271F29662AAE2B7B2C1F211F25AE271F29662A",
      wv_z: "0x0400000054068709BA0CED0F",
      wo_q: "0x04000000B9C4CFDAE5F0FB06111C27323D48535E69747F8A95A0ABB6",
      wo_s: "0x020000001F211F25AE271F29662AAE2B7B2C1F21",
      up_q: "0x04000000DEE9F4FF0A15202B36414C57626D78838E99A4AFBAC5D0DBE6F1FC07121D28333E49545F6A75808B96A1ACB7C2CDD8E3",
      up_s: "0x020000001F211F25AE271F29662AAE2B7B2C1F211F25AE271F29662AAE2B7B2C1F211F25AE271F29662AAE2B7B2C1F211F25AE27",
      up_z: "0x040000007698BADCFE1032547698BADC",
      gate_q: "0x04000000030E19242F3A45505B66717C87929DA8B3BEC9D4DFEAF5000B16212C37424D58636E79848F9AA5B0BBC6D1DCE7F2FD08131E29343F4A55606B76818C",
      gate_s: "0x020000001F211F25AE271F29662AAE2B7B2C1F211F25AE271F29662A",
      down_q: "0x0400000028333E49545F6A75808B96A1ACB7C2CDD8E3EEF9040F1A25303B46515C67727D88939EA9B4BFCAD5E0EBF6010C17222D",
      down_s: "0x020000001F211F25AE271F29662AAE2B7B2C1F211F25AE271F29662AAE2B7B2C1F211F25"
    }
  }
#-}
