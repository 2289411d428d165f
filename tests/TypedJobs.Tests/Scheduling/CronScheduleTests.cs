using TypedJobs.Scheduling;

namespace TypedJobs.Tests.Scheduling;

public class CronScheduleTests
{
    private static DateTimeOffset Utc(int year, int month, int day, int hour = 0, int minute = 0, int second = 0) =>
        new(year, month, day, hour, minute, second, TimeSpan.Zero);

    private static List<DateTimeOffset> Next(string cron, string? zone, DateTimeOffset after, int count)
    {
        var schedule = CronSchedule.Parse(cron, zone);
        var result = new List<DateTimeOffset>();
        for (var i = 0; i < count; i++)
        {
            after = schedule.GetNextOccurrence(after) ?? throw new InvalidOperationException("no occurrence");
            Assert.Equal(TimeSpan.Zero, after.Offset);
            result.Add(after);
        }

        return result;
    }

    [Fact]
    public void Berlin_SpringForward_SkippedTimeFiresOnceAtTheTransition()
    {
        // 2026-03-29: 02:00 CET jumps to 03:00 CEST, so 02:30 does not exist that day.
        var runs = Next("30 2 * * *", "Europe/Berlin", Utc(2026, 3, 27), 4);

        Assert.Equal([Utc(2026, 3, 27, 1, 30), Utc(2026, 3, 28, 1, 30), Utc(2026, 3, 29, 1, 0), Utc(2026, 3, 30, 0, 30)], runs);
    }

    [Fact]
    public void Berlin_SpringForward_EveryHalfHour_CollapsesTheGapIntoOneRun()
    {
        var runs = Next("*/30 * * * *", "Europe/Berlin", Utc(2026, 3, 29, 0, 0), 4);

        // 01:30 CET, then 02:00 and 02:30 (skipped) and 03:00 CEST all land on 01:00Z once, then 03:30 CEST.
        Assert.Equal([Utc(2026, 3, 29, 0, 30), Utc(2026, 3, 29, 1, 0), Utc(2026, 3, 29, 1, 30), Utc(2026, 3, 29, 2, 0)], runs);
    }

    [Fact]
    public void Berlin_SpringForward_EverySecond_NeverRepeatsAnInstant()
    {
        var runs = Next("* * * * * *", "Europe/Berlin", Utc(2026, 3, 29, 0, 59, 58), 4);

        Assert.Equal([Utc(2026, 3, 29, 0, 59, 59), Utc(2026, 3, 29, 1, 0, 0), Utc(2026, 3, 29, 1, 0, 1), Utc(2026, 3, 29, 1, 0, 2)], runs);
    }

    [Fact]
    public void Berlin_FallBack_RepeatedTimeFiresOnce_AtItsFirstOccurrence()
    {
        // 2026-10-25: 03:00 CEST falls back to 02:00 CET, so 02:30 happens twice.
        var runs = Next("30 2 * * *", "Europe/Berlin", Utc(2026, 10, 24), 3);

        Assert.Equal([Utc(2026, 10, 24, 0, 30), Utc(2026, 10, 25, 0, 30), Utc(2026, 10, 26, 1, 30)], runs);
    }

    [Fact]
    public void Berlin_FallBack_EveryHalfHour_KeepsItsRhythmThroughBothPasses()
    {
        var runs = Next("*/30 * * * *", "Europe/Berlin", Utc(2026, 10, 24, 23, 0), 7);

        // 01:30, 02:00, 02:30 CEST, then the repeated 02:00 and 02:30 CET, then 03:00, 03:30 CET: every 30 minutes.
        Assert.Equal([Utc(2026, 10, 24, 23, 30), Utc(2026, 10, 25, 0, 0), Utc(2026, 10, 25, 0, 30), Utc(2026, 10, 25, 1, 0), Utc(2026, 10, 25, 1, 30),
            Utc(2026, 10, 25, 2, 0), Utc(2026, 10, 25, 2, 30)], runs);
    }

