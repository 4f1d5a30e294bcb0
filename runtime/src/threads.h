/*===- threads.h - a fixed pool of worker threads --------------------------===*
 *
 * Part of the Microscale project.
 *
 *===----------------------------------------------------------------------===*/

#ifndef MICROSCALE_RUNTIME_THREADS_H
#define MICROSCALE_RUNTIME_THREADS_H

#include <stdint.h>

/* Work on items [begin, end) of a parallel loop. */
typedef void (*ms_range_fn)(void *context, int64_t begin, int64_t end);

/* Runs fn over [0, count) split into one contiguous chunk per thread; the
 * calling thread takes the first chunk. Returns when every chunk is done.
 * The split depends only on count and the thread count. */
void ms_parallel_for(int64_t count, ms_range_fn fn, void *context);

/* Number of threads ms_parallel_for uses (1 when built without threads). */
int ms_get_threads(void);

#endif /* MICROSCALE_RUNTIME_THREADS_H */
