using System.Text.Json;
using TypedJobs.Registration;
using TypedJobs.Storage;

namespace TypedJobs.AspNetCore.Admin;

/// <summary>
/// Decides what of a stored payload an operator sees: the task's own redaction (members marked [Sensitive] become
/// "***"), or nothing when this process cannot know which members are sensitive.
/// </summary>
internal sealed class PayloadDisplay(IReadOnlyList<JobTask> tasks, bool showUnregistered)
{
    private readonly Dictionary<string, JobTask> byName = tasks.ToDictionary(static t => t.Name, StringComparer.Ordinal);

    public bool IsRegistered(string taskName) => byName.ContainsKey(taskName);

    public Shown Show(JobRecord job)
    {
        byName.TryGetValue(job.TaskName, out var task);
        if (task is null && !showUnregistered)
        {
            return new Shown(null, $"The task '{job.TaskName}' is not registered in this process, so which of its members are sensitive is unknown: " +
                                   "the payload is hidden (see TypedJobsAdminOptions.ShowPayloadsOfUnregisteredTasks).", false);
        }

        try
        {
            if (task is not null)
            {
                return new Shown(task.RedactPayload(job.Payload), null, task.HasSensitiveMembers);
            }

            using var document = JsonDocument.Parse(job.Payload);
            return new Shown(document.RootElement.GetRawText(), null, false);
        }
        catch (JsonException)
        {
            return new Shown(null, $"The stored payload ({job.Payload.Length} bytes) is not valid JSON; it is not shown.", false);
        }
    }

    /// <summary>
    /// Whether a job found by a text search would be found by what an operator may see (its error and shown payload), so
    /// a search never reveals text that only a sensitive or hidden payload holds.
    /// </summary>
    public bool VisiblyContains(JobRecord job, string text)
    {
        if (job.LastError?.Contains(text, StringComparison.OrdinalIgnoreCase) == true)
        {
            return true;
        }

        return Show(job).Payload?.Contains(text, StringComparison.OrdinalIgnoreCase) == true;
    }

    internal readonly record struct Shown(string? Payload, string? Hidden, bool Redacted);
}
