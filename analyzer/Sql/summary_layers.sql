-- summary_layers.sql: per process, how many layers ran, and the original-entry-point candidate
-- (entry of the deepest layer in the program's own image). Optional: SET VARIABLE trace = '...';
SELECT
    trace, pid, image,
    max(layer)                                                    AS deepest_layer,
    sum(instructions) FILTER (WHERE layer > 0)::BIGINT            AS unpacked_instructions,
    sum(bytes_written) FILTER (WHERE layer > 0)::BIGINT           AS unpacked_bytes,
    printf('0x%x', arg_max(entry_address, layer) FILTER (WHERE main_image AND layer > 0)) AS oep_candidate,
    arg_max(first_step, layer) FILTER (WHERE main_image AND layer > 0)                    AS oep_step
FROM unpack_layers
WHERE getvariable('trace') IS NULL OR trace = getvariable('trace')
GROUP BY ALL
ORDER BY trace, pid, image;
