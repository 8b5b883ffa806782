/*
 * trap_log.h — what the SIGTRAP handler of a trap program saw: how many traps, and the last one's
 * si_code and rip (the instruction after the trapping one, natively). icebp.c and int3_handler.c
 * compare these with what a native run gets; a single-stepper that swallows or misplaces a trap
 * shows up here.
 */
#ifndef TRAP_LOG_H
#define TRAP_LOG_H
#include "tlib.h"

static volatile int traps;
static volatile int last_code;
static volatile u64 last_rip;

/* Call from the SA_SIGINFO handler with its info and ucontext arguments. */
static void log_trap(const t_siginfo *info, const void *uc_)
{
    const t_ucontext *uc = uc_;
    traps++;
    last_code = info->si_code;
    last_rip = uc->gregs[REG_RIP];
}

#endif
