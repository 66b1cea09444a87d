/* A byte budget shared by threads: admission takes from it, finishing gives back.
 * Lock-free; never overcommits. */
#ifndef DWSD_BUDGET_H
#define DWSD_BUDGET_H

#include <stdatomic.h>
#include <stddef.h>

typedef struct {
    size_t capacity;
    atomic_size_t used;
} dwsd_budget;

/* Takes n bytes if they fit: 1, else 0 (nothing taken). */
int dwsd_budget_take(dwsd_budget *b, size_t n);
void dwsd_budget_give(dwsd_budget *b, size_t n);

#endif
