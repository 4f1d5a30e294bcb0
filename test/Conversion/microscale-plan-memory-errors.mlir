// RUN: microscale-opt %s --split-input-file --verify-diagnostics --allow-unregistered-dialect --microscale-plan-memory

func.func @dynamic(%n: index) {
  // expected-error @below {{cannot place a buffer of type 'memref<?xf32>' in the static arena: it needs a static shape, an identity layout and integer or float elements}}
  %a = memref.alloc(%n) : memref<?xf32>
  return
}

// -----

func.func @first() {
  %a = memref.alloc() : memref<4xf32>
  return
}
// expected-error @below {{the arena is planned for one function, but 'first' also allocates}}
func.func @second() {
  %a = memref.alloc() : memref<4xf32>
  return
}

// -----

// expected-error @below {{the module already has an arena 'ms_arena'}}
module {
  memref.global "private" @ms_arena : memref<64xi8> = uninitialized
}

// -----

memref.global "private" @cache : memref<4xf32> = uninitialized
func.func @other_use() {
  // expected-error @below {{cannot place global 'cache' in the arena: it is used other than by get_global}}
  "test.use"() {symbol = @cache} : () -> ()
  return
}
