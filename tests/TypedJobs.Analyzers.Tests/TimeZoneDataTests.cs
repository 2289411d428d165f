using TypedJobs.Analyzers.Tests.Support;

namespace TypedJobs.Analyzers.Tests;

/// <summary>Tests that change the process's tz data location; they run alone.</summary>
[CollectionDefinition(nameof(TimeZoneDataCollection), DisableParallelization = true)]
public sealed class TimeZoneDataCollection;

/// <summary>TJ3005 checks ids against the IANA list compiled into the analyzers, not against the build machine's tz data.</summary>
[Collection(nameof(TimeZoneDataCollection))]
public sealed class TimeZoneDataTests
{
    [Fact]
    public async Task TimeZoneCheck_WorksOnAMachineWithoutTzData()
    {
        var empty = Directory.CreateTempSubdirectory("typedjobs-no-tzdata-").FullName;
        var previous = Environment.GetEnvironmentVariable("TZDIR");
        try
        {
            Environment.SetEnvironmentVariable("TZDIR", empty);
            TimeZoneInfo.ClearCachedData();
            Assert.Throws<TimeZoneNotFoundException>(() => TimeZoneInfo.FindSystemTimeZoneById("Europe/Berlin"));

            await TypedJobsTest.VerifyMessagesAsync("""
                public static class Jobs
                {
                    [TypedJobs.Task(Cron = "0 2 * * *", TimeZone = "Europe/Berlin")] public static void Nightly() { }
                    [TypedJobs.Task(Cron = "0 2 * * *", TimeZone = {|#0:"Europe/Berln"|})] public static void Typo() { }
                }
                """, TypedJobsTest.Expect("TJ3005", 0, "[Task] TimeZone = \"Europe/Berln\" on 'Jobs.Typo' is invalid: unknown time zone 'Europe/Berln'; did you mean 'Europe/Berlin'?"));
        }
        finally
        {
            Environment.SetEnvironmentVariable("TZDIR", previous);
            TimeZoneInfo.ClearCachedData();
            Directory.Delete(empty);
        }
    }
}
