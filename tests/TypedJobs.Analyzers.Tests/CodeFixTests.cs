using Microsoft.CodeAnalysis.Testing;
using TypedJobs.Analyzers.Tests.Support;

namespace TypedJobs.Analyzers.Tests;

/// <summary>Each code fix: the source before, the expected source after, and the fixed project compiles clean.</summary>
public sealed class CodeFixTests
{
    [Fact]
    public async Task TJ1007_AddsTheTypeToTheProjectsJsonSerializerContext()
    {
        const string tasks = """
            using TypedJobs;

            namespace Shop
            {
                public static class Jobs
                {
                    [Task] public static void Run(System.Version {|TJ1007:version|}) { }
                }
            }
            """;
        const string context = """
            using System.Text.Json.Serialization;

            namespace Shop
            {
                [JsonSerializable(typeof(string))]
                internal sealed partial class ShopJson : JsonSerializerContext
                {
                }
            }
            """;
        const string expected = """
            using System.Text.Json.Serialization;

            namespace Shop
            {
                [JsonSerializable(typeof(string))]
                [JsonSerializable(typeof(System.Version))]
                internal sealed partial class ShopJson : JsonSerializerContext
                {
                }
            }
            """;

        await VerifyFixAsync([tasks, context], [tasks.Replace("{|TJ1007:version|}", "version", StringComparison.Ordinal), expected], "TJ1007.AddToContext");
    }

    [Fact]
    public async Task TJ1007_CreatesAContextWhenTheProjectHasNone()
    {
        const string tasks = """
            using System.IO;
            using TypedJobs;

            namespace Shop.Jobs
            {
                public static class Files
                {
                    [Task] public static void Run(string name, System.Version {|TJ1007:version|}) { }
                }
            }
            """;
        const string expected = """
            using System.Text.Json.Serialization;

            namespace Shop.Jobs
            {
                /// <summary>The System.Text.Json context for task payload types without a built-in TypedJobs serializer.</summary>
                [JsonSerializable(typeof(System.Version))]
                internal sealed partial class TypedJobsJsonContext : JsonSerializerContext
                {
                }
            }

            """;

        await VerifyFixAsync([tasks], [tasks.Replace("{|TJ1007:version|}", "version", StringComparison.Ordinal)], "TJ1007.CreateContext", ("TypedJobsJsonContext.cs", expected));
    }

    [Fact]
    public async Task TJ1010_AddsACancellationTokenAndPassesItOn()
    {
        const string before = """
            using System.Threading.Tasks;
            using TypedJobs;

            public static class Jobs
            {
                [Task]
                public static async Task {|TJ1010:Run|}(string path, int retries)
                {
                    await Task.Delay(100);
                    var text = await System.IO.File.ReadAllTextAsync(path);
                    await System.IO.File.WriteAllTextAsync(path, text + retries);
                }
            }
            """;
        const string after = """
            using System.Threading;
            using System.Threading.Tasks;
            using TypedJobs;

            public static class Jobs
            {
                [Task]
                public static async Task Run(string path, int retries, CancellationToken cancellationToken)
                {
                    await Task.Delay(100, cancellationToken);
                    var text = await System.IO.File.ReadAllTextAsync(path, cancellationToken);
                    await System.IO.File.WriteAllTextAsync(path, text + retries, cancellationToken);
                }
            }
            """;

        await VerifyFixAsync([before], [after], "TJ1010.AddCancellationToken");
    }

    [Fact]
    public async Task TJ1008_GivesTheParameterAndTheOnesAfterItDefaults()
    {
        const string before = """
            using System.Threading;
            using System.Threading.Tasks;
            using TypedJobs;

            public static class Reports
            {
                [Task(Cron = "0 2 * * *")]
                public static Task Nightly(string {|TJ1008:region|}, int {|TJ1008:limit|}, CancellationToken ct) => Task.Delay(limit, ct);
            }
            """;
        const string after = """
            using System.Threading;
            using System.Threading.Tasks;
            using TypedJobs;

            public static class Reports
            {
                [Task(Cron = "0 2 * * *")]
                public static Task Nightly(string? region = null, int limit = default, CancellationToken ct = default) => Task.Delay(limit, ct);
            }
            """;

        await VerifyFixAsync([before], [after], "TJ1008.AddDefault");
    }

