using TypedJobs.Analyzers.Tests.Support;
using static TypedJobs.Analyzers.Tests.Support.TypedJobsTest;

namespace TypedJobs.Analyzers.Tests;

/// <summary>TJ3001-TJ3007: the values of the [Task] attribute, reported on the offending value.</summary>
public sealed class SettingsRuleTests
{
    private static string Task(string attribute, string parameters = "") => $$"""
        using TypedJobs;

        public static class Jobs
        {
            [Task({{attribute}})]
            public static void Run({{parameters}}) { }
        }
        """;

    [Theory]
    [InlineData("Timeout = {|TJ3001:\"soon\"|}")]
    [InlineData("Timeout = {|TJ3001:\"00:00:00\"|}")]
    [InlineData("Interval = {|TJ3001:\"-00:01:00\"|}")]
    [InlineData("RetryDelay = {|TJ3001:\"5s\"|}")]
    [InlineData("MaxRetryDelay = {|TJ3001:\"-1\"|}")]
    [InlineData("Queue = \"mail\", Timeout = {|TJ3001:\"1:99:00\"|}")]
    [InlineData("Timeout = {|TJ3001:\"5\"|}")]
    [InlineData("RetryDelay = {|TJ3001:\"1.5\"|}")]
    [InlineData("Unique = {|TJ3002:\"10\"|}")]
    public async Task BadTimeSpan_ReportsTJ3001OnTheValue(string attribute) => await TypedJobsTest.VerifyAsync(Task(attribute));

    [Theory]
    [InlineData("Timeout = \"00:02:00\", RetryDelay = \"00:00:00\", MaxRetryDelay = \"1.00:00:00\"")]
    [InlineData("Interval = \"00:00:01\"")]
    [InlineData("Timeout = \"\"")]
    [InlineData("Timeout = \"00:05\", RetryDelay = \"2.00:00\"")]
    public async Task GoodTimeSpans_ReportNothing(string attribute) => await TypedJobsTest.VerifyAsync(Task(attribute));

    [Theory]
    [InlineData("Unique = {|TJ3002:\"maybe\"|}")]
    [InlineData("Unique = {|TJ3002:\"-00:10:00\"|}")]
    public async Task BadUnique_ReportsTJ3002(string attribute) => await TypedJobsTest.VerifyAsync(Task(attribute));

    [Theory]
    [InlineData("Unique = \"true\"")]
    [InlineData("Unique = \"False\"")]
    [InlineData("Unique = \"00:10:00\"")]
    public async Task GoodUnique_ReportsNothing(string attribute) => await TypedJobsTest.VerifyAsync(Task(attribute));

    [Theory]
    [InlineData("MaxRetries = {|TJ3003:-2|}")]
    [InlineData("MaxRetries = {|TJ3003:int.MinValue|}")]
    [InlineData("MaxConcurrency = {|TJ3003:-1|}")]
    public async Task NegativeNumbers_ReportTJ3003(string attribute) => await TypedJobsTest.VerifyAsync(Task(attribute));

    [Theory]
    [InlineData("MaxRetries = -1")]
    [InlineData("MaxRetries = 0, MaxConcurrency = 0")]
    [InlineData("MaxRetries = 5, MaxConcurrency = 2")]
    public async Task ValidNumbers_ReportNothing(string attribute) => await TypedJobsTest.VerifyAsync(Task(attribute));

    [Theory]
    [InlineData("Cron = {|TJ3004:\"0 25 * * *\"|}")]
    [InlineData("Cron = {|TJ3004:\"* * *\"|}")]
    [InlineData("Cron = {|TJ3004:\"@sometimes\"|}")]
    [InlineData("Cron = {|TJ3004:\"\"|}")]
    [InlineData("Cron = {|TJ3004:Nightly|}")]
    public async Task InvalidCron_ReportsTJ3004OnTheExpression(string attribute) =>
        await TypedJobsTest.VerifyAsync(Task(attribute).Replace("public static class Jobs\n{", "public static class Jobs\n{\n    private const string Nightly = \"0 0 31 2 *\";", StringComparison.Ordinal));

    [Fact]
    public async Task InvalidCron_MessageNamesTheFieldAndTheTask() =>
        await VerifyMessagesAsync(Task("Cron = {|#0:\"0 25 * * *\"|}"),
            Expect("TJ3004", 0, "[Task] Cron = \"0 25 * * *\" on 'Jobs.Run' is invalid: cron field 'hour' value 25 is out of range 0-23"));

    [Fact]
    public async Task BareNumberTimeout_IsRefusedAsAmbiguous() =>
        await VerifyMessagesAsync(Task("Timeout = {|#0:\"5\"|}"),
            Expect("TJ3001", 0, "[Task] Timeout = \"5\" on 'Jobs.Run' is not a valid positive time span; use the TimeSpan format [d.]hh:mm:ss[.fffffff], such as \"00:05:00\""));

    [Theory]
    [InlineData("Cron = \"0 2 * * *\", TimeZone = {|TJ3005:\"Europe/Berln\"|}")]
    [InlineData("Cron = \"0 2 * * *\", TimeZone = {|TJ3005:\" \"|}")]
    [InlineData("Cron = \"0 2 * * *\", TimeZone = {|TJ3005:\"Mars/Olympus_Mons\"|}")]
    public async Task UnknownTimeZone_ReportsTJ3005(string attribute) => await TypedJobsTest.VerifyAsync(Task(attribute));

    [Fact]
    public async Task MisspeltTimeZone_SuggestsTheClosestOne() =>
        await VerifyMessagesAsync(Task("Cron = \"0 2 * * *\", TimeZone = {|#0:\"Europe/Berln\"|}"),
            Expect("TJ3005", 0, "[Task] TimeZone = \"Europe/Berln\" on 'Jobs.Run' is invalid: unknown time zone 'Europe/Berln'; did you mean 'Europe/Berlin'?"));

    [Theory]
    [InlineData("Cron = \"0 2 * * *\", TimeZone = \"Europe/Berlin\"")]
    [InlineData("Cron = \"*/15 * * * * *\", TimeZone = \"America/New_York\"")]
    [InlineData("Cron = \"@daily\", TimeZone = \"UTC\"")]
    public async Task ValidScheduleAndZone_ReportNothing(string attribute) => await TypedJobsTest.VerifyAsync(Task(attribute));

    [Theory]
    [InlineData("Queue = {|TJ3006:\"\"|}")]
    [InlineData("Queue = {|TJ3006:\"my queue\"|}")]
    [InlineData("Queue = {|TJ3006:\"emails/eu\"|}")]
    public async Task InvalidQueueName_ReportsTJ3006(string attribute) => await TypedJobsTest.VerifyAsync(Task(attribute));

    [Theory]
    [InlineData("Queue = \"emails\"")]
    [InlineData("Queue = \"eu-west_1.mail:high\"")]
    [InlineData("Queue = null")]
    public async Task ValidQueueName_ReportsNothing(string attribute) => await TypedJobsTest.VerifyAsync(Task(attribute));

    [Theory]
    [InlineData("Cron = \"@daily\", Interval = {|TJ3007:\"00:05:00\"|}")]
    [InlineData("TimeZone = {|TJ3007:\"Europe/Berlin\"|}")]
    [InlineData("Interval = \"00:05:00\", TimeZone = {|TJ3007:\"Europe/Berlin\"|}")]
    [InlineData("Interval = {|TJ3007:\"00:00:00.5000000\"|}")]
    public async Task ConflictingScheduleSettings_ReportTJ3007(string attribute) => await TypedJobsTest.VerifyAsync(Task(attribute));
}
