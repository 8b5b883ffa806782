/*
 * step_operands.c: the memory operands of one stepped instruction as linear ranges.  Each step
 * frame shows the instruction and the registers before it runs; Zydis decodes it, and the address
 * of every memory operand it reads or writes follows from those registers (plus the FS/GS base).
 * Instruction fetch, page-table walks and descriptor-table reads are the CPU's, not operands: not
 * here.
 */
#include <string.h>

#include <Zydis/Zydis.h>

#include "step_operands.h"
#include "tracer_internal.h"

static void fill_context(ZydisRegisterContext *c, const struct vm_event_regs_x86 *r)
{
    memset(c, 0, sizeof *c);
    const struct { ZydisRegister reg; uint64_t v; } regs[] = {
        { ZYDIS_REGISTER_RAX, r->rax }, { ZYDIS_REGISTER_RBX, r->rbx }, { ZYDIS_REGISTER_RCX, r->rcx },
        { ZYDIS_REGISTER_RDX, r->rdx }, { ZYDIS_REGISTER_RSI, r->rsi }, { ZYDIS_REGISTER_RDI, r->rdi },
        { ZYDIS_REGISTER_RBP, r->rbp }, { ZYDIS_REGISTER_RSP, r->rsp }, { ZYDIS_REGISTER_R8, r->r8 },
        { ZYDIS_REGISTER_R9, r->r9 },   { ZYDIS_REGISTER_R10, r->r10 }, { ZYDIS_REGISTER_R11, r->r11 },
        { ZYDIS_REGISTER_R12, r->r12 }, { ZYDIS_REGISTER_R13, r->r13 }, { ZYDIS_REGISTER_R14, r->r14 },
        { ZYDIS_REGISTER_R15, r->r15 }, { ZYDIS_REGISTER_RIP, r->rip },
    };
    for (size_t i = 0; i < sizeof regs / sizeof regs[0]; i++) {
        c->values[regs[i].reg] = regs[i].v;
        /* The 32- and 16-bit names of the same register, for 32-bit code and address overrides. */
        ZydisRegister r32 = ZydisRegisterEncode(ZYDIS_REGCLASS_GPR32, ZydisRegisterGetId(regs[i].reg));
        ZydisRegister r16 = ZydisRegisterEncode(ZYDIS_REGCLASS_GPR16, ZydisRegisterGetId(regs[i].reg));
        if (r32 != ZYDIS_REGISTER_NONE)
            c->values[r32] = regs[i].v & 0xFFFFFFFFull;
        if (r16 != ZYDIS_REGISTER_NONE)
            c->values[r16] = regs[i].v & 0xFFFFull;
    }
    c->values[ZYDIS_REGISTER_EIP] = r->rip & 0xFFFFFFFFull;
}

unsigned step_operand_ranges(const uint8_t *insn, size_t len, const struct vm_event_regs_x86 *r,
                             const struct vm_event_regs_x86 *after, enum operand_access access,
                             uint32_t max_size, struct operand_range *out)
{
    ZydisDecoder dec;
    bool long64 = code64(r);
    ZydisDecoderInit(&dec, long64 ? ZYDIS_MACHINE_MODE_LONG_64 : ZYDIS_MACHINE_MODE_LONG_COMPAT_32,
                     long64 ? ZYDIS_STACK_WIDTH_64 : ZYDIS_STACK_WIDTH_32);
    ZydisDecodedInstruction in;
    ZydisDecodedOperand ops[ZYDIS_MAX_OPERAND_COUNT];
    if (!ZYAN_SUCCESS(ZydisDecoderDecodeFull(&dec, insn, len, &in, ops)))
        return 0;
    /* A REP-prefixed string instruction with a zero count touches nothing (each iteration is a step). */
    if ((in.attributes & (ZYDIS_ATTRIB_HAS_REP | ZYDIS_ATTRIB_HAS_REPE | ZYDIS_ATTRIB_HAS_REPNE)) &&
        (long64 && in.address_width == 64 ? r->rcx : r->rcx & 0xFFFFFFFFull) == 0)
        return 0;
    ZydisOperandActions wanted = access == OPERAND_WRITE ? ZYDIS_OPERAND_ACTION_MASK_WRITE
                                                         : ZYDIS_OPERAND_ACTION_MASK_READ;
    ZydisRegisterContext ctx;
    fill_context(&ctx, r);
    unsigned n = 0;
    for (unsigned i = 0; i < in.operand_count && n < MAX_OPERAND_RANGES; i++) {
        const ZydisDecodedOperand *op = &ops[i];
        if (op->type != ZYDIS_OPERAND_TYPE_MEMORY || op->mem.type != ZYDIS_MEMOP_TYPE_MEM ||
            !(op->actions & wanted) || op->size == 0)
            continue;
        uint64_t address;
        if (access == OPERAND_WRITE && op->visibility == ZYDIS_OPERAND_VISIBILITY_HIDDEN &&
            (op->mem.base == ZYDIS_REGISTER_RSP || op->mem.base == ZYDIS_REGISTER_ESP)) {
            /* push/call/pushf: the slot is where the stack pointer points afterwards
             * (enter: the saved frame pointer is the new RBP).  A pop's or ret's slot is
             * [rsp] before the step, which the computation below gives. */
            address = in.mnemonic == ZYDIS_MNEMONIC_ENTER ? after->rbp : after->rsp;
        } else if (!ZYAN_SUCCESS(ZydisCalcAbsoluteAddressEx(&in, op, r->rip, &ctx, &address))) {
            continue;
        }
        if (op->mem.segment == ZYDIS_REGISTER_FS)
            address += r->fs_base;
        else if (op->mem.segment == ZYDIS_REGISTER_GS)
            address += r->gs_base;
        if (!long64)
            address &= 0xFFFFFFFFull;
        uint32_t size = op->size / 8;
        out[n].address = address;
        out[n].size = size > max_size ? max_size : size;
        n++;
    }
    return n;
}

bool step_writes_memory(const uint8_t *insn, size_t len, const struct vm_event_regs_x86 *before)
{
    struct operand_range out[MAX_OPERAND_RANGES];
    /* Only the count matters: the registers after stand in for themselves. */
    return step_operand_ranges(insn, len, before, before, OPERAND_WRITE, 1, out) > 0;
}
