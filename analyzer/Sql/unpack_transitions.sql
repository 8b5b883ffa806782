-- unpack_transitions.sql: how execution moved between layers: each (from, to) pair with how often
-- it happened and its first occurrence. A packer that decrypts and jumps once shows 0 -> 1 once;
-- unpacked code calling back into its loader (or into libraries, layer 0) shows returns too.
-- Optional: SET VARIABLE trace = '...'; SET VARIABLE pid = 1234;
SELECT
    trace, pid, image, from_layer, to_layer,
    count(*)                            AS times,
    min(step)                           AS first_step,
    printf('0x%x', arg_min(from_rip, step)) AS first_from,
    printf('0x%x', arg_min(to_rip, step))   AS first_to
FROM layer_transitions
WHERE (getvariable('trace') IS NULL OR trace = getvariable('trace'))
  AND (getvariable('pid') IS NULL OR pid = getvariable('pid'))
GROUP BY ALL
ORDER BY trace, pid, image, first_step;
