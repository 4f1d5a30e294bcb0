/*===- threads.c - a fixed pool of worker threads --------------------------===*
 *
 * Part of the Microscale project.
 *
 * Workers are created once (on the first parallel loop after
 * ms_set_threads) and sleep on a condition variable between loops, so a
 * decode step pays two wake-ups, not thread creation. Build with
 * -DMS_THREADS=0 for targets without pthreads; loops then run inline.
 *
 *===----------------------------------------------------------------------===*/

#include "threads.h"

#include "microscale/runtime.h"

#ifndef MS_THREADS
#define MS_THREADS 1
#endif

#if MS_THREADS
#include <pthread.h>
#include <unistd.h>

#define MS_MAX_THREADS 64

static struct {
  pthread_mutex_t lock;
  pthread_cond_t work_ready;
  pthread_cond_t work_done;
  pthread_t workers[MS_MAX_THREADS];
  int started;       /* workers running */
  int wanted;        /* threads requested (0: all cores) */
  uint64_t generation;
  int pending;       /* workers still busy with this generation */
  ms_range_fn fn;
  void *context;
  int64_t count;
  int threads;       /* threads taking part in this generation */
} pool = {.lock = PTHREAD_MUTEX_INITIALIZER,
          .work_ready = PTHREAD_COND_INITIALIZER,
          .work_done = PTHREAD_COND_INITIALIZER};

static void run_chunk(int index, int threads, ms_range_fn fn, void *context,
                      int64_t count) {
  int64_t begin = count * index / threads;
  int64_t end = count * (index + 1) / threads;
  if (begin < end)
    fn(context, begin, end);
}

static void *worker_main(void *arg) {
  int index = (int)(intptr_t)arg;
  uint64_t seen = 0;
  pthread_mutex_lock(&pool.lock);
  for (;;) {
    while (pool.generation == seen)
      pthread_cond_wait(&pool.work_ready, &pool.lock);
    seen = pool.generation;
    int threads = pool.threads;
    ms_range_fn fn = pool.fn;
    void *context = pool.context;
    int64_t count = pool.count;
    pthread_mutex_unlock(&pool.lock);
    if (index < threads)
      run_chunk(index, threads, fn, context, count);
    pthread_mutex_lock(&pool.lock);
    if (--pool.pending == 0)
      pthread_cond_signal(&pool.work_done);
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
  pthread_mutex_lock(&pool.lock);
  /* Workers 1 .. threads-1; the caller is thread 0. */
  while (pool.started < threads - 1) {
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
  pool.pending = pool.started;
  ++pool.generation;
  pthread_cond_broadcast(&pool.work_ready);
  pthread_mutex_unlock(&pool.lock);

  run_chunk(0, threads, fn, context, count);

  pthread_mutex_lock(&pool.lock);
  while (pool.pending > 0)
    pthread_cond_wait(&pool.work_done, &pool.lock);
  pthread_mutex_unlock(&pool.lock);
}

#else /* !MS_THREADS */

int ms_get_threads(void) { return 1; }
void ms_set_threads(int threads) { (void)threads; }
void ms_parallel_for(int64_t count, ms_range_fn fn, void *context) {
  fn(context, 0, count);
}

#endif
