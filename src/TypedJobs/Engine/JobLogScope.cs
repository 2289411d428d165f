using System.Collections;
using System.Globalization;
using TypedJobs.Storage;

namespace TypedJobs.Engine;

/// <summary>
/// The log scope of one attempt: every line the engine and the handler log while it runs carries the job's id, task,
/// queue, attempt and worker, so a job can be followed across processes (structured loggers see the properties;
/// text loggers the <see cref="ToString"/>).
/// </summary>
internal sealed class JobLogScope(JobRecord job, string workerId) : IReadOnlyList<KeyValuePair<string, object?>>
{
    public int Count => 5;

    public KeyValuePair<string, object?> this[int index] => index switch
    {
        0 => new("JobId", job.Id.ToString()),
        1 => new("TaskName", job.TaskName),
        2 => new("Queue", job.Queue),
        3 => new("Attempt", job.Attempt),
        4 => new("WorkerId", workerId),
        _ => throw new ArgumentOutOfRangeException(nameof(index)),
    };

    public IEnumerator<KeyValuePair<string, object?>> GetEnumerator()
    {
        for (var i = 0; i < Count; i++)
        {
            yield return this[i];
        }
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"Job {job.Id} ({job.TaskName}, queue {job.Queue}, attempt {job.Attempt}, worker {workerId})");
}
