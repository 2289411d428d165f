namespace TypedJobs.Storage;

/// <summary>
/// A backend that can report what an operator should know about its server — persistence or eviction settings that
/// can lose jobs, connection limits, versions — for the CLI's <c>doctor</c> and health checks. Optional: a backend
/// without it has nothing to report beyond the contract.
/// </summary>
public interface IStorageDiagnostics
{
    /// <summary>Inspects the server and returns what it found (empty when all is well).</summary>
    ValueTask<StorageDiagnoseResult> StorageDiagnoseAsync(StorageDiagnoseParams parameters, CancellationToken cancellationToken);
}

/// <summary>How serious a <see cref="StorageFinding"/> is.</summary>
public enum StorageFindingSeverity
{
    /// <summary>For information (a version, a setting in use).</summary>
    Info,

    /// <summary>Works, but can lose or delay jobs under some failure; the message says which.</summary>
    Warning,

    /// <summary>Will not work as configured.</summary>
    Error,
}

/// <summary>One thing a backend found about its server.</summary>
/// <param name="Severity">How serious it is.</param>
/// <param name="Code">A stable short code, e.g. <c>redis.appendfsync</c>.</param>
/// <param name="Message">What was found and what to do about it (never a secret).</param>
public sealed record StorageFinding(StorageFindingSeverity Severity, string Code, string Message);

/// <summary>Parameters of <see cref="IStorageDiagnostics.StorageDiagnoseAsync"/>.</summary>
public sealed record StorageDiagnoseParams;

/// <summary>Result of <see cref="IStorageDiagnostics.StorageDiagnoseAsync"/>.</summary>
/// <param name="Findings">What was found.</param>
public sealed record StorageDiagnoseResult(IReadOnlyList<StorageFinding> Findings);
