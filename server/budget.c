#include "budget.h"

int dwsd_budget_take(dwsd_budget *b, size_t n)
{
    size_t used = atomic_load(&b->used);
    do {
        if (n > b->capacity || used > b->capacity - n) return 0;
    } while (!atomic_compare_exchange_weak(&b->used, &used, used + n));
    return 1;
}

void dwsd_budget_give(dwsd_budget *b, size_t n)
{
    atomic_fetch_sub(&b->used, n);
}
