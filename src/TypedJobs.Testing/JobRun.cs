using TypedJobs.Registration;
using TypedJobs.Storage;

namespace TypedJobs.Testing;

/// <summary>How one attempt run by <see cref="JobTestKit.DrainAsync(CancellationToken)"/> ended.</summary>
public enum JobRunOutcome
{
    /// <summary>The handler returned: the job succeeded.</summary>
    Succeeded,

    /// <summary>The handler failed and the job waits for its retry (see <see cref="JobRun.RetryDelay"/>).</summary>
    Retrying,

    /// <summary>The handler failed on its last attempt, or permanently: the job is dead.</summary>
    Dead,

    /// <summary>The handler asked to run again later (a snooze), or the task is not registered in this host.</summary>
    Snoozed,

    /// <summary>The job was cancelled or deleted while it ran; its outcome was not written.</summary>
    Cancelled,
}

/// <summary>One attempt run by the test kit: which job, which attempt, how it ended, and its result.</summary>
public sealed class JobRun
{
    private readonly JobTask? task;

    internal JobRun(JobRecord job, JobTask? task, JobRunOutcome outcome, DateTimeOffset startedAt)
    {
        Job = job;
        this.task = task;
        Outcome = outcome;
        StartedAt = startedAt;
    }

    /// <summary>The job as it was claimed for this attempt.</summary>
    public JobRecord Job { get; }

    /// <summary>The job's id.</summary>
    public JobId Id => Job.Id;

    /// <summary>The task's name.</summary>
    public string TaskName => Job.TaskName;

    /// <summary>The job's queue.</summary>
    public string Queue => Job.Queue;

    /// <summary>The attempt, starting at 1.</summary>
    public int Attempt => Job.Attempt;

    /// <summary>How the attempt ended.</summary>
    public JobRunOutcome Outcome { get; }

    /// <summary>When the attempt started, by the test's clock.</summary>
    public DateTimeOffset StartedAt { get; }

    /// <summary>The failure's message and stack, or the reason the job waits, if any.</summary>
    public string? Error { get; init; }

    /// <summary>The exception the handler threw, if any.</summary>
    public Exception? Exception { get; init; }

    /// <summary>For <see cref="JobRunOutcome.Retrying"/> and <see cref="JobRunOutcome.Snoozed"/>: how long until the job is due again.</summary>
    public TimeSpan? RetryDelay { get; init; }

    /// <summary>The serialized result of a successful attempt of a task that returns one.</summary>
    public ReadOnlyMemory<byte>? Result { get; init; }

    /// <summary>Whether this is a job of the task <typeparamref name="TArgs"/> belongs to.</summary>
    public bool Is<TArgs>()
        where TArgs : class, ITaskArguments<TArgs> =>
        string.Equals(Job.TaskName, TArgs.TaskName, StringComparison.Ordinal);

    /// <summary>The job's arguments, read with the task's serializer.</summary>
    /// <exception cref="InvalidOperationException">The job belongs to another task.</exception>
    public TArgs GetArguments<TArgs>()
        where TArgs : class, ITaskArguments<TArgs>
    {
        if (!Is<TArgs>())
        {
            throw new InvalidOperationException($"Job {Id} is a job of task '{TaskName}', not of '{TArgs.TaskName}'.");
        }

        return TArgs.FromPayload(Job.Payload);
    }

    /// <summary>The attempt's result, read with the task's result serializer.</summary>
    /// <exception cref="InvalidOperationException">The attempt did not succeed, or its task returns no result.</exception>
    /// <exception cref="InvalidCastException">The task's result is not a <typeparamref name="T"/>.</exception>
    public T GetResult<T>()
    {
        if (Outcome != JobRunOutcome.Succeeded || Result is not { } result || task is null)
        {
            throw new InvalidOperationException($"Job {Id} (task '{TaskName}', attempt {Attempt}) has no result: it ended {Outcome}"
                + (task is { HasResult: false } ? " and its task returns none." : "."));
        }

        return (T)task.DecodeResult(result.Span)!;
    }

    /// <inheritdoc />
    public override string ToString() => $"{TaskName} {Id} attempt {Attempt}: {Outcome}" + (Error is null ? string.Empty : " (" + FirstLine(Error) + ")");

    private static string FirstLine(string text)
    {
        var end = text.IndexOf('\n', StringComparison.Ordinal);
        return end < 0 ? text : text[..end].TrimEnd('\r');
    }
}

/// <summary>The attempts one <c>DrainAsync</c> call ran, in the order they ran.</summary>
public sealed class DrainResult : IReadOnlyList<JobRun>
{
    private readonly List<JobRun> runs;

    internal DrainResult(List<JobRun> runs, DateTimeOffset endedAt)
    {
        this.runs = runs;
        EndedAt = endedAt;
    }

    /// <summary>The test clock's time when the drain ended.</summary>
    public DateTimeOffset EndedAt { get; }

    /// <inheritdoc />
    public int Count => runs.Count;

    /// <inheritdoc />
    public JobRun this[int index] => runs[index];

    /// <summary>The attempts of jobs of the task <typeparamref name="TArgs"/> belongs to.</summary>
    public IReadOnlyList<JobRun> Of<TArgs>()
        where TArgs : class, ITaskArguments<TArgs> =>
        runs.Where(static r => r.Is<TArgs>()).ToArray();

    /// <summary>The attempts that ended with <paramref name="outcome"/>.</summary>
    public IReadOnlyList<JobRun> With(JobRunOutcome outcome) => runs.Where(r => r.Outcome == outcome).ToArray();

    /// <inheritdoc />
    public IEnumerator<JobRun> GetEnumerator() => runs.GetEnumerator();

    System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();

    /// <inheritdoc />
    public override string ToString() => runs.Count == 0 ? "(nothing ran)" : string.Join(Environment.NewLine, runs);
}
