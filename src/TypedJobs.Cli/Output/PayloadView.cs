using System.Text;
using System.Text.Json;
using TypedJobs.Cli.Infrastructure;

namespace TypedJobs.Cli.Output;

/// <summary>
/// What <c>jobs show</c> prints of a stored payload. The tool has no task registry, so it learns which tasks have
/// members marked <c>[Sensitive]</c> from the worker registry in the store: every worker lists the tasks it knows
/// (<see cref="Storage.WorkerRegistration.Tasks"/>) and those whose payloads have sensitive members
/// (<see cref="Storage.WorkerRegistration.SensitiveTasks"/>). A payload is printed as stored only when a worker
/// classified its task and none reports sensitive members for it; otherwise only its top-level member names are printed,
/// each value as <c>"***"</c> (the marker of the generated redaction), unless the operator asks for the values with
/// <c>--show-payload</c>.
/// </summary>
internal static class PayloadView
{
    /// <summary>The marker that replaces a hidden value, as in the generated redaction.</summary>
    public const string Marker = "***";

    /// <summary>What the tool knows of a task's payload members.</summary>
    internal enum Kind
    {
        /// <summary>A worker knows the task and reports no sensitive members.</summary>
        Safe,

        /// <summary>A worker reports members marked [Sensitive].</summary>
        Sensitive,

        /// <summary>No worker that reports sensitive members knows the task.</summary>
        Unknown,
    }

    /// <summary>A payload as printed: the JSON (or null when it is not JSON), whether values were hidden, and why.</summary>
    internal sealed record Shown(JsonElement? Json, byte[] Raw, bool Redacted, string? Note);

    public static async Task<Kind> ClassifyAsync(StorageSession session, string taskName, CancellationToken cancellationToken)
    {
        var workers = await session.Admin.GetWorkersAsync(cancellationToken).ConfigureAwait(false);
        var kind = Kind.Unknown;
        foreach (var worker in workers.Workers)
        {
            var registration = worker.Registration;
            if (registration.SensitiveTasks is not { } sensitive)
            {
                continue;
            }

            if (sensitive.Contains(taskName, StringComparer.Ordinal))
            {
                return Kind.Sensitive;
            }

            if (registration.Tasks.Contains(taskName, StringComparer.Ordinal))
            {
                kind = Kind.Safe;
            }
        }

        return kind;
    }

    public static Shown Show(byte[] payload, string taskName, Kind kind, bool showPayload)
    {
        var json = Formats.PayloadJson(payload);
        if (showPayload || kind == Kind.Safe)
        {
            return new Shown(json, payload, false, null);
        }

        var note = kind == Kind.Sensitive
            ? $"values hidden: task '{taskName}' has payload members marked [Sensitive] and this tool cannot tell which; --show-payload prints every value"
            : $"values hidden: no registered worker reports which payload members of task '{taskName}' are sensitive; --show-payload prints every value";
        var masked = Mask(json);
        return new Shown(masked, Encoding.UTF8.GetBytes(masked.GetRawText()), true, note);
    }

    /// <summary>The payload with every top-level value replaced by the marker (a payload that is not a JSON object becomes the marker).</summary>
    private static JsonElement Mask(JsonElement? json)
    {
        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream))
        {
            if (json is { ValueKind: JsonValueKind.Object } root)
            {
                writer.WriteStartObject();
                foreach (var member in root.EnumerateObject())
                {
                    writer.WriteString(member.Name, Marker);
                }

                writer.WriteEndObject();
            }
            else
            {
                writer.WriteStringValue(Marker);
            }
        }

        using var document = JsonDocument.Parse(stream.ToArray());
        return document.RootElement.Clone();
    }
}
