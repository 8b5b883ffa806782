-- summary_syscalls.sql: system calls by category (syscall_category() for Linux calls, see
-- syscall_categories.sql for NT calls), with the three most frequent calls of each. Needs the
-- nt_syscall_category macro. Optional: SET VARIABLE trace = '...';
WITH calls AS (
    SELECT s.name, coalesce(syscall_category(s.name, s.abi), nt_syscall_category(s.name), 'other') AS category, s.errno
    FROM syscalls s
    WHERE getvariable('trace') IS NULL OR s.trace = getvariable('trace')
),
per_name AS (
    SELECT category, name, count(*) AS n FROM calls GROUP BY ALL
),
ranked AS (
    SELECT *, row_number() OVER (PARTITION BY category ORDER BY n DESC, name) AS rank FROM per_name
)
SELECT
    c.category,
    count(*)                              AS calls,
    count(*) FILTER (WHERE c.errno > 0)   AS errors,
    (SELECT string_agg(r.name || ' ' || r.n, ', ' ORDER BY r.rank) FROM ranked r
      WHERE r.category = c.category AND r.rank <= 3) AS most_frequent
FROM calls c
GROUP BY c.category
ORDER BY calls DESC, c.category;
