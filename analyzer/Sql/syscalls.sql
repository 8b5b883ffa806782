-- syscalls.sql: every system call, one row per call, in the order the calls were made
-- (what `ether syscalls TRACE` prints strace-style).
--
-- Optional filters, set before running it yourself:
--   SET VARIABLE trace = 'ls-1a2b3c4d';     -- one trace of a multi-trace dataset
--   SET VARIABLE pid = 1234;                -- one process
--   SET VARIABLE names = ['openat', 'read']; -- only these calls
SELECT
    trace,
    pid,
    tid,
    entry_step,
    exit_step,
    name,
    args,        -- rendered as strace does, output buffers as the call filled them
    ret,         -- raw return value; NULL if the call never returned (exit, execve, a cut trace)
    errno,
    errno_name,
    abi,
    rip
FROM syscalls
WHERE (getvariable('trace') IS NULL OR trace = getvariable('trace'))
  AND (getvariable('pid') IS NULL OR pid = getvariable('pid'))
  AND (getvariable('names') IS NULL OR list_contains(getvariable('names'), name))
ORDER BY trace, coalesce(entry_step, exit_step), pid, tid;
