using System.Diagnostics;
using System.Runtime;

namespace TypedJobs.Bench;

/// <summary>
/// Warm-up until the JIT is quiet. Tiered compilation recompiles hot methods on a background thread that shares the two
/// cores with the work, over several seconds of running; one untimed round leaves much of it to the timed round
/// (measured after one round of 20,000 PostgreSQL jobs: 1,900 methods and 1.1 s of JIT time within a drain of 1.6 s of
/// CPU), and the figures would be the warm-up's rather than a running worker's. So untimed rounds repeat until a round's
/// drain spent less than <see cref="QuietShare"/> of its time compiling, or <see cref="MaxRounds"/> rounds ran; every
/// system measured in this process (TypedJobs and the in-process peers) is warmed up the same way.
/// </summary>
internal static class Warmup
{
    private const double QuietShare = 0.03;
    private const int MaxRounds = 10;
    private static TimeSpan jitAtStart;
    private static long startedAt;
    private static double lastShare = 1;

    /// <summary>Marks the start of a drain (where its CPU count starts).</summary>
    public static void DrainStarting()
    {
        jitAtStart = JitInfo.GetCompilationTime();
        startedAt = Stopwatch.GetTimestamp();
    }

    /// <summary>Marks the end of a drain: the share of its wall time the JIT took.</summary>
    public static void DrainEnded()
    {
        var elapsed = Stopwatch.GetElapsedTime(startedAt);
        lastShare = elapsed > TimeSpan.Zero ? (JitInfo.GetCompilationTime() - jitAtStart) / elapsed : 1;
    }

    /// <summary>Runs <paramref name="round"/> (one untimed round with a drain) until the JIT is quiet; nothing when <paramref name="jobs"/> is 0.</summary>
    public static async Task UntilQuietAsync(int jobs, Func<Task> round)
    {
        for (var i = 0; jobs > 0 && i < MaxRounds; i++)
        {
            lastShare = 1;
            await round();
            if (lastShare < QuietShare)
            {
                return;
            }
        }
    }
}
