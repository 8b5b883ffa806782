-- summary_layers.sql: per process, how many layers ran, and the original entry point chosen from
-- the evidence in oep_candidates. Optional: SET VARIABLE trace = '...';
WITH oep AS (
    SELECT trace, pid, image, address, step, evidence FROM oep_candidates WHERE chosen
)
SELECT
    l.trace, l.pid, l.image,
    max(l.layer)                                                    AS deepest_layer,
    sum(l.instructions) FILTER (WHERE l.layer > 0)::BIGINT          AS unpacked_instructions,
    sum(l.bytes_written) FILTER (WHERE l.layer > 0)::BIGINT         AS unpacked_bytes,
    printf('0x%x', any_value(o.address))                            AS oep_candidate,
    any_value(o.step)                                               AS oep_step,
    any_value(o.evidence)                                           AS oep_evidence
FROM unpack_layers l
LEFT JOIN oep o USING (trace, pid, image)
WHERE getvariable('trace') IS NULL OR l.trace = getvariable('trace')
GROUP BY ALL
ORDER BY l.trace, l.pid, l.image;
