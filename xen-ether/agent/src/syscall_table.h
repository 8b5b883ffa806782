/*
 * syscall_table.h: number -> name for one guest build, loaded from a CSV
 * ("number_hex,number,name", as in the project's Windows syscall tables).  Optional: without a
 * table the agent still reports numbers and raw arguments, which is all the recorder needs.
 */
#ifndef ETHER_SYSCALL_TABLE_H
#define ETHER_SYSCALL_TABLE_H

#include <stddef.h>
#include <stdint.h>

struct syscall_table {
    char **names;   /* indexed by number, NULL where unknown */
    size_t count;
};

/* 0, or -1 with a one-line reason in err. */
int syscall_table_load(struct syscall_table *t, const char *path, char *err, size_t errlen);
void syscall_table_free(struct syscall_table *t);
const char *syscall_table_name(const struct syscall_table *t, uint64_t number);

/*
 * Which argument (0-based) of a Windows native call is a POBJECT_ATTRIBUTES whose object name the
 * agent should read while the guest waits, or -1.  These are facts of the documented prototypes
 * (e.g. NtOpenFile(FileHandle, DesiredAccess, ObjectAttributes, ...)).
 */
int windows_object_attributes_arg(const char *name);

#endif
