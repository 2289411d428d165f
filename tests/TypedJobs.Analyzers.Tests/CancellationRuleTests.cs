using TypedJobs.Analyzers.Tests.Support;
using static TypedJobs.Analyzers.Tests.Support.TypedJobsTest;

namespace TypedJobs.Analyzers.Tests;

/// <summary>TJ1009 (a token that is never used) and TJ1010 (no token, though the body could pass one). Both are info.</summary>
public sealed class CancellationRuleTests
{
    private static string Task(string member) => """
        using System.IO;
        using System.Net.Http;
        using System.Threading;
        using System.Threading.Tasks;
        using TypedJobs;

        public static class Jobs
        {
            
        """ + member + """

        }
        """;

    [Theory]
    [InlineData("[Task] public static Task Run(string path, CancellationToken {|TJ1009:ct|}) => File.ReadAllTextAsync(path);")]
    [InlineData("[Task] public static void Run(CancellationToken {|TJ1009:token|}) { }")]
    public async Task TokenNeverUsed_ReportsTJ1009OnTheParameter(string member) => await TypedJobsTest.VerifyAsync(Task(member));

    [Theory]
    [InlineData("[Task] public static Task Run(string path, CancellationToken ct) => File.ReadAllTextAsync(path, ct);")]
    [InlineData("[Task] public static void Run(CancellationToken ct) => ct.ThrowIfCancellationRequested();")]
    [InlineData("[Task] public static async Task Run(CancellationToken ct) { using var source = CancellationTokenSource.CreateLinkedTokenSource(ct); await Task.Delay(1, source.Token); }")]
    public async Task TokenUsed_ReportsNothing(string member) => await TypedJobsTest.VerifyAsync(Task(member));

    [Theory]
    [InlineData("[Task] public static Task {|TJ1010:Run|}(string path) => File.ReadAllTextAsync(path);")]
    [InlineData("[Task] public static async Task {|TJ1010:Run|}() { await Task.Delay(100); }")]
    [InlineData("[Task] public static async Task<int> {|TJ1010:Run|}(string url) { using var http = new HttpClient(); var text = await http.GetStringAsync(url); return text.Length; }")]
    public async Task CancellableCallWithoutAToken_ReportsTJ1010OnTheMethod(string member) => await TypedJobsTest.VerifyAsync(Task(member));

    [Theory]
    [InlineData("[Task] public static int Run(int a) => a + 1;")]
    [InlineData("[Task] public static Task Run() => Task.CompletedTask;")]
    [InlineData("[Task] public static Task Run(string path) => File.WriteAllTextAsync(path, \"x\", CancellationToken.None);")]
    public async Task NothingToCancel_ReportsNothing(string member) => await TypedJobsTest.VerifyAsync(Task(member));

    [Fact]
    public async Task NonTaskMethods_AreNotChecked() =>
        await TypedJobsTest.VerifyAsync(Task("public static Task Helper(CancellationToken ct) => Task.Delay(1);"));

    [Fact]
    public async Task Diagnostics_AreInfoAndNameTheCall() =>
        await VerifyMessagesAsync(Task("[Task] public static async Task {|#0:Run|}() { await Task.Delay(100); }"),
            Expect("TJ1010", 0, "Task method 'Jobs.Run' calls 'Task.Delay', which accepts a CancellationToken, but the task has none; add a CancellationToken parameter and pass it on so a timeout or cancel can stop the job")
                .WithSeverity(Microsoft.CodeAnalysis.DiagnosticSeverity.Info));
}