    [Fact]
    public async Task TJ1008_RemovesAnUnusedParameter()
    {
        const string before = """
            using TypedJobs;

            public static class Reports
            {
                [Task(Interval = "00:05:00")]
                public static void Poll(int {|TJ1008:unused|}, string? mode = null) { _ = mode; }
            }
            """;
        const string after = """
            using TypedJobs;

            public static class Reports
            {
                [Task(Interval = "00:05:00")]
                public static void Poll(string? mode = null) { _ = mode; }
            }
            """;

        await VerifyFixAsync([before], [after], "TJ1008.Remove");
    }

    [Fact]
    public async Task TJ1004_MakesTheMethodAndItsContainingTypeInternal()
    {
        const string before = """
            using TypedJobs;

            public static class Outer
            {
                private static class Hidden
                {
                    [Task] static void {|TJ1004:Run|}() { }
                }
            }
            """;
        const string after = """
            using TypedJobs;

            public static class Outer
            {
                internal static class Hidden
                {
                    [Task] internal static void Run() { }
                }
            }
            """;

        await VerifyFixAsync([before], [after], "TJ1004.MakeInternal");
    }

    [Fact]
    public async Task TJ1006_ReplacesTheDuplicateNameWithTheDefaultName()
    {
        const string before = """
            using TypedJobs;

            namespace Shop
            {
                public static class A
                {
                    [Task(Name = "mail.send", Queue = "mail")] public static void {|TJ1006:Send|}() { }
                }

                public static class B
                {
                    [Task(Name = "mail.send")] public static void {|TJ1006:Deliver|}() { }
                }
            }
            """;
        const string after = """
            using TypedJobs;

            namespace Shop
            {
                public static class A
                {
                    [Task(Name = "Shop.A.Send", Queue = "mail")] public static void Send() { }
                }

                public static class B
                {
                    [Task(Name = "mail.send")] public static void Deliver() { }
                }
            }
            """;

        await VerifyFixAsync([before], [after], "TJ1006.Rename");
    }

    [Fact]
    public async Task TJ1006_AddsANumberedNameWhenTheDefaultNameIsTaken()
    {
        const string before = """
            using TypedJobs;

            namespace Shop
            {
                public static class A
                {
                    [Task(Queue = "mail")] public static void {|TJ1006:Send|}() { }

                    [Task(Name = "Shop.A.Send")] public static void {|TJ1006:Deliver|}() { }
                }
            }
            """;
        const string after = """
            using TypedJobs;

            namespace Shop
            {
                public static class A
                {
                    [Task(Name = "Shop.A.Send2", Queue = "mail")] public static void Send() { }

                    [Task(Name = "Shop.A.Send")] public static void Deliver() { }
                }
            }
            """;

        await VerifyFixAsync([before], [after], "TJ1006.Rename");
    }

    [Fact]
    public async Task TJ1006_AddsAnArgumentListToABareAttribute()
    {
        const string before = """
            using TypedJobs;

            namespace Shop
            {
                public static class A
                {
                    [Task] public static void {|TJ1006:Send|}() { }

                    [Task(Name = "Shop.A.Send")] public static void {|TJ1006:Deliver|}() { }
                }
            }
            """;
        const string after = """
            using TypedJobs;

            namespace Shop
            {
                public static class A
                {
                    [Task(Name = "Shop.A.Send2")] public static void Send() { }

                    [Task(Name = "Shop.A.Send")] public static void Deliver() { }
                }
            }
            """;

        await VerifyFixAsync([before], [after], "TJ1006.Rename");
    }

