/*
 * u64map.h: a small open-addressing hash map from uint64_t keys to uint64_t values (guest frame
 * numbers to page states, page hashes, replay pages).  Keys are any value but UINT64_MAX.
 */
#ifndef ETHER_U64MAP_H
#define ETHER_U64MAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct u64map {
    uint64_t *keys;
    uint64_t *values;
    size_t capacity;  /* power of two, 0 before first insert */
    size_t count;
};

void u64map_init(struct u64map *m);
void u64map_free(struct u64map *m);
/* Pointer to the value slot, or NULL when absent. */
uint64_t *u64map_find(const struct u64map *m, uint64_t key);
/* Inserts (value 0) when absent; NULL only when out of memory. */
uint64_t *u64map_upsert(struct u64map *m, uint64_t key, bool *inserted);
/* Iteration: for (size_t i = 0; u64map_next(m, &i, &k, &v); ) */
bool u64map_next(const struct u64map *m, size_t *cursor, uint64_t *key, uint64_t *value);

#endif
