using System.Diagnostics;

namespace TypedJobs.Storage.Postgres.Internal;

/// <summary>
/// Coalesces wake-up notifications on the leading edge. The first write of a window notifies at once (<see cref="TryLead"/>
/// returns <see langword="true"/> and the caller sends the NOTIFY with its write); writes during the rest of the window send
/// none (<see cref="Suppressed"/>, called once the write committed), and one notification at the end of the window covers
/// all of them, so a worker that went idle during the window is not left waiting for its poll. At most two
/// notifications per window, however many writes.
/// </summary>
internal sealed class NotifyCoalescer : IDisposable
{
    private readonly long windowTicks;
    private readonly Func<Task> sendTrailing;
    private readonly object gate = new();
    private readonly Timer timer;
    private long lastLead = long.MinValue;
    private bool trailingPending;
    private bool timerArmed;
    private bool disposed;

    public NotifyCoalescer(TimeSpan window, Func<Task> sendTrailing)
    {
        windowTicks = (long)(window.TotalSeconds * Stopwatch.Frequency);
        this.sendTrailing = sendTrailing;
        timer = new Timer(static state => ((NotifyCoalescer)state!).OnWindowEnd(), this, Timeout.Infinite, Timeout.Infinite);
    }

    /// <summary>How many notifications were sent at a leading edge and at a window's end (for tests and diagnostics).</summary>
    public long LeadingCount { get; private set; }

    /// <inheritdoc cref="LeadingCount"/>
    public long TrailingCount { get; private set; }

    /// <summary>Whether this write opens a window and should notify itself.</summary>
    public bool TryLead()
    {
        var now = Stopwatch.GetTimestamp();
        lock (gate)
        {
            if (windowTicks > 0 && lastLead != long.MinValue && now - lastLead < windowTicks)
            {
                return false;
            }

            lastLead = now;
            LeadingCount++;
            return true;
        }
    }

    /// <summary>A write inside the window committed without notifying: the window's end will.</summary>
    public void Suppressed()
    {
        lock (gate)
        {
            trailingPending = true;
            if (timerArmed || disposed)
            {
                return;
            }

            timerArmed = true;
            var due = Math.Max(0, lastLead + windowTicks - Stopwatch.GetTimestamp());
            timer.Change(TimeSpan.FromSeconds((double)due / Stopwatch.Frequency), Timeout.InfiniteTimeSpan);
        }
    }

    private void OnWindowEnd()
    {
        lock (gate)
        {
            timerArmed = false;
            if (!trailingPending || disposed)
            {
                return;
            }

            trailingPending = false;
            lastLead = Stopwatch.GetTimestamp();
            TrailingCount++;
        }

        _ = sendTrailing();
    }

    public void Dispose()
    {
        lock (gate)
        {
            disposed = true;
        }

        timer.Dispose();
    }
}
