/*===- builtins.h - the C library the freestanding core may use ------------===*
 *
 * Part of the Microscale project.
 *
 * The core and the kernels compile with -ffreestanding for targets that
 * have no C library headers (Cortex-M firmware), so they take string and
 * math functions from the compiler's builtins instead of <string.h> and
 * <math.h>. A builtin may still become a call: to memcpy, memmove, memset
 * or memcmp, which every freestanding C implementation provides, or to a
 * math function (expf), which libm or the firmware's runtime provides.
 * Nothing here reaches the operating system.
 *
 *===----------------------------------------------------------------------===*/

#ifndef MICROSCALE_RUNTIME_CORE_BUILTINS_H
#define MICROSCALE_RUNTIME_CORE_BUILTINS_H

#define ms_memcpy __builtin_memcpy
#define ms_memmove __builtin_memmove
#define ms_memset __builtin_memset
#define ms_memcmp __builtin_memcmp
#define ms_expf __builtin_expf
#define MS_INFINITY __builtin_inff()

#endif /* MICROSCALE_RUNTIME_CORE_BUILTINS_H */
