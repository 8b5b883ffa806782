-- syscall_categories.sql: a view naming the kind of each common Linux system call, after strace's
-- classes (%file, %desc, %network, %process, %memory, %signal, %ipc, %clock), and a macro naming the
-- kind of a Windows NT call (Xen guests) from its name. Calls neither knows fall in 'other'.
-- Used by `ether summary`.
CREATE OR REPLACE TEMP VIEW syscall_categories AS
SELECT unnest(names) AS name, category FROM (VALUES
    ('file', ['open', 'openat', 'openat2', 'creat', 'stat', 'lstat', 'newfstatat', 'statx', 'access', 'faccessat',
              'faccessat2', 'readlink', 'readlinkat', 'mkdir', 'mkdirat', 'rmdir', 'unlink', 'unlinkat', 'rename',
              'renameat', 'renameat2', 'link', 'linkat', 'symlink', 'symlinkat', 'chmod', 'fchmodat', 'chown', 'lchown',
              'fchownat', 'truncate', 'chdir', 'chroot', 'getcwd', 'utime', 'utimes', 'utimensat', 'futimesat', 'statfs',
              'mount', 'umount2', 'mknod', 'mknodat', 'setxattr', 'lsetxattr', 'getxattr', 'lgetxattr', 'listxattr',
              'llistxattr', 'removexattr', 'lremovexattr', 'inotify_add_watch', 'swapon', 'swapoff', 'pivot_root',
              'acct', 'name_to_handle_at', 'open_by_handle_at', 'fanotify_mark']),
    ('descriptor', ['read', 'write', 'pread64', 'pwrite64', 'readv', 'writev', 'preadv', 'pwritev', 'preadv2', 'pwritev2',
              'close', 'close_range', 'dup', 'dup2', 'dup3', 'fcntl', 'ioctl', 'lseek', 'fstat', 'fstatfs', 'fsync',
              'fdatasync', 'ftruncate', 'fchmod', 'fchown', 'fchdir', 'getdents', 'getdents64', 'pipe', 'pipe2', 'select',
              'pselect6', 'poll', 'ppoll', 'epoll_create', 'epoll_create1', 'epoll_ctl', 'epoll_wait', 'epoll_pwait',
              'epoll_pwait2', 'eventfd', 'eventfd2', 'signalfd', 'signalfd4', 'timerfd_create', 'timerfd_settime',
              'timerfd_gettime', 'sendfile', 'splice', 'tee', 'vmsplice', 'copy_file_range', 'flock', 'fadvise64',
              'fallocate', 'readahead', 'inotify_init', 'inotify_init1', 'memfd_create', 'fanotify_init',
              'io_uring_setup', 'io_uring_enter', 'io_uring_register', 'fsetxattr', 'fgetxattr', 'flistxattr', 'fremovexattr']),
    ('network', ['socket', 'socketpair', 'connect', 'accept', 'accept4', 'bind', 'listen', 'sendto', 'recvfrom', 'sendmsg',
              'recvmsg', 'sendmmsg', 'recvmmsg', 'shutdown', 'getsockname', 'getpeername', 'setsockopt', 'getsockopt']),
    ('process', ['execve', 'execveat', 'fork', 'vfork', 'clone', 'clone3', 'exit', 'exit_group', 'wait4', 'waitid',
              'kill', 'tkill', 'tgkill', 'getpid', 'getppid', 'gettid', 'getuid', 'geteuid', 'getgid', 'getegid',
              'setuid', 'setgid', 'setreuid', 'setregid', 'setresuid', 'setresgid', 'getresuid', 'getresgid',
              'getgroups', 'setgroups', 'setsid', 'getsid', 'setpgid', 'getpgid', 'getpgrp', 'prctl', 'arch_prctl',
              'set_tid_address', 'set_robust_list', 'get_robust_list', 'ptrace', 'capget', 'capset', 'getpriority',
              'setpriority', 'sched_yield', 'sched_setaffinity', 'sched_getaffinity', 'sched_setscheduler',
              'sched_getscheduler', 'sched_setparam', 'sched_getparam', 'unshare', 'setns', 'seccomp', 'getrlimit',
              'setrlimit', 'prlimit64', 'getrusage', 'uname', 'sysinfo', 'personality', 'rseq', 'pidfd_open',
              'pidfd_send_signal', 'pidfd_getfd', 'umask', 'sethostname', 'setdomainname', 'reboot', 'syslog',
              'init_module', 'finit_module', 'delete_module', 'kexec_load', 'bpf', 'perf_event_open', 'getrandom']),
    ('memory', ['brk', 'mmap', 'munmap', 'mprotect', 'mremap', 'madvise', 'mlock', 'mlock2', 'munlock', 'mlockall',
              'munlockall', 'msync', 'mincore', 'pkey_mprotect', 'pkey_alloc', 'pkey_free', 'membarrier', 'mbind',
              'set_mempolicy', 'get_mempolicy', 'process_vm_readv', 'process_vm_writev', 'remap_file_pages']),
    ('signal', ['rt_sigaction', 'rt_sigprocmask', 'rt_sigreturn', 'rt_sigpending', 'rt_sigtimedwait', 'rt_sigqueueinfo',
              'rt_tgsigqueueinfo', 'rt_sigsuspend', 'sigaltstack', 'pause', 'alarm']),
    ('ipc', ['shmget', 'shmat', 'shmdt', 'shmctl', 'semget', 'semop', 'semctl', 'semtimedop', 'msgget', 'msgsnd',
              'msgrcv', 'msgctl', 'mq_open', 'mq_unlink', 'mq_timedsend', 'mq_timedreceive', 'mq_notify',
              'mq_getsetattr', 'futex', 'futex_waitv']),
    ('time', ['clock_gettime', 'clock_settime', 'clock_getres', 'clock_nanosleep', 'nanosleep', 'gettimeofday',
              'settimeofday', 'time', 'times', 'getitimer', 'setitimer', 'timer_create', 'timer_settime',
              'timer_gettime', 'timer_delete', 'timer_getoverrun', 'adjtimex', 'clock_adjtime'])
) AS t(category, names);

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
