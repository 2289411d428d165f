using TypedJobs.Events;
using TypedJobs.Registration;
using TypedJobs.Storage;

namespace TypedJobs.AspNetCore.Tests;

/// <summary>An administration whose store fails with a message that holds a secret, as a driver's error might.</summary>
public sealed class FailingAdmin : IJobAdmin
{
    private static InvalidOperationException Failure() =>
        new("Connection refused: Host=db.internal;Username=app;Password=hunter2");

    public StorageCapabilities Capabilities => StorageCapabilities.None;

    public IReadOnlyList<JobTask> Tasks => [];

    public ValueTask<JobsListResult> ListJobsAsync(JobsListParams query, CancellationToken cancellationToken = default) => throw Failure();

    public ValueTask<long> CountJobsAsync(JobFilter filter, CancellationToken cancellationToken = default) => throw Failure();

    public ValueTask<bool> RetryAsync(JobId id, CancellationToken cancellationToken = default) => throw Failure();

    public ValueTask<bool> DeleteAsync(JobId id, CancellationToken cancellationToken = default) => throw Failure();

    public ValueTask<long> BulkAsync(JobsBulkAction action, JobFilter filter, IProgress<BulkProgress>? progress = null,
        CancellationToken cancellationToken = default) => throw Failure();

    public ValueTask<int> PruneAsync(IReadOnlyList<JobState> states, TimeSpan olderThan, CancellationToken cancellationToken = default) => throw Failure();

    public ValueTask<IReadOnlyList<QueueInfo>> GetQueuesAsync(CancellationToken cancellationToken = default) => throw Failure();

    public ValueTask PauseQueueAsync(string queue, CancellationToken cancellationToken = default) => throw Failure();

    public ValueTask ResumeQueueAsync(string queue, CancellationToken cancellationToken = default) => throw Failure();

    public ValueTask<int> ClearQueueAsync(string queue, CancellationToken cancellationToken = default) => throw Failure();

    public ValueTask<IReadOnlyList<JobEvent>> GetEventsAsync(JobId id, int limit = 100, CancellationToken cancellationToken = default) => throw Failure();

    public ValueTask<WorkersListResult> GetWorkersAsync(CancellationToken cancellationToken = default) => throw Failure();

    public ValueTask<IReadOnlyList<ThroughputBucket>> GetThroughputAsync(TimeSpan window, CancellationToken cancellationToken = default) => throw Failure();

    public ValueTask<bool> TryAcquireLockAsync(string name, string owner, TimeSpan ttl, CancellationToken cancellationToken = default) => throw Failure();

    public ValueTask<bool> ReleaseLockAsync(string name, string owner, CancellationToken cancellationToken = default) => throw Failure();
}
