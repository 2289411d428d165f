using Microsoft.CodeAnalysis.Testing;
using TypedJobs.Analyzers.Tests.Support;

namespace TypedJobs.Analyzers.Tests;

/// <summary>TJ2001: a generated single-job stub called in a loop, where the batch stub would enqueue all jobs at once.</summary>
public sealed class EnqueueInLoopTests
{
    private const string Tasks = """
        using TypedJobs;

        namespace Shop
        {
            public static class Mail
            {
                [Task] public static void Send(string to) { }
            }
        }
        """;

    private static string Caller(string body) => """
        using System.Collections.Generic;
        using System.Threading.Tasks;
        using Shop;
        using TypedJobs;

        public static class Caller
        {
            public static async Task Run(IJobClient jobs, List<string> people)
            {
                
        """ + body + """

            }
        }
        """;

    [Theory]
    [InlineData("foreach (var p in people) { await {|TJ2001:jobs.EnqueueSendAsync(p)|}; }")]
    [InlineData("for (var i = 0; i < people.Count; i++) await {|TJ2001:jobs.EnqueueSendAsync(people[i])|};")]
    [InlineData("var i = 0; while (i < people.Count) { await {|TJ2001:jobs.EnqueueSendAsync(people[i++])|}; }")]
    [InlineData("var i = 0; do { await {|TJ2001:MailJobClientExtensions.EnqueueSendAsync(jobs, people[i++])|}; } while (i < people.Count);")]
    public async Task StubCalledInALoop_ReportsTJ2001OnTheCall(string body) =>
        await TypedJobsTest.VerifyAsync(Caller(body), Tasks);

    [Theory]
    [InlineData("await jobs.EnqueueSendAsync(\"a\");")]
    [InlineData("await jobs.EnqueueSendBatchAsync(people);")]
    [InlineData("foreach (var p in people) { async Task Later() => await jobs.EnqueueSendAsync(p); _ = (System.Func<Task>)Later; }")]
    [InlineData("var calls = new List<System.Func<Task>>(); foreach (var p in people) { calls.Add(async () => await jobs.EnqueueSendAsync(p)); }")]
    public async Task StubOutsideALoopOrInADeferredCall_ReportsNothing(string body) =>
        await TypedJobsTest.VerifyAsync(Caller(body), Tasks);

    [Fact]
    public async Task Diagnostic_NamesTheBatchStubAndIsInfo()
    {
        var test = new TypedJobsTest { TestCode = Caller("foreach (var p in people) { await {|#0:jobs.EnqueueSendAsync(p)|}; }") };
        test.TestState.Sources.Add(Tasks);
        test.ExpectedDiagnostics.Add(TypedJobsTest.Expect("TJ2001", 0,
            "'EnqueueSendAsync' is called inside a loop, one store round trip per job; collect the arguments and call 'EnqueueSendBatchAsync' once to enqueue them atomically")
            .WithSeverity(Microsoft.CodeAnalysis.DiagnosticSeverity.Info));
        await test.RunAsync();
    }
}
