using TypedJobs.Scheduling;

namespace TypedJobs.Tests.Scheduling;

public class CronParserTests
{
    [Theory]
    [InlineData("0 25 * * *", "cron field 'hour' value 25 is out of range 0-23")]
    [InlineData("60 * * * *", "cron field 'minute' value 60 is out of range 0-59")]
    [InlineData("0 0 32 * *", "cron field 'day-of-month' value 32 is out of range 1-31")]
    [InlineData("0 0 0 * *", "cron field 'day-of-month' value 0 is out of range 1-31")]
    [InlineData("0 0 * 13 *", "cron field 'month' value 13 is out of range 1-12")]
    [InlineData("0 0 * * 8", "cron field 'day-of-week' value 8 is out of range 0-7")]
    [InlineData("61 0 0 * * *", "cron field 'second' value 61 is out of range 0-59")]
    [InlineData("x * * * *", "cron field 'minute' has an invalid value 'x'")]
    [InlineData("0 0 * FOO *", "cron field 'month' has an invalid value 'FOO': expected a number 1-12 or a name JAN-DEC")]
    [InlineData("0 0 * * MONDAY", "cron field 'day-of-week' has an invalid value 'MONDAY'")]
    [InlineData("*/0 * * * *", "cron field 'minute' step 0 in '*/0' must be at least 1")]
    [InlineData("*/x * * * *", "cron field 'minute' has an invalid step 'x'")]
    [InlineData("0,,5 * * * *", "cron field 'minute' has an empty list item")]
    [InlineData("0 0 * * 1#6", "cron field 'day-of-week' item '1#6' is invalid: use DAY#N")]
    [InlineData("-1 * * * *", "cron field 'minute' has an invalid value '-1'")]
    [InlineData("* * * *", "has 4 fields: use five (minute hour day-of-month month day-of-week) or six (second first)")]
    [InlineData("* * * * * * *", "has 7 fields")]
    [InlineData("", "cron expression is empty")]
    [InlineData("   ", "cron expression is empty")]
    [InlineData("@every5m", "unknown cron macro '@every5m': use one of @every_second, @every_minute, @hourly, @daily, @midnight, @weekly, @monthly, @yearly, @annually")]
    [InlineData("0 0 30 2 *", "cron expression '0 0 30 2 *' never fires: its day-of-month and month fields select no real date")]
    [InlineData("0 0 31 4,6,9,11 *", "never fires")]
    public void InvalidExpression_IsRejected_WithAMessageNamingTheField(string expression, string message)
    {
        Assert.Null(CronParser.TryParse(expression, out var error));
        Assert.Contains(message, error);
        var ex = Assert.Throws<FormatException>(() => CronParser.Parse(expression));
        Assert.Equal(error, ex.Message);
    }

    [Theory]
    [InlineData("* * * * *", false, "* * * * *")]
    [InlineData("*/15 9-17 * * MON-FRI", false, "0,15,30,45 9,10,11,12,13,14,15,16,17 * * 1,2,3,4,5")]
    [InlineData("5/20 * * * *", false, "5,25,45 * * * *")]
    [InlineData("0 0 * jan,Jul sun", false, "0 0 * 1,7 0")]
    [InlineData("0 0 * * 7", false, "0 0 * * 0")]
    [InlineData("0 0 * * 5-7", false, "0 0 * * 0,5,6")]
    [InlineData("0 0 ? * 1", false, "0 0 * * 1")]
    [InlineData("30 */20 * * * *", true, "30 0,20,40 * * * *")]
    [InlineData("  0   12 * * *  ", false, "0 12 * * *")]
    [InlineData("05 1-10/3 * * *", false, "5 1,4,7,10 * * *")]
    [InlineData("0 0 31 * *", false, "0 0 31 * *")]
    [InlineData("0 0 29 2 *", false, "0 0 29 2 *")]
    [InlineData("0 22-2 * * *", false, "0 0,1,2,22,23 * * *")]
    [InlineData("0 0 * * FRI-MON", false, "0 0 * * 0,1,5,6")]
    [InlineData("0 0 L * *", false, "0 0 L * *")]
    [InlineData("0 0 * * 5#3", false, "0 0 * * 5#3")]
    public void ValidExpression_ParsesToCanonicalFields(string expression, bool hasSeconds, string canonical)
    {
        var fields = CronParser.TryParse(expression, out var error);

        Assert.Null(error);
        Assert.NotNull(fields);
        Assert.Equal(hasSeconds, fields.HasSeconds);
        Assert.Equal(canonical, fields.ToCanonicalString());
        Assert.Equal(expression.Trim(), fields.Expression);
    }

