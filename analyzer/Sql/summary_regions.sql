-- summary_regions.sql: memory map activity per process: mappings made (executable ones apart),
-- protections changed, unmaps, and memory written (bytes, distinct pages).
-- Optional: SET VARIABLE trace = '...';
WITH m AS (
    SELECT trace, pid,
           count(*) FILTER (WHERE event = 'map')                                  AS maps,
           count(*) FILTER (WHERE event = 'map' AND protection LIKE '__x_')       AS executable_maps,
           count(*) FILTER (WHERE event = 'protect')                              AS protects,
           count(*) FILTER (WHERE event = 'protect' AND protection LIKE '__x_')   AS made_executable,
           count(*) FILTER (WHERE event = 'unmap')                                AS unmaps
    FROM regions
    WHERE getvariable('trace') IS NULL OR trace = getvariable('trace')
    GROUP BY ALL
),
w AS (
    SELECT trace, pid, sum(size)::BIGINT AS bytes_written, count(DISTINCT address // 4096) AS pages_written,
           count(*) FILTER (WHERE kernel) AS kernel_writes
    FROM memory_writes
    WHERE getvariable('trace') IS NULL OR trace = getvariable('trace')
    GROUP BY ALL
)
SELECT trace, pid,
       coalesce(maps, 0) AS maps, coalesce(executable_maps, 0) AS executable_maps,
       coalesce(protects, 0) AS protects, coalesce(made_executable, 0) AS made_executable,
       coalesce(unmaps, 0) AS unmaps,
       coalesce(bytes_written, 0) AS bytes_written, coalesce(pages_written, 0) AS pages_written,
       coalesce(kernel_writes, 0) AS kernel_writes
FROM m FULL OUTER JOIN w USING (trace, pid)
ORDER BY trace, pid;
