using NCrontab;

namespace TypedJobs.Scheduling;

/// <summary>
/// A cron expression evaluated in a time zone. NCrontab finds the next matching wall-clock time; this adapter maps
/// wall-clock times to instants with defined daylight-saving behaviour:
/// <list type="bullet">
/// <item>a local time that does not exist (skipped when clocks spring forward) fires once, at the first valid instant
/// after it (the moment of the transition, e.g. 03:00 in Europe/Berlin for 02:30);</item>
/// <item>a local time that occurs twice (repeated when clocks fall back) fires once, at its first occurrence.</item>
/// </list>
/// </summary>
internal sealed class CronSchedule
{
    private static readonly CrontabSchedule.ParseOptions WithSeconds = new() { IncludingSeconds = true };
    private static readonly CrontabSchedule.ParseOptions WithoutSeconds = new() { IncludingSeconds = false };

    // NCrontab returns its end time when nothing matches before it; half a second never matches a whole-second occurrence.
    private static readonly TimeSpan Horizon = TimeSpan.FromDays(366 * 30) + TimeSpan.FromMilliseconds(500);

    private readonly CrontabSchedule[] schedules;

    private CronSchedule(CronFields fields, TimeZoneInfo zone)
    {
        Fields = fields;
        Zone = zone;
        var options = fields.HasSeconds ? WithSeconds : WithoutSeconds;
        schedules = fields is { DayOfMonthRestricted: true, DayOfWeekRestricted: true }
            ? [CrontabSchedule.Parse(fields.ToCanonicalString(anyDayOfWeek: true), options), CrontabSchedule.Parse(fields.ToCanonicalString(anyDayOfMonth: true), options)]
            : [CrontabSchedule.Parse(fields.ToCanonicalString(), options)];
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
    public DateTimeOffset? GetNextOccurrence(DateTimeOffset after)
    {
        var local = TimeZoneInfo.ConvertTime(after, Zone).DateTime;
        for (var guard = 0; guard < 10_000; guard++)
        {
            if (NextLocal(local) is not { } candidate)
            {
                return null;
            }

            DateTimeOffset instant;
            if (Zone.IsInvalidTime(candidate))
            {
                instant = FirstInstantAfterGap(candidate);
            }
            else if (Zone.IsAmbiguousTime(candidate))
            {
                var offsets = Zone.GetAmbiguousTimeOffsets(candidate);
                var first = offsets.Max();
                instant = new DateTimeOffset(candidate, first);
                if (instant <= after)
                {
                    // The first pass of this repeated local time is over, so every repeated time left in this fold
                    // already had its turn: continue after the fold.
                    local = EndOfFold(candidate, first, offsets.Min());
                    continue;
                }
            }
            else
            {
                instant = new DateTimeOffset(candidate, Zone.GetUtcOffset(candidate));
            }

            if (instant > after)
            {
                return instant.ToUniversalTime();
            }

            local = candidate;
        }

        throw new InvalidOperationException($"The cron expression '{Fields.Expression}' in time zone '{Zone.Id}' did not yield an occurrence after {after:O}.");
    }

    private DateTime? NextLocal(DateTime local)
    {
        if (local.Ticks > DateTime.MaxValue.Ticks - Horizon.Ticks)
        {
            return null;
        }

        var end = local + Horizon;
        DateTime? best = null;
        foreach (var schedule in schedules)
        {
            var next = schedule.GetNextOccurrence(local, end);
            if (next < end && (best is null || next < best))
            {
                best = next;
            }
        }

        return best;
    }

    /// <summary>The transition instant that ends the gap containing the invalid local time <paramref name="local"/>.</summary>
    private DateTimeOffset FirstInstantAfterGap(DateTime local)
    {
        // Offsets lie within -14h..+14h, so the instant whose wall-clock time passes `local` lies in this window. The
        // wall clock jumps forward over `local` exactly once there: find the first instant whose wall time is later.
        var low = local.Ticks - TimeSpan.FromHours(15).Ticks;
        var high = local.Ticks + TimeSpan.FromHours(15).Ticks;
        while (low < high)
        {
            var middle = low + ((high - low) / 2);
            if (WallTicks(middle) > local.Ticks)
            {
                high = middle;
            }
            else
            {
                low = middle + 1;
            }
        }

        return new DateTimeOffset(low, TimeSpan.Zero);
    }

    /// <summary>The local time just before a fall-back fold containing <paramref name="local"/> ends.</summary>
    private DateTime EndOfFold(DateTime local, TimeSpan before, TimeSpan after)
    {
        // The clocks fall back at an instant between the first and the second pass of `local`.
        var low = (local - before).Ticks;
        var high = (local - after).Ticks;
        while (low < high)
        {
            var middle = low + ((high - low) / 2);
            if (Zone.GetUtcOffset(new DateTime(middle, DateTimeKind.Utc)) == after)
            {
                high = middle;
            }
            else
            {
                low = middle + 1;
            }
        }

        // Wall-clock time of the transition in the old offset is where the fold ends; NCrontab looks strictly after it.
        return new DateTime(low + before.Ticks - TimeSpan.TicksPerSecond, DateTimeKind.Unspecified);
    }

    private long WallTicks(long utcTicks) =>
        utcTicks + Zone.GetUtcOffset(new DateTime(utcTicks, DateTimeKind.Utc)).Ticks;
}
