/*
 * grow.h: room for one more element at the end of a growing array, doubling its capacity (from
 * `first`).  Returns the array (moved or not), or NULL when out of memory (the old one is intact).
 */
#ifndef ETHER_GROW_H
#define ETHER_GROW_H

#include <stddef.h>
#include <stdlib.h>

static inline void *grow_array(void *items, size_t count, size_t *cap, size_t elem_size, size_t first)
{
    if (count < *cap)
        return items;
    size_t n = *cap ? *cap * 2 : first;
    void *p = realloc(items, n * elem_size);
    if (p)
        *cap = n;
    return p;
}

#endif