    [Fact]
    public void NewYork_SpringForward_SkippedTimeFiresOnceAtTheTransition()
    {
        // 2026-03-08: 02:00 EST jumps to 03:00 EDT.
        var runs = Next("0 2 * * *", "America/New_York", Utc(2026, 3, 7), 3);

        Assert.Equal([Utc(2026, 3, 7, 7, 0), Utc(2026, 3, 8, 7, 0), Utc(2026, 3, 9, 6, 0)], runs);
    }

    [Fact]
    public void NewYork_FallBack_RepeatedTimeFiresOnce_AtItsFirstOccurrence()
    {
        // 2026-11-01: 02:00 EDT falls back to 01:00 EST, so 01:30 happens twice.
        var runs = Next("30 1 * * *", "America/New_York", Utc(2026, 10, 31), 3);

        Assert.Equal([Utc(2026, 10, 31, 5, 30), Utc(2026, 11, 1, 5, 30), Utc(2026, 11, 2, 6, 30)], runs);
    }

    [Fact]
    public void NewYork_FallBack_Hourly_FiresEveryElapsedHour()
    {
        var runs = Next("0 * * * *", "America/New_York", Utc(2026, 11, 1, 4, 0), 3);

        // 01:00 EDT (05:00Z), the repeated 01:00 EST (06:00Z), 02:00 EST (07:00Z).
        Assert.Equal([Utc(2026, 11, 1, 5, 0), Utc(2026, 11, 1, 6, 0), Utc(2026, 11, 1, 7, 0)], runs);
    }

    [Fact]
    public void NewYork_FallBack_StartingInsideTheSecondPass_ContinuesTheSecondPass()
    {
        // 06:10Z is 01:10 EST, the second pass of 01:xx.
        var runs = Next("*/20 * * * *", "America/New_York", Utc(2026, 11, 1, 6, 10), 2);

        Assert.Equal([Utc(2026, 11, 1, 6, 20), Utc(2026, 11, 1, 6, 40)], runs);
    }

    [Fact]
    public void NewYork_FallBack_FixedTimeInTheRepeatedHour_FiresOnce()
    {
        // A fixed time of day (no range, step or '*' in minute and hour) fires once, in the first pass.
        var runs = Next("15 1 * * *", "America/New_York", Utc(2026, 11, 1, 4, 0), 2);

        Assert.Equal([Utc(2026, 11, 1, 5, 15), Utc(2026, 11, 2, 6, 15)], runs);
    }

    [Fact]
    public void LastDayOfMonthAndNthWeekday_AreSupported()
    {
        Assert.Equal([Utc(2026, 1, 31), Utc(2026, 2, 28), Utc(2026, 3, 31)], Next("0 0 L * *", null, Utc(2026, 1, 1), 3));

        // The second Monday of each month.
        Assert.Equal([Utc(2026, 1, 12), Utc(2026, 2, 9)], Next("0 0 * * MON#2", null, Utc(2026, 1, 1), 2));
    }

    [Fact]
    public void LeapDay_FiresOnlyInLeapYears()
    {
        var runs = Next("0 0 29 2 *", null, Utc(2026, 1, 1), 3);

        Assert.Equal([Utc(2028, 2, 29), Utc(2032, 2, 29), Utc(2036, 2, 29)], runs);
    }

    [Fact]
    public void LeapDay_InATimeZone_IsLocalMidnight()
    {
        var runs = Next("0 0 29 2 *", "Europe/Berlin", Utc(2026, 1, 1), 1);

        Assert.Equal([Utc(2028, 2, 28, 23, 0)], runs);
    }

    [Fact]
    public void MonthEnd_Day31_SkipsShortMonths()
    {
        var runs = Next("0 0 31 * *", null, Utc(2026, 1, 1), 7);

        Assert.Equal([Utc(2026, 1, 31), Utc(2026, 3, 31), Utc(2026, 5, 31), Utc(2026, 7, 31), Utc(2026, 8, 31), Utc(2026, 10, 31), Utc(2026, 12, 31)], runs);
    }

