-- summary_processes.sql: every process with its program, parent, threads, work and how it ended.
-- Optional: SET VARIABLE trace = '...';
SELECT
    trace, pid, parent_pid, how,
    coalesce(path, '?')              AS program,
    threads, instructions, syscalls,
    CASE WHEN exit_step IS NULL THEN 'running when the trace ended'
         WHEN signal > 0 THEN 'killed by ' || coalesce(signal_name(signal), 'signal ' || signal) || CASE WHEN core_dumped THEN ' (core dumped)' ELSE '' END
         ELSE 'exited ' || exit_code END AS ended
FROM processes
WHERE getvariable('trace') IS NULL OR trace = getvariable('trace')
ORDER BY trace, coalesce(start_step, 0), pid;
