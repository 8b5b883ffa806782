-- traces.sql: the recordings in a dataset, one row each: the target, how and where it was recorded,
-- how it ended, what the trace holds, and the .etrace file it was exported from. mode: the
-- recording mode (ptrace: full, syscalls, unpack, layers; '' for other backends).
-- Optional: SET VARIABLE trace = '...';
SELECT
    trace, target_path, target_argv, target_sha256, backend, architecture,
    coalesce(json_extract_string(backend_parameters, '$.mode'), '') AS mode,
    CASE WHEN architecture IN ('x86', 'i386', 'i686') THEN 32 ELSE 64 END AS bits,
    host, start_time, end_time, stop_reason, stop_detail, closed_cleanly, damage,
    last_step, instructions, memory_writes, syscalls, snapshots, signals,
    file, file_bytes
FROM traces
WHERE getvariable('trace') IS NULL OR trace = getvariable('trace')
ORDER BY trace;
