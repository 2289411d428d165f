using System.Reflection;
using Microsoft.CodeAnalysis.CSharp;
using TypedJobs.Analyzers.Tests.Support;

namespace TypedJobs.Analyzers.Tests;

/// <summary>
/// The analyzer accepts exactly the cron expressions and time zones the scheduler accepts, with the same message: each
/// row is checked by running the analyzer on a <c>[Task(Cron = …)]</c> declaration and by calling the runtime's own
/// <c>CronSchedule.Parse</c> (inside TypedJobs.dll, the code path a declared schedule takes at startup).
/// </summary>
public sealed class CronAgreementTests
{
    private static readonly MethodInfo RuntimeParse = typeof(TaskAttribute).Assembly
        .GetType("TypedJobs.Scheduling.CronSchedule", throwOnError: true)!
        .GetMethod("Parse", BindingFlags.Public | BindingFlags.Static, [typeof(string), typeof(string)])!;

    [Theory]
    // Five fields, ranges, steps, lists and names.
    [InlineData("* * * * *", true)]
    [InlineData("0 2 * * *", true)]
    [InlineData("*/15 * * * *", true)]
    [InlineData("5/15 * * * *", true)]
    [InlineData("0 0 1-15/2 * *", true)]
    [InlineData("0 9-17 * * MON-FRI", true)]
    [InlineData("0 0 * JAN,JUL *", true)]
    [InlineData("30 4 1 * sun", true)]
    [InlineData("0 0 * * 7", true)]
    [InlineData("0 0 12 ? * WED", true)]
    [InlineData("0 0 29 2 *", true)]
    [InlineData("  0 2 * * *  ", true)]
    // Six fields: seconds first.
    [InlineData("*/10 * * * * *", true)]
    [InlineData("0 30 9 * * 1-5", true)]
    [InlineData("59 59 23 31 12 *", true)]
    // Macros.
    [InlineData("@hourly", true)]
    [InlineData("@daily", true)]
    [InlineData("@midnight", true)]
    [InlineData("@weekly", true)]
    [InlineData("@monthly", true)]
    [InlineData("@yearly", true)]
    [InlineData("@ANNUALLY", true)]
    [InlineData("@every_second", true)]
    // Cronos extensions: last day, nearest weekday, nth weekday, wrapping ranges, '?' anywhere.
    [InlineData("0 0 L * *", true)]
    [InlineData("0 0 15W * *", true)]
    [InlineData("0 0 * * 1#2", true)]
    [InlineData("0 0 * * 5L", true)]
    [InlineData("0 22-2 * * *", true)]
    [InlineData("? * * * *", true)]
    // Invalid: field counts.
    [InlineData("", false)]
    [InlineData("   ", false)]
    [InlineData("* * * *", false)]
    [InlineData("* * * * * * *", false)]
    // Invalid: values out of range.
    [InlineData("60 * * * *", false)]
    [InlineData("* 24 * * *", false)]
    [InlineData("0 0 0 * *", false)]
    [InlineData("0 0 32 * *", false)]
    [InlineData("0 0 * 13 *", false)]
    [InlineData("0 0 * * 8", false)]
    [InlineData("61 * * * * *", false)]
    // Invalid: ranges, steps and names.
    [InlineData("5-99 * * * *", false)]
    [InlineData("*/0 * * * *", false)]
    [InlineData("1,,2 * * * *", false)]
    [InlineData("0 0 * FOO *", false)]
    [InlineData("0 0 * * MON-FOO", false)]
    [InlineData("a b c d e", false)]
    [InlineData("0 0 * * 1#6", false)]
    [InlineData("0 0 * * 1-L", false)]
    // Invalid: never fires.
    [InlineData("0 0 30 2 *", false)]
    [InlineData("0 0 31 4,6 *", false)]
    // Invalid: macros.
    [InlineData("@reboot", false)]
    [InlineData("@every 5m", false)]
    public async Task CronExpression_AnalyzerAndRuntimeAgree(string expression, bool valid) =>
        await AssertAgreementAsync("Cron = " + Literal(expression), expression, null, valid);

    [Theory]
    [InlineData("Europe/Berlin", true)]
    [InlineData("UTC", true)]
    [InlineData("America/New_York", true)]
    [InlineData("Asia/Kolkata", true)]
    [InlineData("Etc/GMT+5", true)]
    [InlineData("America/Argentina/Ushuaia", true)]
    [InlineData("europe/berlin", false)]
    [InlineData("Europe/Berln", false)]
    [InlineData("Mars/Olympus_Mons", false)]
    [InlineData("", false)]
    [InlineData(" ", false)]
    public async Task TimeZone_AnalyzerAndRuntimeAgree(string zone, bool valid) =>
        await AssertAgreementAsync("Cron = \"@daily\", TimeZone = " + Literal(zone), "@daily", zone, valid);

    private static async Task AssertAgreementAsync(string settings, string expression, string? zone, bool valid)
    {
        var runtimeError = RuntimeError(expression, zone);
        Assert.Equal(valid, runtimeError is null);

        // The literal the analyzer checks is marked {|#0:…|}; an invalid one must be reported there with the runtime's message.
        var argument = zone is null ? "Cron" : "TimeZone";
        var marked = settings.Replace(argument + " = \"", argument + " = {|#0:\"", StringComparison.Ordinal) + "|}";
        var test = new TypedJobsTest { TestCode = "public static class Jobs { [TypedJobs.Task(" + (valid ? settings : marked) + ")] public static void Run() { } }" };
        if (!valid)
        {
            var literal = zone ?? expression;
            test.ExpectedDiagnostics.Add(TypedJobsTest.Expect(zone is null ? "TJ3004" : "TJ3005", 0,
                "[Task] " + argument + " = \"" + literal + "\" on 'Jobs.Run' is invalid: " + runtimeError));
        }

        await test.RunAsync();
    }

    private static string? RuntimeError(string expression, string? zone)
    {
        try
        {
            RuntimeParse.Invoke(null, [expression, zone]);
            return null;
        }
        catch (TargetInvocationException ex) when (ex.InnerException is FormatException format)
        {
            return format.Message;
        }
    }

    private static string Literal(string text) => SymbolDisplay.FormatLiteral(text, quote: true);
}
