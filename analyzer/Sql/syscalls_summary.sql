-- syscalls_summary.sql: strace -c without the timing columns (a trace measures steps, not time):
-- how often each system call was made and how often it failed, most frequent first.
-- Filters as in syscalls.sql (trace, pid, names).
SELECT
    round(100.0 * count(*) / sum(count(*)) OVER (), 2) AS percent_calls,
    count(*)                                           AS calls,
    count(*) FILTER (WHERE errno > 0)                  AS errors,
    name                                               AS syscall
FROM syscalls
WHERE (getvariable('trace') IS NULL OR trace = getvariable('trace'))
  AND (getvariable('pid') IS NULL OR pid = getvariable('pid'))
  AND (getvariable('names') IS NULL OR list_contains(getvariable('names'), name))
GROUP BY name
ORDER BY calls DESC, syscall;
