// What it costs two threads to own interleaved blocks of one buffer, step after step: the
// pattern of a time loop split between workers by hidden-unit tiles, where each row of the
// step's buffers (state, dG, saved gates) holds a few hundred bytes of each worker's.
//
// Each "step": every thread writes its own blocks of a 48 KB buffer (24 KB each), meets the
// other, reads its own blocks back, meets again. No cache line is written by both threads;
// the blocks each thread owns alternate with the other's at the given size. Printed: µs per
// step for each block size, for contiguous halves, for the two meetings alone, and for one
// thread doing all 48 KB without meetings.
//
//   cc -O3 -march=native -pthread scripts/interleave-bench.c -o /tmp/interleave && /tmp/interleave
// (x86-64: the spin uses the pause instruction)
//
// On the 2-core Zen 5 VM (2026-12-02, two runs): blocks of 256 B 7.8-8.2 µs a step, 512 B and
// 1 KB 4.1, 2 KB 2.3, 4 KB and 8 KB 1.2, contiguous halves 1.1, the meetings alone 0.5, one
// thread doing all 48 KB 0.85. Blocks under 4 KB cost 1-7 µs a step although no line is
// shared: the hardware prefetchers pull the neighbour's lines, and each write takes them back.
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

enum { kFloats = 12288, kSteps = 20000 };  // 48 KB of words: D's dG of one step (B 32 x 3H, H 128)

// 32-bit words, summed by xor: the loops vectorize, so the memory traffic is what is timed.
static uint32_t* g_buffer;
static int g_block;  // words a thread owns in turn; kFloats / 2: contiguous halves; 0: none
static _Alignas(64) atomic_int g_arrivals;
static volatile uint32_t g_sink[2];

static double now_us(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1e6 + t.tv_nsec / 1e3;
}

// Both threads arrive (a counter that only grows); `meeting` counts this thread's meetings.
static void meet(int* meeting) {
  const int target = 2 * ++*meeting;
  atomic_fetch_add(&g_arrivals, 1);
  while (atomic_load(&g_arrivals) < target) __builtin_ia32_pause();
}

static void* worker(void* arg) {
  const int self = (int)(long)arg;
  int meeting = 0;
  uint32_t sum = 0;
  for (int step = 0; step < kSteps; ++step) {
    if (g_block > 0)
      for (int b = self; b * g_block < kFloats; b += 2)
        for (int i = 0; i < g_block; ++i) g_buffer[b * g_block + i] = (uint32_t)(step + i);
    meet(&meeting);
    if (g_block > 0)
      for (int b = self; b * g_block < kFloats; b += 2)
        for (int i = 0; i < g_block; ++i) sum ^= g_buffer[b * g_block + i];
    meet(&meeting);
  }
  g_sink[self] = sum;
  return NULL;
}

static double two_threads(int block) {
  g_block = block;
  atomic_store(&g_arrivals, 0);
  pthread_t other;
  const double t0 = now_us();
  pthread_create(&other, NULL, worker, (void*)1L);
  worker((void*)0L);
  pthread_join(other, NULL);
  return (now_us() - t0) / kSteps;
}

static double one_thread(void) {
  uint32_t sum = 0;
  const double t0 = now_us();
  for (int step = 0; step < kSteps; ++step) {
    for (int i = 0; i < kFloats; ++i) g_buffer[i] = (uint32_t)(step + i);
    for (int i = 0; i < kFloats; ++i) sum ^= g_buffer[i];
  }
  g_sink[0] = sum;
  return (now_us() - t0) / kSteps;
}

int main(void) {
  g_buffer = aligned_alloc(4096, kFloats * sizeof(uint32_t));
  if (!g_buffer) return 1;
  for (int bytes = 256; bytes <= 8192; bytes *= 2)
    printf("blocks of %5d B: %6.2f us a step\n", bytes, two_threads(bytes / (int)sizeof(uint32_t)));
  printf("contiguous halves: %6.2f us a step\n", two_threads(kFloats / 2));
  printf("meetings alone:    %6.2f us a step\n", two_threads(0));
  printf("one thread, 48 KB: %6.2f us a step\n", one_thread());
  free(g_buffer);
  return 0;
}