    [Fact]
    public void SecondsField_FiresWithinTheMinute()
    {
        var runs = Next("*/15 * * * * *", null, Utc(2026, 1, 5, 10, 0, 0), 5);

        Assert.Equal([Utc(2026, 1, 5, 10, 0, 15), Utc(2026, 1, 5, 10, 0, 30), Utc(2026, 1, 5, 10, 0, 45), Utc(2026, 1, 5, 10, 1, 0), Utc(2026, 1, 5, 10, 1, 15)], runs);
    }

    [Fact]
    public void SecondsField_FromAFractionalInstant_IsStrictlyLater()
    {
        var runs = Next("30 * * * * *", null, Utc(2026, 1, 5, 10, 0, 30).AddTicks(1), 1);

        Assert.Equal([Utc(2026, 1, 5, 10, 1, 30)], runs);
    }

    [Theory]
    [InlineData("@hourly", "2026-01-05T11:00:00Z")]
    [InlineData("@daily", "2026-01-06T00:00:00Z")]
    [InlineData("@midnight", "2026-01-06T00:00:00Z")]
    [InlineData("@weekly", "2026-01-11T00:00:00Z")]
    [InlineData("@monthly", "2026-02-01T00:00:00Z")]
    [InlineData("@yearly", "2027-01-01T00:00:00Z")]
    [InlineData("@annually", "2027-01-01T00:00:00Z")]
    public void Macros_FireAtTheirStartOfPeriod(string macro, string expected)
    {
        var runs = Next(macro, null, Utc(2026, 1, 5, 10, 20), 1);

        Assert.Equal(DateTimeOffset.Parse(expected, System.Globalization.CultureInfo.InvariantCulture), runs[0]);
    }

    [Fact]
    public void Macros_InATimeZone_UseLocalTime()
    {
        var runs = Next("@daily", "America/New_York", Utc(2026, 1, 5, 10, 20), 1);

        Assert.Equal([Utc(2026, 1, 6, 5, 0)], runs);
    }

    [Fact]
    public void DayOfMonthAndDayOfWeek_BothRestricted_FireWhenEitherMatches()
    {
        // Fridays, and the 13th whatever weekday it is (13 January 2026 is a Tuesday).
        var runs = Next("0 0 13 * FRI", null, Utc(2026, 1, 1), 4);

        Assert.Equal([Utc(2026, 1, 2), Utc(2026, 1, 9), Utc(2026, 1, 13), Utc(2026, 1, 16)], runs);
    }

    [Fact]
    public void NextOccurrence_IsStrictlyAfterTheGivenInstant()
    {
        var runs = Next("0 * * * *", null, Utc(2026, 1, 5, 10, 0), 1);

        Assert.Equal([Utc(2026, 1, 5, 11, 0)], runs);
    }

    [Fact]
    public void Interval_OccurrencesAreMultiplesOfTheIntervalSinceTheEpoch()
    {
        Assert.Equal(Utc(2026, 1, 5, 11, 0), Occurrences.NextInterval(TimeSpan.FromHours(1), Utc(2026, 1, 5, 10, 20)));
        Assert.Equal(Utc(2026, 1, 5, 11, 0), Occurrences.NextInterval(TimeSpan.FromHours(1), Utc(2026, 1, 5, 10, 0)));
        Assert.Equal(Utc(2026, 1, 5, 10, 0, 1), Occurrences.NextInterval(TimeSpan.FromSeconds(1), Utc(2026, 1, 5, 10, 0).AddTicks(1)));
        var ninety = Occurrences.NextInterval(TimeSpan.FromMinutes(90), Utc(2026, 1, 5, 10, 20));
        Assert.Equal(0, (ninety - DateTimeOffset.UnixEpoch).Ticks % TimeSpan.FromMinutes(90).Ticks);
        Assert.InRange(ninety, Utc(2026, 1, 5, 10, 20, 1), Utc(2026, 1, 5, 11, 50));
    }
}
