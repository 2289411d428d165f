namespace TypedJobs.Storage;

/// <summary>The jobs role, named locks with a time to live: for singleton work across processes (maintenance, tools).</summary>
public interface ILockStore : IStorageRole
{
    /// <summary>Takes a lock that is free or expired, or extends it when <see cref="LocksAcquireParams.Owner"/> already holds it.</summary>
    ValueTask<LocksAcquireResult> LocksAcquireAsync(LocksAcquireParams parameters, CancellationToken cancellationToken);

    /// <summary>Releases a lock held by its owner.</summary>
    ValueTask<LocksReleaseResult> LocksReleaseAsync(LocksReleaseParams parameters, CancellationToken cancellationToken);
}

/// <summary>Parameters of <see cref="ILockStore.LocksAcquireAsync"/>.</summary>
/// <param name="Name">The lock.</param>
/// <param name="Owner">Who takes it; the same owner may take it again to extend it.</param>
/// <param name="Ttl">When it expires (by the store's clock) if not released or extended.</param>
public sealed record LocksAcquireParams(string Name, string Owner, TimeSpan Ttl);

/// <summary>Result of <see cref="ILockStore.LocksAcquireAsync"/>.</summary>
/// <param name="Acquired">Whether the caller holds the lock now.</param>
public sealed record LocksAcquireResult(bool Acquired);

/// <summary>Parameters of <see cref="ILockStore.LocksReleaseAsync"/>.</summary>
/// <param name="Name">The lock.</param>
/// <param name="Owner">The owner releasing it.</param>
public sealed record LocksReleaseParams(string Name, string Owner);

/// <summary>Result of <see cref="ILockStore.LocksReleaseAsync"/>.</summary>
/// <param name="Released">Whether the owner held the lock (unexpired) until this call.</param>
public sealed record LocksReleaseResult(bool Released);
