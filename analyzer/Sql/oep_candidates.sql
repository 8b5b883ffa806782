-- oep_candidates.sql: the original entry point of each image that ran written code, with every
-- piece of evidence found for it, strongest first: entry-state (written code ran with rsp at the
-- process's argc/argv/envp/auxv and AT_ENTRY = rip, as a program's first instruction does),
-- elf-header (the e_entry of an ELF header written into memory), exec-entry (first instruction of
-- an image exec'd from a file the trace wrote), from-interpreter (ld.so jumped into written code:
-- the AT_ENTRY it was handed), deepest-layer (first instruction of the deepest layer). `chosen`
-- marks the one `ether unpack` reports and dumps (strongest, then deepest layer, then earliest).
-- Optional: SET VARIABLE trace = '...'; SET VARIABLE pid = 1234;
SELECT
    trace, pid, image, layer,
    printf('0x%x', address) AS oep,
    step, tid, evidence, rank, chosen, detail,
    address
FROM oep_candidates
WHERE (getvariable('trace') IS NULL OR trace = getvariable('trace'))
  AND (getvariable('pid') IS NULL OR pid = getvariable('pid'))
ORDER BY trace, pid, image, rank, step;
