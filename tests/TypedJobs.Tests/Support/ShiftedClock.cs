using Microsoft.Extensions.Time.Testing;

namespace TypedJobs.Tests.Support;

/// <summary>
/// A clock that reads a <see cref="FakeTimeProvider"/> plus an offset a test can move either way, for the tests of a
/// wall clock that jumps back (FakeTimeProvider itself only moves forward). Timers and timestamps are the fake's.
/// </summary>
public sealed class ShiftedClock(FakeTimeProvider inner) : TimeProvider
{
    public TimeSpan Offset { get; set; }

    public override DateTimeOffset GetUtcNow() => inner.GetUtcNow() + Offset;

    public override long GetTimestamp() => inner.GetTimestamp();

    public override long TimestampFrequency => inner.TimestampFrequency;

    public override TimeZoneInfo LocalTimeZone => inner.LocalTimeZone;

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period) =>
        inner.CreateTimer(callback, state, dueTime, period);

    /// <summary>Sets the wall clock to <paramref name="value"/>, back or forward, without moving the fake's timers.</summary>
    public void Set(DateTimeOffset value) => Offset = value - inner.GetUtcNow();
}
