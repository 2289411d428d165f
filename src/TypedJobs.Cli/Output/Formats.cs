using System.Globalization;
using System.Text;
using System.Text.Json;
using TypedJobs.Events;
using TypedJobs.Storage;

namespace TypedJobs.Cli.Output;

/// <summary>Turns store records into the JSON documents and the text of table cells.</summary>
internal static class Formats
{
    public static string Name(JobState state) => state switch
    {
        JobState.Scheduled => "scheduled",
        JobState.Ready => "ready",
        JobState.Running => "running",
        JobState.Succeeded => "succeeded",
        JobState.Dead => "dead",
        JobState.Cancelled => "cancelled",
        _ => state.ToString().ToLowerInvariant(),
    };

    public static string Name(Priority priority) => priority.ToString().ToLowerInvariant();

    public static string Name(JobEventKind kind) => kind.ToString().ToLowerInvariant();

    public static string Name(ScheduleKind kind) => kind.ToString().ToLowerInvariant();

    public static JobSummary Summary(JobRecord job) => new(
        job.Id.ToString(), job.TaskName, job.Queue, Name(job.State), Name(job.Priority), job.Attempt, job.MaxRetries,
        job.CreatedAt, job.DueAt, job.StartedAt, job.FinishedAt, job.Progress, job.ProgressMessage, job.WorkerId, job.UniqueKey,
        job.LastError);

    public static JobEventEntry Event(JobEvent e) => new(Name(e.Kind), e.Timestamp, e.Attempt, e.WorkerId, e.Error,
        e.Delay?.TotalSeconds, e.Duration?.TotalSeconds);

    public static StateCounts Counts(IReadOnlyDictionary<JobState, long> counts)
    {
        long Get(JobState s) => counts.TryGetValue(s, out var n) ? n : 0;
        return new StateCounts(Get(JobState.Scheduled), Get(JobState.Ready), Get(JobState.Running), Get(JobState.Succeeded),
            Get(JobState.Dead), Get(JobState.Cancelled));
    }

    /// <summary>The payload as a JSON value when it is JSON (the generated serializers write JSON), else null.</summary>
    public static JsonElement? PayloadJson(byte[] payload)
    {
        try
        {
            using var document = JsonDocument.Parse(payload);
            return document.RootElement.Clone();
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>The payload pretty-printed when it is JSON, else its base64 text.</summary>
    public static string PayloadText(byte[] payload)
    {
        if (PayloadJson(payload) is not { } json)
        {
            return "(not JSON, base64) " + Convert.ToBase64String(payload);
        }

        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            json.WriteTo(writer);
        }

        return Encoding.UTF8.GetString(stream.ToArray());
    }

    /// <summary>An instant for a table: UTC, to the second.</summary>
    public static string Time(DateTimeOffset? time) =>
        time is { } t ? t.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture) : "";

    public static string Number(long n) => n.ToString("N0", CultureInfo.InvariantCulture);

    public static string Duration(TimeSpan? span)
    {
        if (span is not { } d)
        {
            return "";
        }

        return d.TotalSeconds < 1 ? $"{d.TotalMilliseconds.ToString("0", CultureInfo.InvariantCulture)} ms"
            : d.TotalMinutes < 1 ? $"{d.TotalSeconds.ToString("0.#", CultureInfo.InvariantCulture)} s"
            : d.TotalHours < 1 ? $"{d.TotalMinutes.ToString("0.#", CultureInfo.InvariantCulture)} min"
            : d.TotalDays < 1 ? $"{d.TotalHours.ToString("0.#", CultureInfo.InvariantCulture)} h"
            : $"{d.TotalDays.ToString("0.#", CultureInfo.InvariantCulture)} d";
    }

    /// <summary>Cuts a long text (an error with a stack trace) to its first line and <paramref name="max"/> characters.</summary>
    public static string Short(string? text, int max = 60)
    {
        if (string.IsNullOrEmpty(text))
        {
            return "";
        }

        var line = text.Split('\n', 2)[0].TrimEnd('\r');
        return line.Length <= max ? line : line[..(max - 1)] + "…";
    }
}
