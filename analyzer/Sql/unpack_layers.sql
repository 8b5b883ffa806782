-- unpack_layers.sql: unpacking layers in the terms of the packer literature (SoK on runtime
-- packers, Ugarte-Pedrero et al., IEEE S&P 2015). A layer is code executed from memory written
-- earlier in the trace; layer 0 is the code that was loaded. For each layer: where execution first
-- entered it (for the last layer of the program's own image: the original-entry-point candidate),
-- the region holding it, how many bytes the previous layer wrote there and which instructions wrote them.
-- Optional: SET VARIABLE trace = '...'; SET VARIABLE pid = 1234;
WITH layers AS (
    SELECT *,
           -- the deepest layer that runs from the program's own image
           layer = max(layer) FILTER (WHERE main_image) OVER (PARTITION BY trace, pid, image) AND main_image AS oep_candidate
    FROM unpack_layers
    WHERE (getvariable('trace') IS NULL OR trace = getvariable('trace'))
      AND (getvariable('pid') IS NULL OR pid = getvariable('pid'))
)
SELECT
    trace, pid, image, layer,
    first_step, last_step,
    printf('0x%x', entry_address)                           AS entry,
    entry_tid,
    CASE WHEN region_start IS NULL THEN NULL
         ELSE printf('0x%x-0x%x', region_start, region_end) END AS region,
    CASE WHEN region_name IS NULL THEN NULL
         WHEN region_name = '' THEN '[anonymous]'
         ELSE region_name END                                AS region_name,
    main_image,
    region_end - region_start                               AS region_bytes,
    bytes_written,
    kernel_bytes,
    CASE WHEN writer_rip_min IS NULL THEN NULL
         WHEN writer_rip_min = writer_rip_max THEN printf('0x%x', writer_rip_min)
         ELSE printf('0x%x-0x%x', writer_rip_min, writer_rip_max) END AS writers,
    writer_first_step, writer_last_step,
    instructions,
    oep_candidate,
    entry_address, region_start, region_end
FROM layers
ORDER BY trace, pid, image, layer;
