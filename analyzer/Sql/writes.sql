-- writes.sql: written memory merged into ranges (overlapping or touching writes join), with who
-- wrote each range (the writing instructions' addresses, or "kernel" for writes the kernel made
-- during a system call) and how often.
-- Optional: SET VARIABLE trace = '...'; SET VARIABLE pid = 1234; SET VARIABLE top_writers = 5;
WITH w AS (
    SELECT trace, pid, address AS s, address + size::UBIGINT AS e, rip, kernel
    FROM memory_writes
    WHERE (getvariable('trace') IS NULL OR trace = getvariable('trace'))
      AND (getvariable('pid') IS NULL OR pid = getvariable('pid'))
),
ordered AS (
    -- the furthest end of any earlier write: a write starting after it begins a new range
    SELECT *, max(e) OVER (PARTITION BY trace, pid ORDER BY s, e ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS reach
    FROM w
),
grouped AS (
    SELECT *, sum(CASE WHEN reach IS NULL OR s > reach THEN 1 ELSE 0 END)
                  OVER (PARTITION BY trace, pid ORDER BY s, e ROWS UNBOUNDED PRECEDING) AS range_id
    FROM ordered
),
writers AS (
    SELECT trace, pid, range_id,
           CASE WHEN kernel THEN 'kernel' WHEN rip IS NULL THEN '?' ELSE printf('0x%x', rip) END AS writer,
           count(*) AS n
    FROM grouped
    GROUP BY ALL
),
ranked AS (
    SELECT *,
           row_number() OVER (PARTITION BY trace, pid, range_id ORDER BY n DESC, writer) AS rank,
           count(*) OVER (PARTITION BY trace, pid, range_id) AS distinct_writers
    FROM writers
),
top AS (
    SELECT trace, pid, range_id, any_value(distinct_writers) AS distinct_writers,
           string_agg(writer || ' (' || n || ')', ', ' ORDER BY n DESC, writer) AS top_writers
    FROM ranked
    WHERE rank <= coalesce(getvariable('top_writers'), 5)
    GROUP BY ALL
),
ranges AS (
    SELECT trace, pid, range_id, min(s) AS range_start, max(e) AS range_end, count(*) AS writes,
           count(*) FILTER (WHERE kernel) AS kernel_writes
    FROM grouped
    GROUP BY ALL
)
SELECT
    r.trace, r.pid,
    printf('0x%x', r.range_start) AS start,
    printf('0x%x', r.range_end)   AS "end",
    r.range_end - r.range_start   AS bytes,
    r.writes,
    r.kernel_writes,
    t.distinct_writers,
    t.top_writers,
    r.range_start, r.range_end
FROM ranges r JOIN top t USING (trace, pid, range_id)
ORDER BY r.trace, r.pid, r.range_start;
