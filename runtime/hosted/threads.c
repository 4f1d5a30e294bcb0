/*===- threads.c - a fixed pool of worker threads --------------------------===*
 *
 * Part of the Microscale project.
 *
 * Workers are created once (on the first parallel loop after
 * ms_set_threads). A loop is cut into a few chunks per thread, handed out
 * through one atomic ticket that the caller draws from too: on a busy
 * machine a worker the OS has not scheduled yet costs nothing, because the
 * others (the caller included) take its chunks, and the caller only waits
 * for chunks already running, yielding its core while it does. Idle workers
 * poll briefly (back-to-back loops of a decode step cost no wake-up), then
 * sleep on a condition variable. The default is one thread per physical
 * core this process may run on. Targets without threads link
 * core/serial.c instead.
 *
 * Each chunk covers the same items whichever thread runs it, and every
 * item is computed by the same sequential code, so results do not depend
 * on the thread count or on scheduling.
 *
 *===----------------------------------------------------------------------===*/

#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* sched_getaffinity, CPU_COUNT */
#endif

#include "kernels/parallel.h"
#include "microscale/runtime.h"

#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define MS_MAX_THREADS 64
/* Chunks per participating thread: enough for the others to absorb a
 * thread that starts late, few enough that a chunk is still long. */
#define MS_CHUNKS_PER_THREAD 4
/* Polls before an idle worker sleeps: tens of microseconds, which covers
 * the gap between the loops of a decode step but does not hold a core
 * another process could use. */
#define MS_SPIN_POLLS 20000
/* Polls the caller makes waiting for running chunks before it yields. */
#define MS_WAIT_POLLS 1000

/* The ticket: loop number (high 32 bits), next chunk (16), chunks (16). */
#define MS_TICKET(loop, next, chunks)                                          \
  (((uint64_t)(loop) << 32) | ((uint64_t)(next) << 16) | (uint64_t)(chunks))
#define MS_TICKET_LOOP(t) ((uint32_t)((t) >> 32))
#define MS_TICKET_NEXT(t) ((uint32_t)((t) >> 16) & 0xffffu)
#define MS_TICKET_CHUNKS(t) ((uint32_t)(t) & 0xffffu)

static struct {
  pthread_mutex_t lock;
  pthread_cond_t work_ready;
  pthread_t workers[MS_MAX_THREADS];
  int started;    /* workers running */
  int wanted;     /* threads requested (0: all cores) */
  int sleeping;   /* workers waiting on work_ready (under lock) */
  uint32_t loops; /* loops published (written by the caller only) */
  _Atomic uint64_t ticket;
  _Atomic int64_t done; /* chunks of the current loop finished */
  /* The current loop; written before its ticket is published, and stable
   * until all its chunks are done. */
  ms_range_fn fn;
  void *context;
  int64_t count;
  int threads; /* participants: the caller and workers 1 .. threads-1 */
} pool = {.lock = PTHREAD_MUTEX_INITIALIZER,
          .work_ready = PTHREAD_COND_INITIALIZER};

static inline void cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  __asm__ volatile("yield");
#endif
}

/* Runs chunks of the current loop until none is left to take. A chunk
 * taken from a loop's ticket keeps that loop's description stable: the
 * caller publishes the next loop only once every chunk is done. */
static void run_chunks(void) {
  uint64_t ticket = atomic_load_explicit(&pool.ticket, memory_order_acquire);
  for (;;) {
    uint32_t next = MS_TICKET_NEXT(ticket), chunks = MS_TICKET_CHUNKS(ticket);
    if (next >= chunks)
      return;
    if (!atomic_compare_exchange_weak_explicit(
            &pool.ticket, &ticket, ticket + ((uint64_t)1 << 16),
            memory_order_acquire, memory_order_acquire))
      continue;
    int64_t begin = pool.count * next / chunks;
    int64_t end = pool.count * (next + 1) / chunks;
    if (begin < end)
      pool.fn(pool.context, begin, end);
    atomic_fetch_add_explicit(&pool.done, 1, memory_order_release);
    ticket = atomic_load_explicit(&pool.ticket, memory_order_acquire);
  }
}

/* Waits until a loop after `seen` is published; returns its number. */
static uint32_t wait_for_loop(uint32_t seen) {
  uint64_t ticket = atomic_load_explicit(&pool.ticket, memory_order_acquire);
  for (int i = 0; MS_TICKET_LOOP(ticket) == seen && i < MS_SPIN_POLLS; ++i) {
    cpu_relax();
    ticket = atomic_load_explicit(&pool.ticket, memory_order_acquire);
  }
  if (MS_TICKET_LOOP(ticket) == seen) {
    pthread_mutex_lock(&pool.lock);
    ++pool.sleeping;
    while (MS_TICKET_LOOP(ticket = atomic_load(&pool.ticket)) == seen)
      pthread_cond_wait(&pool.work_ready, &pool.lock);
    --pool.sleeping;
    pthread_mutex_unlock(&pool.lock);
  }
  return MS_TICKET_LOOP(ticket);
}

