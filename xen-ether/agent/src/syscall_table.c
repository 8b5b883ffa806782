#include "syscall_table.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_NUMBER 0x10000

int syscall_table_load(struct syscall_table *t, const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "r");
    char line[512];
    unsigned lineno = 0;

    t->names = NULL;
    t->count = 0;
    if (!f) {
        snprintf(err, errlen, "cannot open syscall table %s: %s", path, strerror(errno));
        return -1;
    }
    while (fgets(line, sizeof line, f)) {
        lineno++;
        line[strcspn(line, "\r\n")] = '\0';
        if (line[0] == '\0' || line[0] == '#' || strncmp(line, "number_hex", 10) == 0)
            continue;
        char *c1 = strchr(line, ',');
        char *c2 = c1 ? strchr(c1 + 1, ',') : NULL;
        if (!c2 || c2[1] == '\0') {
            snprintf(err, errlen, "%s:%u: expected number_hex,number,name", path, lineno);
            goto fail;
        }
        char *end;
        errno = 0;
        unsigned long n = strtoul(c1 + 1, &end, 10);
        if (errno || end != c2 || n >= MAX_NUMBER) {
            snprintf(err, errlen, "%s:%u: bad number", path, lineno);
            goto fail;
        }
        if (n >= t->count) {
            size_t count = n + 1;
            char **names = realloc(t->names, count * sizeof *names);
            if (!names) {
                snprintf(err, errlen, "out of memory loading %s", path);
                goto fail;
            }
            memset(names + t->count, 0, (count - t->count) * sizeof *names);
            t->names = names;
            t->count = count;
        }
        free(t->names[n]);
        t->names[n] = strdup(c2 + 1);
        if (!t->names[n]) {
            snprintf(err, errlen, "out of memory loading %s", path);
            goto fail;
        }
    }
    fclose(f);
    if (t->count == 0) {
        snprintf(err, errlen, "syscall table %s has no entries", path);
        return -1;
    }
    return 0;
fail:
    fclose(f);
    syscall_table_free(t);
    return -1;
}

void syscall_table_free(struct syscall_table *t)
{
    for (size_t i = 0; i < t->count; i++)
        free(t->names[i]);
    free(t->names);
    t->names = NULL;
    t->count = 0;
}

const char *syscall_table_name(const struct syscall_table *t, uint64_t number)
{
    if (!t || number >= t->count)
        return NULL;
    return t->names[number];
}

int windows_object_attributes_arg(const char *name)
{
    static const struct {
        const char *name;
        int arg;
    } calls[] = {
        { "NtCreateFile", 2 },          { "NtOpenFile", 2 },
        { "NtDeleteFile", 0 },          { "NtQueryAttributesFile", 0 },
        { "NtQueryFullAttributesFile", 0 },
        { "NtCreateKey", 2 },           { "NtOpenKey", 2 },
        { "NtOpenKeyEx", 2 },           { "NtOpenProcess", 2 },
        { "NtOpenThread", 2 },          { "NtCreateSection", 2 },
        { "NtOpenSection", 2 },         { "NtCreateMutant", 2 },
        { "NtOpenMutant", 2 },          { "NtCreateEvent", 2 },
        { "NtOpenEvent", 2 },           { "NtCreateSemaphore", 2 },
        { "NtOpenSemaphore", 2 },       { "NtCreateNamedPipeFile", 2 },
        { "NtCreateMailslotFile", 2 },  { "NtOpenSymbolicLinkObject", 2 },
        { "NtOpenDirectoryObject", 2 }, { "NtCreateDirectoryObject", 2 },
        { "NtCreatePort", 1 },          { "NtLoadKey", 0 },
    };
    if (!name)
        return -1;
    for (size_t i = 0; i < sizeof calls / sizeof calls[0]; i++)
        if (strcmp(calls[i].name, name) == 0)
            return calls[i].arg;
    return -1;
}
