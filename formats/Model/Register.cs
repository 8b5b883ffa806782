namespace Ether.Replay.Formats.Model;

/// <summary>
/// The register slots a trace records, in the order they are numbered in change masks and keyframes.
/// The numbering is part of the file format: append new slots at the end, never reorder.
/// </summary>
public enum Register : byte
{
    Rax, Rbx, Rcx, Rdx, Rsi, Rdi, Rbp, Rsp,
    R8, R9, R10, R11, R12, R13, R14, R15,
    Rip, Rflags, FsBase, GsBase,
    Cs, Ss, Ds, Es, Fs, Gs,
    /// <summary>Linux: the system-call number as the kernel saw it at entry (-1 outside a call).</summary>
    OrigRax,
    /// <summary>Guest page-table base; 0 where the backend has no such notion (ptrace).</summary>
    Cr3,
}

public static class Registers
{
    /// <summary>How many slots a <see cref="RegisterFile"/> has.</summary>
    public const int Count = 28;

    /// <summary>Lower-case names as used in SQL columns and the TUI.</summary>
    public static readonly string[] Names =
    [
        "rax", "rbx", "rcx", "rdx", "rsi", "rdi", "rbp", "rsp",
        "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15",
        "rip", "rflags", "fs_base", "gs_base",
        "cs", "ss", "ds", "es", "fs", "gs", "orig_rax", "cr3",
    ];

    /// <summary>Change masks never carry rip: the next instruction event of the thread gives it.</summary>
    public const uint ChangeMaskExcludes = 1u << (int)Register.Rip;
}
