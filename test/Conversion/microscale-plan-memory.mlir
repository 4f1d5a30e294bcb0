// RUN: microscale-opt %s --split-input-file --microscale-plan-memory | FileCheck %s

// Buffers whose lifetimes (first to last top-level use) do not overlap share
// bytes; ones that overlap do not. %a (256 B) is dead before %b is first
// written, so %b reuses its bytes; %b and %c are alive together.
// CHECK:       module attributes {ms.arena_bytes = 512 : i64}
// CHECK:       memref.global "private" @ms_arena : memref<512xi8> = uninitialized {alignment = 64 : i64}
// CHECK-LABEL: func.func @reuse
// CHECK:         %[[ARENA_A:.*]] = memref.get_global @ms_arena : memref<512xi8>
// CHECK:         %[[OFFSET_A:.*]] = arith.constant 0 : index
// CHECK:         %[[A:.*]] = memref.view %[[ARENA_A]][%[[OFFSET_A]]][] : memref<512xi8> to memref<64xf32>
// CHECK:         %[[OFFSET_B:.*]] = arith.constant 0 : index
// CHECK:         %[[B:.*]] = memref.view %{{.*}}[%[[OFFSET_B]]][] : memref<512xi8> to memref<64xf32>
// CHECK:         %[[OFFSET_C:.*]] = arith.constant 256 : index
// CHECK:         %[[C:.*]] = memref.view %{{.*}}[%[[OFFSET_C]]][] : memref<512xi8> to memref<64xf32>
// CHECK:         memref.store %{{.*}}, %[[A]]
// CHECK:         memref.load %[[A]]
// CHECK:         memref.store %{{.*}}, %[[B]]
// CHECK:         memref.store %{{.*}}, %[[C]]
// CHECK-NOT:     memref.alloc
module {
  func.func @reuse(%i: index, %v: f32) -> f32 {
    %a = memref.alloc() : memref<64xf32>
    %b = memref.alloc() : memref<64xf32>
    %c = memref.alloc() : memref<64xf32>
    memref.store %v, %a[%i] : memref<64xf32>
    %x = memref.load %a[%i] : memref<64xf32>
    memref.store %x, %b[%i] : memref<64xf32>
    memref.store %x, %c[%i] : memref<64xf32>
    %y = memref.load %b[%i] : memref<64xf32>
    %z = memref.load %c[%i] : memref<64xf32>
    %s = arith.addf %y, %z : f32
    return %s : f32
  }
}

// -----

// A use inside a loop counts at the loop; a use through a view counts as a
// use of the buffer; deallocations disappear. Offsets are 64-byte aligned.
// CHECK:       module attributes {ms.arena_bytes = 128 : i64}
// CHECK-LABEL: func.func @nested
// CHECK:         arith.constant 0 : index
// CHECK:         arith.constant 64 : index
// CHECK-NOT:     memref.dealloc
module {
  func.func @nested(%n: index, %v: f32) {
    %c0 = arith.constant 0 : index
    %c1 = arith.constant 1 : index
    %a = memref.alloc() : memref<4xf32>
    %b = memref.alloc() : memref<4xf32>
    scf.for %i = %c0 to %n step %c1 {
      memref.store %v, %a[%i] : memref<4xf32>
    }
    %sub = memref.subview %a[0] [2] [1] : memref<4xf32> to memref<2xf32, strided<[1]>>
    memref.store %v, %b[%c0] : memref<4xf32>
    memref.store %v, %sub[%c0] : memref<2xf32, strided<[1]>>
    memref.dealloc %b : memref<4xf32>
    return
  }
}

// -----

// Uninitialized mutable globals (KV caches) persist across calls: they follow
// the planned buffers in bytes of their own, in module order, and every use
// becomes a view. Constant globals stay.
// CHECK:       module attributes {ms.arena_bytes = 448 : i64}
// CHECK:       memref.global "private" @ms_arena : memref<448xi8>
// CHECK-NOT:   @cache_k
// CHECK-NOT:   @cache_v
// CHECK:       memref.global "private" constant @table
// CHECK-LABEL: func.func @caches
// CHECK:         arith.constant 0 : index
// CHECK:         memref.view {{.*}} to memref<16xf32>
// CHECK:         %[[K_OFFSET:.*]] = arith.constant 64 : index
// CHECK:         memref.view %{{.*}}[%[[K_OFFSET]]][] : memref<448xi8> to memref<33xf32>
// CHECK:         %[[V_OFFSET:.*]] = arith.constant 256 : index
// CHECK:         memref.view %{{.*}}[%[[V_OFFSET]]][] : memref<448xi8> to memref<33xf32>
module {
  memref.global "private" @cache_k : memref<33xf32> = uninitialized
  memref.global "private" @cache_v : memref<33xf32> = uninitialized
  memref.global "private" constant @table : memref<2xf32> = dense<1.0>
  func.func @caches(%i: index, %v: f32) {
    %scratch = memref.alloc() : memref<16xf32>
    memref.store %v, %scratch[%i] : memref<16xf32>
    %k = memref.get_global @cache_k : memref<33xf32>
    %v2 = memref.get_global @cache_v : memref<33xf32>
    %t = memref.get_global @table : memref<2xf32>
    memref.store %v, %k[%i] : memref<33xf32>
    memref.store %v, %v2[%i] : memref<33xf32>
    return
  }
}

// -----

// Nothing to place: an empty arena.
// CHECK:       module attributes {ms.arena_bytes = 0 : i64}
// CHECK:       memref.global "private" @ms_arena : memref<0xi8>
module {
  func.func private @declaration()
}
