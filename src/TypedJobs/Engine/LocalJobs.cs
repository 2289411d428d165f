using System.Collections.Concurrent;

namespace TypedJobs.Engine;

/// <summary>Jobs running in this process, so a cancel or delete from this process reaches them at once.</summary>
internal sealed class LocalJobs
{
    private readonly ConcurrentDictionary<JobId, Action> running = new();

    public void Add(JobId id, Action cancel) => running[id] = cancel;

    public void Remove(JobId id) => running.TryRemove(id, out _);

    public bool Cancel(JobId id)
    {
        if (running.TryGetValue(id, out var cancel))
        {
            cancel();
            return true;
        }

        return false;
    }
}
