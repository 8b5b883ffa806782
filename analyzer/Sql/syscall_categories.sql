-- syscall_categories.sql: the nt_syscall_category(name) macro naming the kind of a Windows NT call
-- (Xen guests) from its name. Linux calls get theirs from the system-call table through the
-- syscall_category(name, abi) function (formats/Abi/LinuxSyscalls.Rows.cs, after strace's classes:
-- file, descriptor, network, process, memory, signal, ipc, time). Calls neither knows fall in 'other'.
-- Used by `ether summary`.

-- Windows NT calls (NtXxx, as in formats/Abi/generate/windows-syscalls) by what they act on;
-- the same names as the Linux classes where they mean the same, plus 'registry', 'transaction' (KTM,
-- as in process doppelganging), 'security', 'device' (NtDeviceIoControlFile: sockets go through
-- \Device\Afd) and 'system'. First match wins; NULL for a name that is not an NT call.
CREATE OR REPLACE TEMP MACRO nt_syscall_category(name) AS CASE
    WHEN name NOT LIKE 'Nt%' THEN NULL
    WHEN name LIKE '%KeyedEvent' THEN 'ipc'
    WHEN name LIKE '%Registry%' OR name LIKE '%Key' OR name LIKE '%KeyEx' OR name LIKE '%ValueKey'
         OR (name LIKE 'Nt%Key%' AND name NOT LIKE '%Token%') THEN 'registry'
    WHEN name LIKE '%Transaction%' OR name LIKE '%Enlistment%' OR name LIKE '%ResourceManager%'
         OR name IN ('NtCommitComplete', 'NtPrepareComplete', 'NtPrePrepareComplete', 'NtRollbackComplete',
                     'NtPropagationComplete', 'NtPropagationFailed', 'NtSinglePhaseReject') THEN 'transaction'
    WHEN name = 'NtDeviceIoControlFile' THEN 'device'
    WHEN name LIKE '%VirtualMemory%' OR name LIKE '%Section' OR name LIKE '%SectionEx' OR name LIKE '%ViewOfSection%'
         OR name LIKE '%SectionPtr' OR name LIKE '%UserPhysicalPages%' OR name LIKE '%WriteWatch' OR name LIKE '%Partition%'
         OR name LIKE '%Enclave%'
         OR name IN ('NtFlushInstructionCache', 'NtFlushWriteBuffer', 'NtAreMappedFilesTheSame', 'NtPssCaptureVaSpaceBulk',
                     'NtSetLdtEntries') THEN 'memory'
    WHEN name LIKE '%File' OR name LIKE '%FileEx' OR name LIKE '%FileScatter' OR name LIKE '%FileGather'
         OR name LIKE '%IoFile%' OR name IN ('NtCopyFileChunk', 'NtTranslateFilePath', 'NtQueryInformationByName') THEN 'file'
    WHEN name LIKE '%AccessCheck%' OR name LIKE '%AuditAlarm%' OR name LIKE '%SecurityObject' OR name LIKE '%SigningLevel%'
         OR name = 'NtQuerySecurityPolicy' THEN 'security'
    WHEN name LIKE '%Debug%' AND name NOT LIKE '%DebugFilter%' AND name <> 'NtSystemDebugControl' THEN 'process'
    WHEN name IN ('NtClose', 'NtDuplicateObject', 'NtQueryObject', 'NtSetInformationObject', 'NtMakeTemporaryObject',
                  'NtMakePermanentObject', 'NtCompareObjects', 'NtAllocateReserveObject')
         OR name LIKE '%SymbolicLink%' OR name LIKE '%DirectoryObject%' OR name LIKE '%PrivateNamespace' THEN 'descriptor'
    WHEN name IN ('NtDelayExecution', 'NtQuerySystemTime', 'NtSetSystemTime', 'NtQueryPerformanceCounter',
                  'NtQueryTimerResolution', 'NtSetTimerResolution', 'NtGetTickCount')
         OR name LIKE '%Timer' OR name LIKE '%TimerEx' OR name LIKE '%Timer2' OR name LIKE '%AuxiliaryCounter%' THEN 'time'
    WHEN name LIKE 'NtWaitFor%' OR name LIKE 'NtSignalAndWait%' THEN 'ipc'
    WHEN name IN ('NtContinue', 'NtContinueEx', 'NtRaiseException', 'NtTestAlert', 'NtCallbackReturn', 'NtAlertThread',
                  'NtQueueApcThread', 'NtQueueApcThreadEx', 'NtQueueApcThreadEx2') THEN 'signal'
    WHEN name LIKE '%Process%' OR name LIKE '%Thread%' OR name LIKE '%Token%' OR name LIKE '%Job%'
         OR name LIKE '%Privilege%' OR name LIKE '%Impersonat%' OR name LIKE '%WorkerFactory%' OR name = 'NtYieldExecution' THEN 'process'
    WHEN name LIKE '%Event' OR name LIKE '%EventPair%' OR name LIKE '%Mutant' OR name LIKE '%Semaphore' OR name LIKE '%Alpc%'
         OR name LIKE '%Port' OR name LIKE '%PortEx' OR name LIKE 'NtReplyWaitReceivePort%' OR name LIKE 'NtRequestWaitReplyPort%'
         OR name LIKE '%IoCompletion%' OR name LIKE '%WaitCompletionPacket' OR name LIKE '%RequestData'
         OR name = 'NtSetEventBoostPriority' THEN 'ipc'
    WHEN name LIKE '%SystemInformation%' OR name LIKE '%Driver%' OR name LIKE '%Boot%' OR name LIKE '%Power%'
         OR name LIKE '%Wake%' OR name LIKE '%Locale%' OR name LIKE '%Language%' OR name LIKE '%PlugPlay%' OR name LIKE '%Atom%'
         OR name LIKE '%Profile%' OR name LIKE '%DebugFilter%' OR name LIKE '%Wnf%' OR name LIKE '%LastKnownGood'
         OR name LIKE '%Session' OR name LIKE '%SystemEnvironmentValue%' OR name LIKE '%Nls%' OR name LIKE '%UILanguage%'
         OR name IN ('NtShutdownSystem', 'NtRaiseHardError', 'NtSystemDebugControl', 'NtDisplayString', 'NtDrawText',
                     'NtAllocateLocallyUniqueId', 'NtAllocateUuids', 'NtSetUuidSeed', 'NtQueryLicenseValue', 'NtTraceControl',
                     'NtApphelpCacheControl', 'NtManageHotPatch', 'NtDirectGraphicsCall', 'NtMapCMFModule', 'NtIsUILanguageComitted',
                     'NtSetDefaultHardErrorPort') THEN 'system'
    ELSE 'other'
END;
