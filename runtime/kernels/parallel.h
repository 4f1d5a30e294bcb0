/*===- parallel.h - the parallel loop the kernels run on -------------------===*
 *
 * Part of the Microscale project.
 *
 * Implemented by the hosted runtime with a pool of threads
 * (hosted/threads.c) and by core/serial.c, inline on the caller, for
 * targets without threads (firmware).
 *
 *===----------------------------------------------------------------------===*/

#ifndef MICROSCALE_RUNTIME_KERNELS_PARALLEL_H
#define MICROSCALE_RUNTIME_KERNELS_PARALLEL_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Work on items [begin, end) of a parallel loop. */
typedef void (*ms_range_fn)(void *context, int64_t begin, int64_t end);

/* Runs fn over [0, count), split into contiguous chunks that the calling
 * thread and the pool's workers take as they come. Returns when every
 * chunk is done. The split depends only on count and the thread count. */
void ms_parallel_for(int64_t count, ms_range_fn fn, void *context);

/* Number of threads ms_parallel_for uses (1 without threads). */
int ms_get_threads(void);

#ifdef __cplusplus
}
#endif

#endif /* MICROSCALE_RUNTIME_KERNELS_PARALLEL_H */
