-- unpack_layers.sql: unpacking layers in the terms of the packer literature (SoK on runtime
-- packers, Ugarte-Pedrero et al., IEEE S&P 2015). A layer is code executed from memory written
-- earlier in the trace (or from a file the trace wrote: arrival exec-of-written-file / memfd);
-- layer 0 is the code that was loaded. One row per layer entered in a memory region: where
-- execution first entered it, the region, how many bytes the previous layer wrote there and which
-- instructions wrote them, bytes deeper code fixed up before they ran, and whether the image's
-- chosen original entry point (oep_candidates.sql) lies in it.
-- Optional: SET VARIABLE trace = '...'; SET VARIABLE pid = 1234;
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
    fixup_bytes,
    CASE WHEN writer_rip_min IS NULL THEN NULL
         WHEN writer_rip_min = writer_rip_max THEN printf('0x%x', writer_rip_min)
         ELSE printf('0x%x-0x%x', writer_rip_min, writer_rip_max) END AS writers,
    writer_first_step, writer_last_step,
    instructions,
    arrival,
    chain,
    oep                                                     AS oep_candidate,
    entry_address, region_start, region_end
FROM unpack_layers
WHERE (getvariable('trace') IS NULL OR trace = getvariable('trace'))
  AND (getvariable('pid') IS NULL OR pid = getvariable('pid'))
ORDER BY trace, pid, image, layer, first_step;
