/*===- threads.c - a fixed pool of worker threads --------------------------===*
 *
 * Part of the Microscale project.
 *
 * Workers are created once (on the first parallel loop after
 * ms_set_threads); between loops they poll briefly, then sleep on a
 * condition variable, so back-to-back loops cost no wake-up. Targets
 * without threads link core/serial.c instead.
 *
 *===----------------------------------------------------------------------===*/

#include "kernels/parallel.h"
#include "microscale/runtime.h"

#include <pthread.h>
#include <stdatomic.h>
#include <unistd.h>

#define MS_MAX_THREADS 64
/* Polls before a worker sleeps: a decode step runs dozens of short
 * parallel loops back to back, and a condition-variable wake-up per loop
 * would cost more than the loop. */
#define MS_SPIN_POLLS 200000

static struct {
  pthread_mutex_t lock;
  pthread_cond_t work_ready;
  pthread_t workers[MS_MAX_THREADS];
  /* The loop generation current when each worker was created: a worker
   * joining later must not take an earlier loop for new work. */
  uint64_t start_generation[MS_MAX_THREADS + 1];
  int started;  /* workers running */
  int wanted;   /* threads requested (0: all cores) */
  int sleeping; /* workers waiting on work_ready (under lock) */
  _Atomic uint64_t generation;
  _Atomic int pending; /* workers still busy with this generation */
  /* The current loop; written before generation is published. */
  ms_range_fn fn;
  void *context;
  int64_t count;
  int threads;
} pool = {.lock = PTHREAD_MUTEX_INITIALIZER,
          .work_ready = PTHREAD_COND_INITIALIZER};

static inline void cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  __asm__ volatile("yield");
#endif
}

static void run_chunk(int index, int threads, ms_range_fn fn, void *context,
                      int64_t count) {
  int64_t begin = count * index / threads;
  int64_t end = count * (index + 1) / threads;
  if (begin < end)
    fn(context, begin, end);
}

static void *worker_main(void *arg) {
  int index = (int)(intptr_t)arg;
  uint64_t seen = pool.start_generation[index];
  for (;;) {
    uint64_t now = atomic_load_explicit(&pool.generation, memory_order_acquire);
    for (int i = 0; now == seen && i < MS_SPIN_POLLS; ++i) {
      cpu_relax();
      now = atomic_load_explicit(&pool.generation, memory_order_acquire);
    }
    if (now == seen) {
      pthread_mutex_lock(&pool.lock);
      ++pool.sleeping;
      while ((now = atomic_load(&pool.generation)) == seen)
        pthread_cond_wait(&pool.work_ready, &pool.lock);
      --pool.sleeping;
      pthread_mutex_unlock(&pool.lock);
    }
    seen = now;
    if (index < pool.threads)
      run_chunk(index, pool.threads, pool.fn, pool.context, pool.count);
    atomic_fetch_sub_explicit(&pool.pending, 1, memory_order_release);
  }
  return 0;
}

static int default_threads(void) {
  long cores = sysconf(_SC_NPROCESSORS_ONLN);
  return cores < 1 ? 1 : cores > MS_MAX_THREADS ? MS_MAX_THREADS : (int)cores;
}

int ms_get_threads(void) {
  int threads = pool.wanted > 0 ? pool.wanted : default_threads();
  return threads > MS_MAX_THREADS ? MS_MAX_THREADS : threads;
}

void ms_set_threads(int threads) { pool.wanted = threads; }

void ms_parallel_for(int64_t count, ms_range_fn fn, void *context) {
  int threads = ms_get_threads();
  if (threads > count)
    threads = count < 1 ? 1 : (int)count;
  if (threads == 1) {
    fn(context, 0, count);
    return;
  }
  /* Workers 1 .. threads-1; the caller is thread 0. */
  while (pool.started < threads - 1) {
    pool.start_generation[pool.started + 1] =
        atomic_load_explicit(&pool.generation, memory_order_relaxed);
    if (pthread_create(&pool.workers[pool.started], 0, worker_main,
                       (void *)(intptr_t)(pool.started + 1)) != 0)
      break;
    ++pool.started;
  }
  if (pool.started < threads - 1)
    threads = pool.started + 1;
  pool.fn = fn;
  pool.context = context;
  pool.count = count;
  pool.threads = threads;
  atomic_store_explicit(&pool.pending, pool.started, memory_order_relaxed);
  atomic_fetch_add_explicit(&pool.generation, 1, memory_order_release);
  /* Sleepers re-check the generation under the lock, so none is missed. */
  pthread_mutex_lock(&pool.lock);
  if (pool.sleeping > 0)
    pthread_cond_broadcast(&pool.work_ready);
  pthread_mutex_unlock(&pool.lock);

  run_chunk(0, threads, fn, context, count);

  while (atomic_load_explicit(&pool.pending, memory_order_acquire) > 0)
    cpu_relax();
}