    [Fact]
    public async Task TJ1010_AfterOptionalParameters_AddsAnOptionalToken()
    {
        const string before = """
            using System.Threading.Tasks;
            using TypedJobs;

            public static class Jobs
            {
                [Task]
                public static async Task {|TJ1010:Run|}(string path, int retries = 3, params string[] tags)
                {
                    await Task.Delay(retries);
                    _ = path + tags.Length;
                }
            }
            """;
        const string after = """
            using System.Threading;
            using System.Threading.Tasks;
            using TypedJobs;

            public static class Jobs
            {
                [Task]
                public static async Task Run(string path, int retries = 3, CancellationToken cancellationToken = default, params string[] tags)
                {
                    await Task.Delay(retries, cancellationToken);
                    _ = path + tags.Length;
                }
            }
            """;

        await VerifyFixAsync([before], [after], "TJ1010.AddCancellationToken");
    }

    [Fact]
    public async Task TJ1010_FixAll_FixesEveryTaskOfTheDocument()
    {
        const string before = """
            using System.Threading.Tasks;
            using TypedJobs;

            public static class Jobs
            {
                [Task] public static Task {|TJ1010:First|}() => Task.Delay(1);

                [Task] public static Task {|TJ1010:Second|}(int n = 1) => Task.Delay(n);
            }
            """;
        const string after = """
            using System.Threading;
            using System.Threading.Tasks;
            using TypedJobs;

            public static class Jobs
            {
                [Task] public static Task First(CancellationToken cancellationToken) => Task.Delay(1, cancellationToken);

                [Task] public static Task Second(int n = 1, CancellationToken cancellationToken = default) => Task.Delay(n, cancellationToken);
            }
            """;

        await VerifyFixAsync([before], [after], "TJ1010.AddCancellationToken");
    }

    [Fact]
    public async Task TJ1008_DoesNotGiveAParamsParameterADefault()
    {
        const string before = """
            using TypedJobs;

            public static class Reports
            {
                [Task(Cron = "0 2 * * *")]
                public static void Nightly(string {|TJ1008:region|}, int {|TJ1008:limit|}, params string[] tags) => _ = region + limit + tags.Length;
            }
            """;
        const string after = """
            using TypedJobs;

            public static class Reports
            {
                [Task(Cron = "0 2 * * *")]
                public static void Nightly(string? region = null, int limit = default, params string[] tags) => _ = region + limit + tags.Length;
            }
            """;

        await VerifyFixAsync([before], [after], "TJ1008.AddDefault");
    }

    [Fact]
    public async Task TJ1008_RemoveTakesTheDocumentationAndTheArgumentsAtCallSitesAlong()
    {
        const string before = """
            using System.Threading.Tasks;
            using TypedJobs;

            namespace Shop
            {
                /// <summary>Reports.</summary>
                public static class Reports
                {
                    /// <summary>Polls.</summary>
                    /// <param name="unused">Not used at all,
                    /// over two lines.</param>
                    /// <param name="mode">The mode.</param>
                    [Task(Interval = "00:05:00")]
                    public static void Poll(int {|TJ1008:unused|}, string? mode = null) { _ = mode; }

                    /// <summary>Calls the task and its stub.</summary>
                    /// <param name="jobs">The client.</param>
                    /// <returns>A task.</returns>
                    public static async Task CallAsync(IJobClient jobs)
                    {
                        Poll(1, "a");
                        Poll(mode: "b", unused: 2);
                        await jobs.EnqueuePollAsync(3, "c");
                        await ReportsJobClientExtensions.EnqueuePollAsync(jobs, 4);
                    }
                }
            }
            """;
        const string after = """
            using System.Threading.Tasks;
            using TypedJobs;

            namespace Shop
            {
                /// <summary>Reports.</summary>
                public static class Reports
                {
                    /// <summary>Polls.</summary>
                    /// <param name="mode">The mode.</param>
                    [Task(Interval = "00:05:00")]
                    public static void Poll(string? mode = null) { _ = mode; }

                    /// <summary>Calls the task and its stub.</summary>
                    /// <param name="jobs">The client.</param>
                    /// <returns>A task.</returns>
                    public static async Task CallAsync(IJobClient jobs)
                    {
                        Poll("a");
                        Poll(mode: "b");
                        await jobs.EnqueuePollAsync("c");
                        await ReportsJobClientExtensions.EnqueuePollAsync(jobs);
                    }
                }
            }
            """;

        await VerifyFixAsync([before], [after], "TJ1008.Remove");
    }

