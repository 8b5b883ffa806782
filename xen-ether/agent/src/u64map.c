#include "u64map.h"

#include <stdlib.h>

#define EMPTY UINT64_MAX

static size_t slot_of(uint64_t key, size_t capacity)
{
    /* Fibonacci hashing: frame numbers are sequential, this spreads them. */
    return (size_t)((key * 0x9E3779B97F4A7C15ull) >> 17) & (capacity - 1);
}

void u64map_init(struct u64map *m)
{
    m->keys = NULL;
    m->values = NULL;
    m->capacity = 0;
    m->count = 0;
}

void u64map_free(struct u64map *m)
{
    free(m->keys);
    free(m->values);
    u64map_init(m);
}

uint64_t *u64map_find(const struct u64map *m, uint64_t key)
{
    if (m->capacity == 0 || key == EMPTY)
        return NULL;
    for (size_t i = slot_of(key, m->capacity);; i = (i + 1) & (m->capacity - 1)) {
        if (m->keys[i] == key)
            return &m->values[i];
        if (m->keys[i] == EMPTY)
            return NULL;
    }
}

static bool grow(struct u64map *m)
{
    size_t capacity = m->capacity ? m->capacity * 2 : 64;
    uint64_t *keys = malloc(capacity * sizeof *keys);
    uint64_t *values = malloc(capacity * sizeof *values);
    if (!keys || !values) {
        free(keys);
        free(values);
        return false;
    }
    for (size_t i = 0; i < capacity; i++)
        keys[i] = EMPTY;
    for (size_t j = 0; j < m->capacity; j++) {
        if (m->keys[j] == EMPTY)
            continue;
        size_t i = slot_of(m->keys[j], capacity);
        while (keys[i] != EMPTY)
            i = (i + 1) & (capacity - 1);
        keys[i] = m->keys[j];
        values[i] = m->values[j];
    }
    free(m->keys);
    free(m->values);
    m->keys = keys;
    m->values = values;
    m->capacity = capacity;
    return true;
}

uint64_t *u64map_upsert(struct u64map *m, uint64_t key, bool *inserted)
{
    if (inserted)
        *inserted = false;
    if (key == EMPTY)
        return NULL;
    uint64_t *found = u64map_find(m, key);
    if (found)
        return found;
    /* Keep the load under 1/2 so probes stay short. */
    if ((m->count + 1) * 2 > m->capacity && !grow(m))
        return NULL;
    size_t i = slot_of(key, m->capacity);
    while (m->keys[i] != EMPTY)
        i = (i + 1) & (m->capacity - 1);
    m->keys[i] = key;
    m->values[i] = 0;
    m->count++;
    if (inserted)
        *inserted = true;
    return &m->values[i];
}

bool u64map_next(const struct u64map *m, size_t *cursor, uint64_t *key, uint64_t *value)
{
    while (*cursor < m->capacity) {
        size_t i = (*cursor)++;
        if (m->keys[i] != EMPTY) {
            *key = m->keys[i];
            *value = m->values[i];
            return true;
        }
    }
    return false;
}
