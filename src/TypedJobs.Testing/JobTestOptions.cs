using Microsoft.Extensions.Time.Testing;

namespace TypedJobs.Testing;

/// <summary>How <c>AddTypedJobsTesting</c> sets up TypedJobs for a test.</summary>
public sealed class JobTestOptions
{
    /// <summary>
    /// The clock of the application under test; it moves only when the test moves it (or when
    /// <see cref="JobTestKit.DrainAsync(TimeSpan, CancellationToken)"/> advances it). Default: a new
    /// <see cref="FakeTimeProvider"/> starting at <see cref="StartTime"/>.
    /// </summary>
    public FakeTimeProvider? Time { get; set; }

    /// <summary>Where a new clock starts. Default 2030-01-01T00:00:00Z.</summary>
    public DateTimeOffset StartTime { get; set; } = new(2030, 1, 1, 0, 0, 0, TimeSpan.Zero);

    /// <summary>
    /// Keep the storage the application configured (for example a SQLite file its own <c>DbTransaction</c>s use with
    /// <c>IJobClient.InTransaction</c>) instead of a fresh in-memory store for every role. Default <see langword="false"/>.
    /// </summary>
    public bool KeepStorage { get; set; }
}
