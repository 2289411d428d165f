using System.Buffers;
using System.Text.Json;
using TypedJobs.Registration;

namespace TypedJobs.Contracts;

/// <summary>
/// Which top-level payload members of a task with <see cref="SensitiveAttribute"/> members hold no sensitive value, for
/// the worker registry (<see cref="Storage.WorkerRegistration.VisibleMembers"/>): tools without the task registry (the
/// CLI) print those values and replace every other value with <c>"***"</c>. The member names come from the task's
/// contract shape (<see cref="TaskContractInfo.Shape"/>); the classification from the task's own redaction, given a payload
/// with a plain text in every member: a member it rewrites is sensitive, or holds a sensitive member somewhere inside.
/// </summary>
internal static class PayloadMembers
{
    private const string Probe = "typedjobs-probe";

    /// <summary>
    /// The members of <paramref name="task"/>'s payload that its redaction leaves alone, by name (ordinal); empty when the
    /// shape is unknown or unreadable (then every value is hidden).
    /// </summary>
    public static IReadOnlyList<string> Visible(JobTask task, TaskContractInfo? contract)
    {
        if (contract?.Shape is not { } shape)
        {
            return [];
        }

        try
        {
            var names = Parameters(shape, task.Name);
            if (names.Count == 0)
            {
                return [];
            }

            var probe = new ArrayBufferWriter<byte>();
            using (var writer = new Utf8JsonWriter(probe))
            {
                writer.WriteStartObject();
                foreach (var name in names)
                {
                    writer.WriteString(name, Probe);
                }

                writer.WriteEndObject();
            }

            using var redacted = JsonDocument.Parse(task.RedactPayload(probe.WrittenSpan));
            return names.Where(name => redacted.RootElement.TryGetProperty(name, out var value)
                                       && value.ValueKind == JsonValueKind.String && value.GetString() == Probe)
                .Order(StringComparer.Ordinal).ToArray();
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException or FormatException)
        {
            return [];
        }
    }

    /// <summary>The payload parameter names the shape records for the task.</summary>
    private static List<string> Parameters(string shape, string taskName)
    {
        var names = new List<string>();
        using var document = JsonDocument.Parse(shape);
        if (document.RootElement.TryGetProperty("tasks", out var tasks) && tasks.ValueKind == JsonValueKind.Object
            && tasks.TryGetProperty(taskName, out var task) && task.ValueKind == JsonValueKind.Object
            && task.TryGetProperty("parameters", out var parameters) && parameters.ValueKind == JsonValueKind.Array)
        {
            foreach (var parameter in parameters.EnumerateArray())
            {
                if (parameter.ValueKind == JsonValueKind.Object && parameter.TryGetProperty("name", out var name) && name.ValueKind == JsonValueKind.String)
                {
                    names.Add(name.GetString()!);
                }
            }
        }

        return names;
    }
}