    [Fact]
    public async Task TJ1008_RemoveIsNotOfferedWhenTheBatchStubIsCalled()
    {
        const string source = """
            using System.Threading.Tasks;
            using TypedJobs;

            public static class Reports
            {
                [Task(Interval = "00:05:00")]
                public static void Poll(int {|TJ1008:unused|}) { }

                public static async Task CallAsync(IJobClient jobs) => await jobs.EnqueuePollBatchAsync([1, 2]);
            }
            """;
        const string after = """
            using System.Threading.Tasks;
            using TypedJobs;

            public static class Reports
            {
                [Task(Interval = "00:05:00")]
                public static void Poll(int unused = default) { }

                public static async Task CallAsync(IJobClient jobs) => await jobs.EnqueuePollBatchAsync([1, 2]);
            }
            """;

        // The only action offered is the default value: asking for the removal finds nothing to apply.
        await VerifyFixAsync([source], [after], "TJ1008.AddDefault");
        var test = new TypedJobsTest { TestCode = source, FixedCode = source, CodeActionEquivalenceKey = "TJ1008.Remove" };
        await test.RunAsync();
    }

    [Fact]
    public async Task TJ1007_IsNotOfferedForATypeNoContextCanSerialize()
    {
        const string source = """
            using TypedJobs;

            public static class Jobs
            {
                [Task] public static void Run(int[,] {|TJ1007:grid|}) { }
            }
            """;

        var test = new TypedJobsTest { TestCode = source, FixedCode = source };
        await test.RunAsync();
    }

    [Fact]
    public async Task TJ1011_ReturnsTaskInsteadOfVoid()
    {
        const string before = """
            using TypedJobs;

            public static class Jobs
            {
                [Task]
                public static async void {|TJ1011:{|TJ1010:Refresh|}|}(string key)
                {
                    await System.Threading.Tasks.Task.Delay(key.Length);
                }
            }
            """;
        const string after = """
            using System.Threading.Tasks;
            using TypedJobs;

            public static class Jobs
            {
                [Task]
                public static async Task Refresh(string key)
                {
                    await System.Threading.Tasks.Task.Delay(key.Length);
                }
            }
            """;

        var test = new TypedJobsTest { TestCode = before, FixedCode = after, CodeActionEquivalenceKey = "TJ1011.ReturnTask" };
        test.FixedState.ExpectedDiagnostics.Add(new DiagnosticResult("TJ1010", Microsoft.CodeAnalysis.DiagnosticSeverity.Info).WithSpan(7, 30, 7, 37));
        await test.RunAsync();
    }

    /// <summary>
    /// Applies the code fix <paramref name="equivalenceKey"/> (and, for fixes that have one, fix-all) to the marked
    /// diagnostics of <paramref name="before"/>, and requires <paramref name="after"/> (plus any added documents) with no
    /// TypedJobs diagnostic and no compiler error left.
    /// </summary>
    private static async Task VerifyFixAsync(string[] before, string[] after, string equivalenceKey, params (string Name, string Text)[] added)
    {
        var test = new TypedJobsTest { CodeActionEquivalenceKey = equivalenceKey };
        if (!equivalenceKey.StartsWith("TJ1010", StringComparison.Ordinal) && !equivalenceKey.StartsWith("TJ1011", StringComparison.Ordinal))
        {
            // Only the TJ1010 and TJ1011 fixes have a fix-all provider.
            test.CodeFixTestBehaviors |= CodeFixTestBehaviors.SkipFixAllCheck;
        }

        if (equivalenceKey.StartsWith("TJ1006", StringComparison.Ordinal))
        {
            // TJ1006 is reported at the end of the compilation, once every task name is known.
            test.CodeFixTestBehaviors |= CodeFixTestBehaviors.SkipLocalDiagnosticCheck;
        }

        foreach (var source in before)
        {
            test.TestState.Sources.Add(source);
        }

        foreach (var source in after)
        {
            test.FixedState.Sources.Add(source);
        }
        foreach (var (name, text) in added)
        {
            test.FixedState.Sources.Add((name, text));
        }

        await test.RunAsync();
    }
}
