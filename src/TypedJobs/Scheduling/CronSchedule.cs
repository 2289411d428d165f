namespace TypedJobs.Scheduling;

/// <summary>
/// A cron expression evaluated in a time zone by Cronos, which defines what happens around daylight-saving changes:
/// <list type="bullet">
/// <item>a local time that does not exist (skipped when clocks spring forward) fires once, at the transition (02:30
/// in Europe/Berlin on the last Sunday of March fires at 03:00 CEST);</item>
/// <item>a local time that occurs twice (repeated when clocks fall back) fires once, at its first occurrence, when
/// the expression names fixed hours and minutes (<c>30 1 * * *</c>); an expression whose minute or hour field is a
/// range, a step or <c>*</c> (<c>*/15 * * * *</c>, <c>0 * * * *</c>) keeps its rhythm in elapsed time and fires in
/// both passes of the repeated hour.</item>
/// </list>
/// </summary>
internal sealed class CronSchedule
{
    private CronSchedule(CronFields fields, TimeZoneInfo zone)
    {
        Fields = fields;
        Zone = zone;
    }

    /// <summary>The parsed fields.</summary>
    public CronFields Fields { get; }

    /// <summary>The time zone the expression is evaluated in.</summary>
    public TimeZoneInfo Zone { get; }

    /// <summary>Parses an expression and a time zone (<see langword="null"/> = UTC); throws <see cref="FormatException"/> with the validation message.</summary>
    public static CronSchedule Parse(string expression, string? timeZone)
    {
        var fields = CronParser.TryParse(expression, out var error) ?? throw new FormatException(error);
        var zone = CronParser.TryFindTimeZone(timeZone, out error) ?? throw new FormatException(error);
        return new CronSchedule(fields, zone);
    }

    /// <summary>The first occurrence strictly after <paramref name="after"/>, in UTC; <see langword="null"/> when there is none.</summary>
    public DateTimeOffset? GetNextOccurrence(DateTimeOffset after) => Fields.Next(after, Zone);
}
