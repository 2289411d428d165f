using System.Globalization;

namespace TypedJobs.Cli.Infrastructure;

/// <summary>Parsers for option values operators type: states, instants and durations.</summary>
internal static class Parsing
{
    public static readonly string[] StateNames = ["scheduled", "ready", "running", "succeeded", "dead", "cancelled"];

    public static JobState State(string text) => text.Trim().ToLowerInvariant() switch
    {
        "scheduled" => JobState.Scheduled,
        "ready" => JobState.Ready,
        "running" => JobState.Running,
        "succeeded" => JobState.Succeeded,
        "dead" => JobState.Dead,
        "cancelled" or "canceled" => JobState.Cancelled,
        _ => throw CliException.Usage($"--state '{text}' is not a state: use one of {string.Join(", ", StateNames)}"),
    };

    /// <summary>
    /// A duration: a number with a unit (<c>90s</c>, <c>15m</c>, <c>2h</c>, <c>7d</c>, <c>250ms</c>), a plain number of
    /// seconds, or a .NET time span (<c>00:05:00</c>).
    /// </summary>
    public static TimeSpan? TryDuration(string text)
    {
        var value = text.Trim();
        (string Suffix, double Factor)[] units = [("ms", 0.001), ("s", 1), ("m", 60), ("h", 3600), ("d", 86400), ("w", 604800)];
        foreach (var (suffix, factor) in units)
        {
            if (value.EndsWith(suffix, StringComparison.OrdinalIgnoreCase)
                && double.TryParse(value[..^suffix.Length], NumberStyles.Float, CultureInfo.InvariantCulture, out var n) && n >= 0)
            {
                return TimeSpan.FromSeconds(n * factor);
            }
        }

        if (double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds) && seconds >= 0)
        {
            return TimeSpan.FromSeconds(seconds);
        }

        return TimeSpan.TryParse(value, CultureInfo.InvariantCulture, out var span) && span >= TimeSpan.Zero ? span : null;
    }

    public static TimeSpan Duration(string option, string text) =>
        TryDuration(text) ?? throw CliException.Usage($"{option} '{text}' is not a duration: use e.g. 30s, 15m, 2h, 7d or 00:05:00");

    /// <summary>An instant: ISO 8601 (<c>2026-12-01</c>, <c>2026-12-01T08:00:00Z</c>; no offset means UTC), or a duration meaning that long ago (<c>2h</c>).</summary>
    public static DateTimeOffset Instant(string option, string text, DateTimeOffset now)
    {
        if (DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var instant))
        {
            return instant;
        }

        if (TryDuration(text) is { } ago)
        {
            return now - ago;
        }

        throw CliException.Usage($"{option} '{text}' is not an instant: use ISO 8601 (2026-12-01T08:00:00Z) or an age such as 2h or 7d");
    }

    public static JobId JobId(string text) =>
        TypedJobs.JobId.TryParse(text, out var id) ? id : throw CliException.Usage($"'{text}' is not a job id (expected a UUID)");
}
