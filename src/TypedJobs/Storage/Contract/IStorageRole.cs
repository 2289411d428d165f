namespace TypedJobs.Storage;

/// <summary>
/// What every storage role shares: its capabilities, schema creation and the store's clock. One backend object may
/// implement several roles; it then initializes once and has one clock.
/// </summary>
public interface IStorageRole
{
    /// <summary>What the backend can do beyond the required semantics.</summary>
    StorageCapabilities Capabilities { get; }

    /// <summary>
    /// Creates or migrates the schema; safe to call again and from several processes at once. A backend whose stored
    /// schema is newer than it understands refuses with a message naming both versions.
    /// </summary>
    ValueTask InitializeAsync(CancellationToken cancellationToken);

    /// <summary>
    /// The store's current time. The store's clock is the only clock every time comparison uses (due times, lease
    /// expiry, prune ages, schedules); the engine reads it when it must compute an instant (such as a schedule's next
    /// occurrence) instead of a duration.
    /// </summary>
    ValueTask<DateTimeOffset> ClockNowAsync(CancellationToken cancellationToken);
}
