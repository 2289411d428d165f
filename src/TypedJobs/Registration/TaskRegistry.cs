using System.Collections.Frozen;

namespace TypedJobs.Registration;

/// <summary>The set of tasks known to this process, looked up by stable name when a job runs.</summary>
public sealed class TaskRegistry
{
    private readonly FrozenDictionary<string, JobTask> tasks;

    /// <summary>Creates a registry. Two tasks with the same name are an error.</summary>
    public TaskRegistry(IEnumerable<JobTask> tasks)
    {
        ArgumentNullException.ThrowIfNull(tasks);
        var map = new Dictionary<string, JobTask>(StringComparer.Ordinal);
        foreach (var task in tasks)
        {
            if (map.TryGetValue(task.Name, out var existing))
            {
                if (ReferenceEquals(existing, task))
                {
                    continue;
                }

                throw new InvalidOperationException($"Two tasks are registered with the name '{task.Name}'. Task names must be unique; set a distinct Name on one of them.");
            }

            map.Add(task.Name, task);
        }

        this.tasks = map.ToFrozenDictionary(StringComparer.Ordinal);
    }

    /// <summary>All registered tasks.</summary>
    public IEnumerable<JobTask> Tasks => tasks.Values;

    /// <summary>Finds a task by name.</summary>
    public bool TryGet(string name, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out JobTask? task) =>
        tasks.TryGetValue(name, out task);
}
