/*===- serial.c - the parallel loop of targets without threads -------------===*
 *
 * Part of the Microscale project.
 *
 * Firmware runs every loop on the calling thread; ms_set_threads is
 * accepted and ignored so code written for hosted targets links unchanged.
 *
 *===----------------------------------------------------------------------===*/

#include "kernels/parallel.h"
#include "microscale/runtime.h"

void ms_parallel_for(int64_t count, ms_range_fn fn, void *context) {
  fn(context, 0, count);
}

int ms_get_threads(void) { return 1; }

void ms_set_threads(int threads) { (void)threads; }
