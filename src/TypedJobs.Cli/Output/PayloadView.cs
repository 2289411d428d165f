using System.Text;
using System.Text.Json;
using TypedJobs.Cli.Infrastructure;

namespace TypedJobs.Cli.Output;

/// <summary>
/// What <c>jobs show</c> prints of a stored payload. The tool has no task registry, so it learns which payload members
/// are sensitive from the worker registry in the store: every worker lists the tasks it knows
/// (<see cref="Storage.WorkerRegistration.Tasks"/>), those whose payloads have members marked <c>[Sensitive]</c>
/// (<see cref="Storage.WorkerRegistration.SensitiveTasks"/>) and, for those, the top-level members that hold no sensitive
/// value (<see cref="Storage.WorkerRegistration.VisibleMembers"/>). A payload prints as stored when a worker classified
/// its task and none reports sensitive members for it; a task with sensitive members prints its visible members as
/// stored and every other value as <c>"***"</c> (the marker of the generated redaction); a task no worker classifies
/// prints its member names only, each value <c>"***"</c>. <c>--show-payload</c> prints every value on purpose.
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

    /// <summary>What the registered workers say of a task: its kind and, for a task with sensitive members, the members every such worker shows.</summary>
    internal sealed record Classification(Kind Kind, IReadOnlySet<string> Visible);

    /// <summary>Every value shown (for <c>--show-payload</c>).</summary>
    public static readonly Classification Everything = new(Kind.Safe, new HashSet<string>());

    public static async Task<Classification> ClassifyAsync(StorageSession session, string taskName, CancellationToken cancellationToken)
    {
        var workers = await session.Admin.GetWorkersAsync(cancellationToken).ConfigureAwait(false);
        var kind = Kind.Unknown;
        HashSet<string>? visible = null;
        foreach (var worker in workers.Workers)
        {
            var registration = worker.Registration;
            if (registration.SensitiveTasks is not { } sensitive)
            {
                continue;
            }

            if (sensitive.Contains(taskName, StringComparer.Ordinal))
            {
                // Workers of two versions may disagree: a member is shown only when every one of them shows it.
                kind = Kind.Sensitive;
                var shown = registration.VisibleMembers is { } members && members.TryGetValue(taskName, out var names) ? names : [];
                if (visible is null)
                {
                    visible = new HashSet<string>(shown, StringComparer.Ordinal);
                }
                else
                {
                    visible.IntersectWith(shown);
                }
            }
            else if (kind == Kind.Unknown && registration.Tasks.Contains(taskName, StringComparer.Ordinal))
            {
                kind = Kind.Safe;
            }
        }

        return new Classification(kind, kind == Kind.Sensitive ? visible! : new HashSet<string>());
    }

    public static Shown Show(byte[] payload, string taskName, Classification classification)
    {
        var json = Formats.PayloadJson(payload);
        if (classification.Kind == Kind.Safe)
        {
            return new Shown(json, payload, false, null);
        }

        var note = classification.Kind == Kind.Sensitive
            ? "values of members marked [Sensitive] hidden; --show-payload prints every value"
            : $"values hidden: no registered worker reports which payload members of task '{taskName}' are sensitive; --show-payload prints every value";
        var masked = Mask(json, classification.Visible);
        return new Shown(masked, Encoding.UTF8.GetBytes(masked.GetRawText()), true, note);
    }

    /// <summary>
    /// The payload with every top-level value not in <paramref name="visible"/> replaced by the marker (a payload that is
    /// not a JSON object becomes the marker).
    /// </summary>
    private static JsonElement Mask(JsonElement? json, IReadOnlySet<string> visible)
    {
        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream))
        {
            if (json is { ValueKind: JsonValueKind.Object } root)
            {
                writer.WriteStartObject();
                foreach (var member in root.EnumerateObject())
                {
                    if (visible.Contains(member.Name))
                    {
                        member.WriteTo(writer);
                    }
                    else
                    {
                        writer.WriteString(member.Name, Marker);
                    }
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
