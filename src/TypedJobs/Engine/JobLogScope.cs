using System.Globalization;
using TypedJobs.Storage;

namespace TypedJobs.Engine;

/// <summary>
/// The log scope of one attempt: every line the engine and the handler log while it runs carries the job's id, task,
/// queue, attempt and worker, so a job can be followed across processes (structured loggers see the properties; text
/// loggers the text). The attempt itself (<see cref="Execution"/>) is the scope's state, so the scope costs no object
/// of its own; these are its properties and text.
/// </summary>
internal static class JobLogScope
{
    /// <summary>How many properties the scope has.</summary>
    public const int Count = 5;

    /// <summary>The scope's property at <paramref name="index"/>.</summary>
    public static KeyValuePair<string, object?> Property(JobRecord job, string workerId, int index) => index switch
    {
        0 => new("JobId", job.Id.ToString()),
        1 => new("TaskName", job.TaskName),
        2 => new("Queue", job.Queue),
        3 => new("Attempt", job.Attempt),
        4 => new("WorkerId", workerId),
        _ => throw new ArgumentOutOfRangeException(nameof(index)),
    };

    /// <summary>The scope as text.</summary>
    public static string Format(JobRecord job, string workerId) =>
        string.Create(CultureInfo.InvariantCulture, $"Job {job.Id} ({job.TaskName}, queue {job.Queue}, attempt {job.Attempt}, worker {workerId})");
}
