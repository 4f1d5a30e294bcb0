#!/bin/sh
# Prints the undefined symbols of the given objects or archives that a
# freestanding runtime may not use: everything but the ABI's own ms_*
# symbols, the ARM EABI helpers and the memory and math functions the
# compiler itself emits calls to (see runtime/core/builtins.h).
# llvm-nm names each object on a line ending in ':'.
"$NM" --undefined-only --format=just-symbols "$@" | sort -u |
  grep -v -E '^(ms_[a-z0-9_]+|__aeabi_[a-z0-9_]+|mem(cpy|move|set|cmp)|expf)$' |
  grep -v -E '(^$|:$)'
exit 0
