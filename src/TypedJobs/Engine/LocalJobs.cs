using System.Collections.Concurrent;

namespace TypedJobs.Engine;

/// <summary>Jobs running in this process, so a cancel or delete from this process reaches them at once.</summary>
internal sealed class LocalJobs
{
    private readonly ConcurrentDictionary<JobId, ILocalJob> running = new();

    public void Add(JobId id, ILocalJob job) => running[id] = job;

    /// <summary>Removes <paramref name="job"/> only: a later run of the same job id in this process stays registered.</summary>
    public void Remove(JobId id, ILocalJob job) => running.TryRemove(KeyValuePair.Create(id, job));

    public bool Cancel(JobId id)
    {
        if (running.TryGetValue(id, out var job))
        {
            job.Cancel();
            return true;
        }

        return false;
    }
}

/// <summary>A job running in this process that can be told to stop.</summary>
internal interface ILocalJob
{
    void Cancel();
}
