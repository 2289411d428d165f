using System.Threading.Tasks.Sources;

namespace TypedJobs.Engine;

/// <summary>
/// The one thing the producer sleeps on: woken by its poll timer, a freed slot (only while it listens for slots), the
/// store's wake-up signal or shutdown, whichever comes first. One object reused for every sleep, so a sleep allocates
/// nothing (a sleep built from <c>Task.Delay</c>, a linked token source and <c>Task.WhenAny</c> allocated six objects,
/// and under load the producer sleeps once per claim). A wake that arrives for an earlier sleep only makes the
/// producer look at its slots once more.
/// </summary>
internal sealed class ProducerWaker : IValueTaskSource
{
    private readonly object gate = new();
    private ManualResetValueTaskSourceCore<bool> core = new() { RunContinuationsAsynchronously = true };
    private bool armed;
    private int listeningForSlots;

    /// <summary>Whether a freed slot should wake the producer.</summary>
    public bool ListeningForSlots
    {
        get => Volatile.Read(ref listeningForSlots) != 0;
        set => Volatile.Write(ref listeningForSlots, value ? 1 : 0);
    }

    /// <summary>Starts a new sleep: wakes from now on complete the next <see cref="WaitAsync"/>.</summary>
    public void Arm()
    {
        lock (gate)
        {
            core.Reset();
            armed = true;
        }
    }

    /// <summary>Ends the current sleep (or the next one, if it is armed but not yet awaited).</summary>
    public void Wake()
    {
        lock (gate)
        {
            if (!armed)
            {
                return;
            }

            armed = false;
            core.SetResult(true);
        }
    }

    /// <summary>A freed slot: wakes the producer if it listens for slots.</summary>
    public void SlotFreed()
    {
        if (ListeningForSlots)
        {
            Wake();
        }
    }

    /// <summary>Completes at the first wake since the last <see cref="Arm"/> (at once if one came already).</summary>
    public ValueTask WaitAsync()
    {
        lock (gate)
        {
            return new ValueTask(this, core.Version);
        }
    }

    void IValueTaskSource.GetResult(short token) => core.GetResult(token);

    ValueTaskSourceStatus IValueTaskSource.GetStatus(short token) => core.GetStatus(token);

    void IValueTaskSource.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        core.OnCompleted(continuation, state, token, flags);
}
