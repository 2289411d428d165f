using System.Globalization;
using Microsoft.AspNetCore.Http;
using TypedJobs.Storage;

namespace TypedJobs.AspNetCore.Admin;

/// <summary>Reads and validates query strings and route values; every refusal names the parameter and the rule.</summary>
internal static class AdminInput
{
    public const int MaxTextLength = 200;

    public static JobId JobId(HttpContext context)
    {
        var text = context.Request.RouteValues["id"] as string;
        return TypedJobs.JobId.TryParse(text, out var id)
            ? id
            : throw AdminProblemException.Invalid("id", "The job id must be a UUID, e.g. 0190d0b4-7c5e-7a1b-8c9d-0e1f2a3b4c5d.");
    }

    public static string QueueName(string? name, string parameter)
    {
        if (!IsQueueName(name))
        {
            throw AdminProblemException.Invalid(parameter, "A queue name has 1-100 characters: letters, digits, '-', '_', '.' or ':'.");
        }

        return name!;
    }

    public static bool IsQueueName(string? name)
    {
        if (string.IsNullOrEmpty(name) || name.Length > 100)
        {
            return false;
        }

        foreach (var c in name)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' or ':'))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>A task or schedule name from the route: 1-200 characters without control characters.</summary>
    public static string Name(HttpContext context, string parameter)
    {
        var name = context.Request.RouteValues[parameter] as string;
        return CheckText(name, parameter, required: true)!;
    }

    public static string? CheckText(string? value, string parameter, bool required = false)
    {
        if (value is null || (value.Length == 0 && !required))
        {
            return required ? throw AdminProblemException.Invalid(parameter, $"'{parameter}' is required.") : null;
        }

        if (value.Length == 0 || value.Length > MaxTextLength || value.Any(char.IsControl))
        {
            throw AdminProblemException.Invalid(parameter, $"'{parameter}' must have 1-{MaxTextLength} characters and no control characters.");
        }

        return value;
    }

    public static JobFilter Filter(IQueryCollection query, bool textSearch)
    {
        var filter = new JobFilter
        {
            State = State(Single(query, "state")),
            Queue = Single(query, "queue") is { Length: > 0 } queue ? QueueName(queue, "queue") : null,
            TaskName = CheckText(Single(query, "task"), "task"),
            Text = CheckText(Single(query, "text"), "text"),
            CreatedAfter = Instant(Single(query, "from"), "from"),
            CreatedBefore = Instant(Single(query, "to"), "to"),
        };
        return Check(filter, textSearch);
    }

    public static JobFilter Check(JobFilter filter, bool textSearch)
    {
        if (filter.Text is not null && !textSearch)
        {
            throw AdminProblemException.Invalid("text", "The storage of the jobs role cannot search payloads and errors for text.");
        }

        if (filter is { CreatedAfter: { } from, CreatedBefore: { } to } && from >= to)
        {
            throw AdminProblemException.Invalid("from", "'from' must be earlier than 'to'.");
        }

        return filter;
    }

    public static JobState? State(string? text)
    {
        if (string.IsNullOrEmpty(text))
        {
            return null;
        }

        foreach (var state in JobStates.All)
        {
            if (string.Equals(state.ToString(), text, StringComparison.OrdinalIgnoreCase))
            {
                return state;
            }
        }

        throw AdminProblemException.Invalid("state", $"'state' must be one of {string.Join(", ", JobStates.All)}.");
    }

    public static int Int(IQueryCollection query, string name, int defaultValue, int min, int max)
    {
        var text = Single(query, name);
        if (string.IsNullOrEmpty(text))
        {
            return defaultValue;
        }

        if (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value) || value < min || value > max)
        {
            throw AdminProblemException.Invalid(name, $"'{name}' must be a whole number from {min} to {max}.");
        }

        return value;
    }

    public static string? Cursor(IQueryCollection query)
    {
        var text = Single(query, "cursor");
        if (string.IsNullOrEmpty(text))
        {
            return null;
        }

        if (text.Length > 1000 || text.Any(char.IsControl))
        {
            throw AdminProblemException.Invalid("cursor", "The cursor is not one this API issued: start again from the first page.");
        }

        return text;
    }

    private static DateTimeOffset? Instant(string? text, string name)
    {
        if (string.IsNullOrEmpty(text))
        {
            return null;
        }

        return DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var value)
            ? value
            : throw AdminProblemException.Invalid(name, $"'{name}' must be an ISO 8601 date and time, e.g. 2026-12-01T08:00:00Z.");
    }

    private static string? Single(IQueryCollection query, string name)
    {
        var values = query[name];
        return values.Count switch
        {
            0 => null,
            1 => values[0],
            _ => throw AdminProblemException.Invalid(name, $"'{name}' is given more than once."),
        };
    }
}
