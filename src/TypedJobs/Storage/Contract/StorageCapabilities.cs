namespace TypedJobs.Storage;

/// <summary>
/// What a backend can do beyond the semantics every backend must meet. The engine and the tools check these flags
/// before they call an optional operation, and a backend that lacks one refuses the call with
/// <see cref="NotSupportedException"/> instead of ignoring it.
/// </summary>
[Flags]
public enum StorageCapabilities
{
    /// <summary>Only the required semantics.</summary>
    None = 0,

    /// <summary>Signals waiting workers when jobs arrive from any process (otherwise: this process only, plus polling).</summary>
    CrossProcessWakeUp = 1,

    /// <summary>Jobs can be inserted inside the caller's own database transaction (<see cref="ITransactionalJobStore"/>).</summary>
    TransactionalEnqueue = 2,

    /// <summary>The data survives a restart of the process.</summary>
    Durable = 4,

    /// <summary>Job lists can be filtered by text in the payload or the last error (<see cref="JobFilter.Text"/>).</summary>
    TextSearch = 8,

    /// <summary>The schema is versioned and can be inspected and migrated on its own (<see cref="IStorageMigrations"/>).</summary>
    Migrations = 16,
}
