-- layer_changes.sql: every change of unpacking layer in a thread's instruction stream, in step order
-- (the browser marks these steps and jumps between them; unpack_transitions.sql counts them).
-- Optional: SET VARIABLE trace = '...'; SET VARIABLE pid = 1234;
SELECT trace, step, pid, tid, image, from_layer, to_layer, from_rip, to_rip
FROM layer_transitions
WHERE (getvariable('trace') IS NULL OR trace = getvariable('trace'))
  AND (getvariable('pid') IS NULL OR pid = getvariable('pid'))
ORDER BY step;
