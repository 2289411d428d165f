using System.Collections.Concurrent;

namespace TypedJobs.Storage.Redis.Internal;

/// <summary>
/// Coalesces wake-up notices per queue on the leading edge: the first notice after a quiet spell of
/// <c>window</c> is published at once; notices within the window after a publish are folded into one publish at the
/// window's end. So the first waiting worker is never delayed, and a burst costs at most two publishes per window.
/// </summary>
internal sealed class WakeCoalescer(TimeSpan window, TimeProvider time, Action<string> publish)
{
    private readonly ConcurrentDictionary<string, State> queues = new(StringComparer.Ordinal);

    public void Notify(string queue)
    {
        if (window <= TimeSpan.Zero)
        {
            publish(queue);
            return;
        }

        var state = queues.GetOrAdd(queue, static _ => new State());
        var now = time.GetTimestamp();
        TimeSpan wait;
        lock (state)
        {
            var since = state.LastPublish is { } last ? time.GetElapsedTime(last, now) : TimeSpan.MaxValue;
            if (since >= window)
            {
                state.LastPublish = now;
                wait = TimeSpan.Zero;
            }
            else if (state.Pending)
            {
                return;
            }
            else
            {
                state.Pending = true;
                wait = window - since;
            }
        }

        if (wait == TimeSpan.Zero)
        {
            publish(queue);
            return;
        }

        _ = PublishLaterAsync(queue, state, wait);
    }

    private async Task PublishLaterAsync(string queue, State state, TimeSpan wait)
    {
        await Task.Delay(wait, time).ConfigureAwait(false);
        lock (state)
        {
            state.Pending = false;
            state.LastPublish = time.GetTimestamp();
        }

        publish(queue);
    }

    private sealed class State
    {
        public long? LastPublish { get; set; }

        public bool Pending { get; set; }
    }
}
