/* A core file gone wrong: allocates and prints. */
#include <stddef.h>

void *malloc(size_t size);
int printf(const char *format, ...);

void *grow(size_t size) {
  printf("growing\n");
  return malloc(size);
}