typedef struct {
  int index;
  uint32_t first_seen; /* the loop current when the worker was created */
} worker_start;

static worker_start starts[MS_MAX_THREADS];

static void *worker_main(void *arg) {
  const worker_start *start = arg;
  uint32_t seen = start->first_seen;
  for (;;) {
    seen = wait_for_loop(seen);
    /* Workers beyond the requested count stay out of this loop. */
    if (start->index < pool.threads)
      run_chunks();
  }
  return 0;
}

/* The first number of a sysfs CPU list such as "0,4" or "2-3"; -1 when the
 * file cannot be read. */
static long first_cpu_in_list(const char *path) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return -1;
  char text[32];
  ssize_t length = read(fd, text, sizeof text - 1);
  close(fd);
  if (length <= 0)
    return -1;
  text[length] = 0;
  char *end;
  long cpu = strtol(text, &end, 10);
  return end == text ? -1 : cpu;
}

/* Physical cores among the CPUs this process may run on: a CPU counts when
 * it is the first of its core's hardware threads (Linux sysfs topology).
 * SMT siblings share a core's vector units, so a second thread per core
 * mostly waits for the first; 0 when the topology is not readable. */
static int physical_cores(cpu_set_t *allowed) {
  cpu_set_t seen; /* the first thread of each core counted */
  CPU_ZERO(&seen);
  int cores = 0;
  for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu) {
    if (!CPU_ISSET(cpu, allowed))
      continue;
    char path[96];
    snprintf(path, sizeof path,
             "/sys/devices/system/cpu/cpu%d/topology/core_cpus_list", cpu);
    long first = first_cpu_in_list(path);
    if (first < 0) {
      snprintf(path, sizeof path,
               "/sys/devices/system/cpu/cpu%d/topology/thread_siblings_list",
               cpu);
      first = first_cpu_in_list(path);
    }
    if (first < 0)
      return 0;
    /* A core counts once, whichever of its threads are allowed. */
    if (first >= (long)CPU_SETSIZE)
      return 0;
    if (!CPU_ISSET((int)first, &seen)) {
      CPU_SET((int)first, &seen);
      ++cores;
    }
  }
  return cores;
}

/* The default thread count: the physical cores this process may use (its
 * affinity mask, which containers and taskset narrow), else the online
 * logical CPUs. Computed once. */
static int default_threads(void) {
  static int cached;
  if (cached)
    return cached;
  long cores = 0;
  cpu_set_t allowed;
  if (sched_getaffinity(0, sizeof allowed, &allowed) == 0) {
    cores = physical_cores(&allowed);
    if (cores == 0)
      cores = CPU_COUNT(&allowed);
  }
  if (cores < 1)
    cores = sysconf(_SC_NPROCESSORS_ONLN);
  cached = cores < 1 ? 1 : cores > MS_MAX_THREADS ? MS_MAX_THREADS : (int)cores;
  return cached;
}

int ms_get_threads(void) {
  int threads = pool.wanted > 0 ? pool.wanted : default_threads();
  return threads > MS_MAX_THREADS ? MS_MAX_THREADS : threads;
}

void ms_set_threads(int threads) { pool.wanted = threads; }

/* Creates workers 1 .. threads-1 not yet running; returns how many threads
 * (the caller included) can take part. */
static int start_workers(int threads) {
  while (pool.started < threads - 1) {
    worker_start *start = &starts[pool.started];
    start->index = pool.started + 1;
    start->first_seen = pool.loops;
    if (pthread_create(&pool.workers[pool.started], 0, worker_main, start) != 0)
      break;
    ++pool.started;
  }
  return threads < pool.started + 1 ? threads : pool.started + 1;
}

void ms_parallel_for(int64_t count, ms_range_fn fn, void *context) {
  int threads = ms_get_threads();
  if (threads > count)
    threads = count < 1 ? 1 : (int)count;
  if (threads > 1)
    threads = start_workers(threads);
  if (threads == 1) {
    fn(context, 0, count);
    return;
  }
  int64_t chunks = (int64_t)threads * MS_CHUNKS_PER_THREAD;
  if (chunks > count)
    chunks = count;
  pool.fn = fn;
  pool.context = context;
  pool.count = count;
  pool.threads = threads;
  atomic_store_explicit(&pool.done, 0, memory_order_relaxed);
  ++pool.loops;
  atomic_store_explicit(&pool.ticket, MS_TICKET(pool.loops, 0, chunks),
                        memory_order_release);
  /* Sleepers re-check the ticket under the lock, so none is missed. */
  pthread_mutex_lock(&pool.lock);
  if (pool.sleeping > 0)
    pthread_cond_broadcast(&pool.work_ready);
  pthread_mutex_unlock(&pool.lock);

  run_chunks();
  for (int i = 0;
       atomic_load_explicit(&pool.done, memory_order_acquire) < chunks; ++i) {
    if (i < MS_WAIT_POLLS)
      cpu_relax();
    else
      sched_yield();
  }
}
