using System.Runtime.InteropServices;

namespace Ether.Replay.Tui.ViewModels;

/// <summary>
/// Runs the browser's long background work (index, export) on a thread of its own with a lower
/// scheduling priority (Linux nice +10 for that thread only), so that on a busy 2-core machine the
/// screen thread still gets the CPU when the user presses a key. .NET's Thread.Priority does nothing
/// on Linux; setpriority on the thread's id does.
/// </summary>
public static partial class BackgroundWork
{
    public const int Nice = 10;

    public static Task Run(string name, Action work)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var thread = new Thread(() =>
        {
            // Linux threads inherit their creator's nice value: back to normal before completing, so that
            // no thread-pool thread started for the continuation inherits the low priority.
            int? normal = Lower();
            Exception? failure = null;
            try
            {
                work();
            }
            catch (Exception e)
            {
                failure = e;
            }
            if (normal is { } n) _ = setpriority(PrioProcess, gettid(), n);
            if (failure is OperationCanceledException c) done.SetCanceled(c.CancellationToken);
            else if (failure != null) done.SetException(failure);
            else done.SetResult();
        })
        {
            IsBackground = true, // never keeps the process alive after the browser quits
            Name = name,
        };
        thread.Start();
        return done.Task;
    }

    /// <summary>The current thread's nice value (for tests), or null off Linux.</summary>
    public static int? CurrentNice()
    {
        if (!OperatingSystem.IsLinux()) return null;
        Marshal.SetLastPInvokeError(0);
        int value = getpriority(PrioProcess, gettid());
        return Marshal.GetLastPInvokeError() == 0 ? value : null;
    }

    /// <summary>Lowers the current thread's priority; returns the value to restore (null if unchanged).</summary>
    private static int? Lower()
    {
        if (!OperatingSystem.IsLinux()) return null;
        try
        {
            // Relative to the thread's own nice value; best effort: failing leaves it at normal priority.
            if (CurrentNice() is not { } current) return null;
            return setpriority(PrioProcess, gettid(), Math.Min(19, current + Nice)) == 0 ? current : null;
        }
        catch (EntryPointNotFoundException)
        {
            return null;
        }
        catch (DllNotFoundException)
        {
            return null;
        }
    }

    private const int PrioProcess = 0;

    [LibraryImport("libc", SetLastError = true)]
    private static partial int setpriority(int which, int who, int prio);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int getpriority(int which, int who);

    [LibraryImport("libc")]
    private static partial int gettid();
}
