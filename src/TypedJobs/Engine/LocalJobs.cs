namespace TypedJobs.Engine;

/// <summary>Jobs running in this process, so a cancel or delete from this process reaches them at once.</summary>
internal sealed class LocalJobs
{
    // A plain dictionary under a lock: adding and removing a job allocates nothing (a concurrent dictionary allocates a
    // node per add), and the lock is held for a hash lookup only.
    private readonly Dictionary<JobId, ILocalJob> running = [];

    public void Add(JobId id, ILocalJob job)
    {
        lock (running)
        {
            running[id] = job;
        }
    }

    /// <summary>Removes <paramref name="job"/> only: a later run of the same job id in this process stays registered.</summary>
    public void Remove(JobId id, ILocalJob job)
    {
        lock (running)
        {
            if (running.TryGetValue(id, out var current) && ReferenceEquals(current, job))
            {
                running.Remove(id);
            }
        }
    }

    public bool Cancel(JobId id)
    {
        ILocalJob? job;
        lock (running)
        {
            if (!running.TryGetValue(id, out job))
            {
                return false;
            }
        }

        job.Cancel();
        return true;
    }
}

/// <summary>A job running in this process that can be told to stop.</summary>
internal interface ILocalJob
{
    void Cancel();
}
