namespace TypedJobs.Storage.Conformance;

/// <summary>
/// A manually moved clock for stores under test. Stores read "now" through <see cref="TimeProvider.GetUtcNow"/>, so
/// lease expiry, due times and TTLs can be crossed without waiting. Timers are not faked: stores must not rely on them
/// for correctness. Thread-safe, so concurrency tests may move it while other tasks use the store.
/// </summary>
public sealed class FakeClock : TimeProvider
{
    /// <summary>The instant every test starts at.</summary>
    public static readonly DateTimeOffset Start = new(2026, 1, 5, 12, 0, 0, TimeSpan.Zero);

    private long utcTicks = Start.UtcTicks;

    /// <inheritdoc />
    public override DateTimeOffset GetUtcNow() => new(Interlocked.Read(ref utcTicks), TimeSpan.Zero);

    /// <summary>Moves the clock forward.</summary>
    public void Advance(TimeSpan delta)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(delta, TimeSpan.Zero);
        Interlocked.Add(ref utcTicks, delta.Ticks);
    }
}
