using TypedJobs.Registration;
using TypedJobs.Storage;

namespace TypedJobs.Testing;

/// <summary>A job found by an assertion of <see cref="JobTestKit"/>, with its arguments read by the task's own serializer.</summary>
/// <typeparam name="TArgs">The task's generated arguments record.</typeparam>
public sealed class EnqueuedJob<TArgs>
    where TArgs : class, ITaskArguments<TArgs>
{
    internal EnqueuedJob(JobRecord record, TArgs arguments)
    {
        Record = record;
        Arguments = arguments;
    }

    /// <summary>The job's id.</summary>
    public JobId Id => Record.Id;

    /// <summary>The job's arguments.</summary>
    public TArgs Arguments { get; }

    /// <summary>The queue the job was enqueued to.</summary>
    public string Queue => Record.Queue;

    /// <summary>The job's priority.</summary>
    public Priority Priority => Record.Priority;

    /// <summary>When the job was enqueued, by the test's clock.</summary>
    public DateTimeOffset CreatedAt => Record.CreatedAt;

    /// <summary>When the job is (or was) due to run.</summary>
    public DateTimeOffset DueAt => Record.DueAt;

    /// <summary>How long after it was enqueued the job is due (zero for a job to run at once).</summary>
    public TimeSpan DueIn => Record.DueAt - Record.CreatedAt;

    /// <summary>The job's state when it was found.</summary>
    public JobState State => Record.State;

    /// <summary>The job's unique key, if it has one.</summary>
    public string? UniqueKey => Record.UniqueKey;

    /// <summary>The stored job as it was found.</summary>
    public JobRecord Record { get; }

    /// <inheritdoc />
    public override string ToString() => $"{Id} {TArgs.TaskName} {Arguments}";
}
