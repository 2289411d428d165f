namespace TypedJobs.Storage;

/// <summary>
/// A versioned schema that tools can inspect and migrate on their own (<see cref="StorageCapabilities.Migrations"/>):
/// the CLI's <c>migrate</c>, <c>migrate status</c> and <c>validate</c>. Migrations are expand-then-contract, so
/// workers of the previous version keep working on a migrated schema during a rolling deploy.
/// </summary>
public interface IStorageMigrations
{
    /// <summary>The schema version stored, the latest this code knows and the migrations still to apply.</summary>
    ValueTask<MigrationsStatusResult> MigrationsStatusAsync(MigrationsStatusParams parameters, CancellationToken cancellationToken);

    /// <summary>Applies the pending migrations (safe when several processes call it at once), or with <see cref="MigrationsApplyParams.DryRun"/> only lists them.</summary>
    ValueTask<MigrationsApplyResult> MigrationsApplyAsync(MigrationsApplyParams parameters, CancellationToken cancellationToken);
}

/// <summary>One schema migration.</summary>
/// <param name="Version">Its version.</param>
/// <param name="Description">What it changes.</param>
/// <param name="Statements">The statements it runs (SQL for SQL stores).</param>
public sealed record MigrationInfo(int Version, string Description, IReadOnlyList<string> Statements);

/// <summary>Parameters of <see cref="IStorageMigrations.MigrationsStatusAsync"/>.</summary>
public sealed record MigrationsStatusParams;

/// <summary>Result of <see cref="IStorageMigrations.MigrationsStatusAsync"/>.</summary>
/// <param name="CurrentVersion">The version the store holds (0: no schema).</param>
/// <param name="LatestVersion">The newest version this code knows.</param>
/// <param name="Pending">The migrations still to apply, in order.</param>
public sealed record MigrationsStatusResult(int CurrentVersion, int LatestVersion, IReadOnlyList<MigrationInfo> Pending);

/// <summary>Parameters of <see cref="IStorageMigrations.MigrationsApplyAsync"/>.</summary>
/// <param name="DryRun">Only return what would be applied.</param>
public sealed record MigrationsApplyParams(bool DryRun = false);

/// <summary>Result of <see cref="IStorageMigrations.MigrationsApplyAsync"/>.</summary>
/// <param name="Applied">The migrations applied (or, in a dry run, that would be).</param>
/// <param name="CurrentVersion">The version afterwards.</param>
public sealed record MigrationsApplyResult(IReadOnlyList<MigrationInfo> Applied, int CurrentVersion);
