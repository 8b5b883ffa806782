/*
 * step_operands.h: the memory one single-stepped instruction reads or writes, computed from its
 * bytes and the registers (Zydis).  step_writes.c asks for the writes of the step that just ran,
 * step_reads.c for the reads of the step about to run.
 */
#ifndef ETHER_STEP_OPERANDS_H
#define ETHER_STEP_OPERANDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "xen_headers.h"

#define MAX_OPERAND_RANGES 4   /* memory operands of one instruction, at most */

struct operand_range {
    uint64_t address;          /* linear (segment base of FS/GS added) */
    uint32_t size;             /* bytes, capped at the caller's max_size */
};

enum operand_access { OPERAND_READ, OPERAND_WRITE };

/*
 * The ranges `insn` (len bytes, at before->rip) reads or writes when it runs once from the
 * registers `before`.  Writes need `after` (the registers after the step: a push's slot is where
 * the stack pointer points afterwards, enter's where the new frame pointer does); reads do not
 * (pass NULL).  Returns how many (0 for an undecodable instruction or a REP with a zero count).
 */
unsigned step_operand_ranges(const uint8_t *insn, size_t len, const struct vm_event_regs_x86 *before,
                             const struct vm_event_regs_x86 *after, enum operand_access access,
                             uint32_t max_size, struct operand_range *out);

/* Whether `insn` writes memory at all (before: the registers before it). */
bool step_writes_memory(const uint8_t *insn, size_t len, const struct vm_event_regs_x86 *before);

#endif
