//===- KernelOps.h - kernel dialect -----------------------------*- C++ -*-===//
//
// Part of the Microscale project.
//
//===----------------------------------------------------------------------===//

#ifndef MICROSCALE_DIALECT_KERNEL_IR_KERNELOPS_H
#define MICROSCALE_DIALECT_KERNEL_IR_KERNELOPS_H

#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Dialect.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#include "microscale/Dialect/Kernel/IR/KernelOpsDialect.h.inc"

#define GET_ATTRDEF_CLASSES
#include "microscale/Dialect/Kernel/IR/KernelAttrs.h.inc"

#define GET_OP_CLASSES
#include "microscale/Dialect/Kernel/IR/KernelOps.h.inc"

#endif // MICROSCALE_DIALECT_KERNEL_IR_KERNELOPS_H
