using System.Collections.Concurrent;

namespace TypedJobs.Engine;

/// <summary>Jobs running in this process, so a cancel or delete from this process reaches them at once.</summary>
internal sealed class LocalJobs
{
    private readonly ConcurrentDictionary<JobId, ILocalJob> running = new();

    public void Add(JobId id, ILocalJob job) => running[id] = job;

    public void Remove(JobId id) => running.TryRemove(id, out _);

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