    [Theory]
    [InlineData("@hourly", "0 * * * *")]
    [InlineData("@daily", "0 0 * * *")]
    [InlineData("@midnight", "0 0 * * *")]
    [InlineData("@weekly", "0 0 * * 0")]
    [InlineData("@monthly", "0 0 1 * *")]
    [InlineData("@yearly", "0 0 1 1 *")]
    [InlineData("@annually", "0 0 1 1 *")]
    [InlineData("@DAILY", "0 0 * * *")]
    [InlineData("@every_minute", "* * * * *")]
    public void Macros_ExpandToFiveFields(string macro, string canonical)
    {
        var fields = CronParser.Parse(macro);
        Assert.False(fields.HasSeconds);
        Assert.Equal(canonical, fields.ToCanonicalString());
    }

    [Fact]
    public void EverySecondMacro_HasASecondsField()
    {
        var fields = CronParser.Parse("@every_second");
        Assert.True(fields.HasSeconds);
        Assert.Equal("* * * * * *", fields.ToCanonicalString());
    }

    [Fact]
    public void DayFields_BothRestricted_AreMarkedForEitherMatch()
    {
        var both = CronParser.Parse("0 0 1,15 * MON");
        Assert.True(both.DayOfMonthRestricted);
        Assert.True(both.DayOfWeekRestricted);

        var onlyWeek = CronParser.Parse("0 0 * * MON");
        Assert.False(onlyWeek.DayOfMonthRestricted);
        Assert.True(onlyWeek.DayOfWeekRestricted);

        // Both restricted: a day matches when either field matches, so 30 February never blocks it.
        Assert.NotNull(CronParser.TryParse("0 0 30 2 MON", out _));
    }

    [Fact]
    public void TimeZone_Unknown_IsRejected_WithTheIdAndASuggestion()
    {
        Assert.Null(CronParser.TryFindTimeZone("Europe/Berln", out var error));
        Assert.StartsWith("unknown time zone 'Europe/Berln'", error);
        Assert.Contains("did you mean 'Europe/Berlin'?", error);

        Assert.Null(CronParser.TryFindTimeZone("Nowhere/Atlantis-Under-The-Sea", out error));
        Assert.Equal("unknown time zone 'Nowhere/Atlantis-Under-The-Sea': use an IANA id such as 'Europe/Berlin' or 'America/New_York'", error);

        Assert.Null(CronParser.TryFindTimeZone(" ", out error));
        Assert.Contains("time zone is empty", error);
    }

    [Fact]
    public void TimeZone_KnownOrUnset_IsFound()
    {
        Assert.Equal("Europe/Berlin", CronParser.TryFindTimeZone("Europe/Berlin", out var error)!.Id);
        Assert.Null(error);
        Assert.Same(TimeZoneInfo.Utc, CronParser.TryFindTimeZone(null, out error));
        Assert.Null(error);
    }

    [Fact]
    public void TimeZone_IsCheckedAgainstTheEmbeddedIanaList()
    {
        Assert.Equal(IanaTimeZones.Ids.Order(StringComparer.Ordinal), IanaTimeZones.Ids);
        Assert.Contains("Europe/Berlin", IanaTimeZones.Ids);
        Assert.Contains("UTC", IanaTimeZones.Ids);
        Assert.True(CronParser.IsKnownTimeZone("America/Argentina/Ushuaia", out var error));
        Assert.Null(error);

        // Ids are case-sensitive, as on the file systems the runtime reads tz data from.
        Assert.False(CronParser.IsKnownTimeZone("europe/berlin", out error));
        Assert.Equal("unknown time zone 'europe/berlin'; did you mean 'Europe/Berlin'?", error);
    }

    [Fact]
    public void CronSchedule_InvalidTimeZone_FailsWithTheTimeZoneMessage()
    {
        var ex = Assert.Throws<FormatException>(() => CronSchedule.Parse("0 2 * * *", "Europe/Berln"));
        Assert.StartsWith("unknown time zone 'Europe/Berln'", ex.Message);
    }
}
