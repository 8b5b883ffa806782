-- hot_blocks.sql: the most executed dynamic basic blocks (straight runs of instructions ending at a
-- jump, call, return or system call) with their code. `instructions_executed` weighs a block by its
-- length: where the time went.
-- Optional: SET VARIABLE trace = '...'; SET VARIABLE pid = 1234; SET VARIABLE top = 100;
WITH blocks AS (
    SELECT b.*, b.executions * b.instructions AS instructions_executed,
           CASE WHEN t.architecture IN ('x86', 'i386', 'i686') THEN 32 ELSE 64 END AS bits
    FROM basic_blocks b JOIN traces t USING (trace)
    WHERE (getvariable('trace') IS NULL OR b.trace = getvariable('trace'))
      AND (getvariable('pid') IS NULL OR b.pid = getvariable('pid'))
)
SELECT
    trace, pid,
    printf('0x%x', start) AS start,
    printf('0x%x', "end") AS "end",
    layer,
    executions,
    instructions,
    instructions_executed,
    round(100.0 * instructions_executed / sum(instructions_executed) OVER (PARTITION BY trace), 2) AS percent,
    first_step,
    disasm(bytes, start, bits) AS code,
    bytes, start AS start_address, "end" AS end_address, bits
FROM blocks
ORDER BY instructions_executed DESC, executions DESC, start_address
LIMIT coalesce(getvariable('top'), 100);
