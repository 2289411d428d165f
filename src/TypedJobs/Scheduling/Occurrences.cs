using System.Collections.Concurrent;
using System.Globalization;
using TypedJobs.Storage;

namespace TypedJobs.Scheduling;

/// <summary>Computes the occurrences of stored schedules: cron (in a time zone), interval, or once.</summary>
internal sealed class Occurrences
{
    /// <summary>The shortest interval a schedule accepts.</summary>
    public static readonly TimeSpan MinInterval = TimeSpan.FromSeconds(1);

    private readonly ConcurrentDictionary<(string Cron, string? Zone), CronSchedule> cronCache = new();

    /// <summary>The parsed cron schedule of an expression and time zone (cached); throws <see cref="FormatException"/>.</summary>
    public CronSchedule Cron(string expression, string? timeZone)
    {
        if (cronCache.TryGetValue((expression, timeZone), out var cached))
        {
            return cached;
        }

        var parsed = CronSchedule.Parse(expression, timeZone);
        if (cronCache.Count > 10_000)
        {
            cronCache.Clear();
        }

        return cronCache.GetOrAdd((expression, timeZone), parsed);
    }

    /// <summary>
    /// The first occurrence of <paramref name="schedule"/> strictly after <paramref name="after"/>; <see langword="null"/>
    /// when there is none (a one-time schedule never has another occurrence).
    /// </summary>
    public DateTimeOffset? Next(ScheduleRecord schedule, DateTimeOffset after)
    {
        if (schedule.Cron is { } cron)
        {
            return Cron(cron, schedule.TimeZone).GetNextOccurrence(after);
        }

        return schedule.Interval is { } interval ? NextInterval(interval, after) : null;
    }

    /// <summary>
    /// Interval occurrences are whole multiples of the interval counted from the Unix epoch (UTC), so every scheduler
    /// instance computes the same instants.
    /// </summary>
    public static DateTimeOffset NextInterval(TimeSpan interval, DateTimeOffset after)
    {
        var elapsed = after.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks;
        var periods = elapsed / interval.Ticks;
        if (elapsed < 0 && elapsed % interval.Ticks != 0)
        {
            periods--;
        }

        return new DateTimeOffset(DateTimeOffset.UnixEpoch.UtcTicks + ((periods + 1) * interval.Ticks), TimeSpan.Zero);
    }

    /// <summary>
    /// The last <paramref name="max"/> occurrences from <paramref name="first"/> (itself an occurrence) to
    /// <paramref name="now"/>, oldest first. Looks back in doubling windows, so a long outage of a frequent schedule
    /// costs about as much as the occurrences returned.
    /// </summary>
    public List<DateTimeOffset> LastDue(ScheduleRecord schedule, DateTimeOffset first, DateTimeOffset now, int max)
    {
        var found = new Queue<DateTimeOffset>();
        if (first > now || max < 1)
        {
            return [];
        }

        var window = TimeSpan.FromMinutes(1);
        while (true)
        {
            found.Clear();
            var fromFirst = now - first <= window;
            var occurrence = fromFirst ? first : Next(schedule, now - window);
            var count = 0;
            while (occurrence is { } current && current <= now)
            {
                found.Enqueue(current);
                if (found.Count > max)
                {
                    found.Dequeue();
                }

                count++;
                occurrence = Next(schedule, current);
            }

            if (fromFirst || count >= max)
            {
                return [.. found];
            }

            window = window < TimeSpan.FromDays(365 * 100) ? window * 2 : now - first;
        }
    }

    /// <summary>The unique key of an occurrence: the schedule's name and the occurrence instant in UTC.</summary>
    public static string Key(string scheduleName, DateTimeOffset occurrence) =>
        "schedule:" + scheduleName + ":" + occurrence.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'", CultureInfo.InvariantCulture);
}
