using Microsoft.CodeAnalysis;
using TypedJobs.Generators.Tests.Support;

namespace TypedJobs.Generators.Tests;

/// <summary>Stub, class and file names: stable, and never colliding in a way that breaks compilation.</summary>
public sealed class NamingTests
{
    private const string Ping = """
        using TypedJobs;

        namespace Beta
        {
            public static class Tasks
            {
                [Task] public static string Ping(string text) => text;
            }
        }
        """;

    [Fact]
    public void AddingASameNamedTaskToAnotherTypeOfTheNamespace_KeepsTheExistingStubName()
    {
        const string other = """
            using TypedJobs;

            namespace Beta
            {
                public static class Other
                {
                    [Task(Name = "beta.other.ping")] public static string Ping(string text) => text;
                }
            }
            """;

        var before = TestCompiler.Build("Stable", [Ping]).Generated;
        var after = TestCompiler.Build("Stable", [Ping, other]).Generated;

        var tasksBefore = before.Sources.Single(static s => s.HintName == "Beta.TasksJobClientExtensions.g.cs").Text;
        var tasksAfter = after.Sources.Single(static s => s.HintName == "Beta.TasksJobClientExtensions.g.cs").Text;
        Assert.Equal(tasksBefore, tasksAfter);
        Assert.Contains(" EnqueuePingAsync(", tasksAfter, StringComparison.Ordinal);
        Assert.Contains(" EnqueuePingAsync(", after.Sources.Single(static s => s.HintName == "Beta.OtherJobClientExtensions.g.cs").Text, StringComparison.Ordinal);
    }

    [Fact]
    public void CollidingNames_AllCompileWithoutWarnings()
    {
        const string source = """
            using System.Threading;
            using System.Threading.Tasks;
            using TypedJobs;

            namespace A.B
            {
                public static class C
                {
                    [Task(Name = "abc.run")] public static void Run(int x) { }
                }
            }

            namespace A
            {
                public static class B_C
                {
                    [Task(Name = "a.b_c.run")] public static void Run(int x) { }
                }

            }

            namespace X
            {
                public static class Y
                {
                    public static class Z
                    {
                        [Task(Name = "x.y.z")] public static void Run(int x) { }
                    }
                }

                public static class Y_Z
                {
                    [Task(Name = "x.y_z")] public static void Run(int x) { }
                }
            }

            namespace Shop
            {
                public sealed record Payload(string Text);

                public static class Mail
                {
                    [Task(Name = "mail.send")] public static void Send(string to) { }
                    [Task(Name = "mail.send-async")] public static Task SendAsync(string to, CancellationToken ct) => Task.Delay(1, ct);
                    [Task(Name = "mail.send-context")] public static void Send(string to, JobContext context) => _ = context;
                    [Task(Name = "mail.send-count")] public static void Send(string to, int count) { }
                    [Task(Name = "mail.write")] public static void Write(Payload payload) { }
                    [Task(Name = "mail.read")] public static Payload Read(Payload Payload) => Payload;
                    [Task(Name = "mail.many")] public static int Many(string prefix, params string[] names) => names.Length;
                    [Task(Name = "mail.register")] public static void RegisterTasks() { }
                    [Task(Name = "mail.batch")] public static void SendBatch(System.Collections.Generic.IEnumerable<string> jobs) { }
                }
            }
            """;

        var (_, generated) = TestCompiler.Build("Collide", [source]);

        var hints = generated.Sources.Select(static s => s.HintName).ToList();
        Assert.Contains("A.B.CJobClientExtensions.g.cs", hints);
        Assert.Contains("A.B__CJobClientExtensions.g.cs", hints);
        Assert.Contains("X.Y_ZJobClientExtensions.g.cs", hints);
        Assert.Contains("X.Y__ZJobClientExtensions.g.cs", hints);
        var mail = generated.Sources.Single(static s => s.HintName == "Shop.MailJobClientExtensions.g.cs").Text;
        Assert.Contains(" EnqueueSendAsync(this global::TypedJobs.IJobClient client, string to, ", mail, StringComparison.Ordinal);
        Assert.Contains(" EnqueueSend2Async(this global::TypedJobs.IJobClient client, string to, ", mail, StringComparison.Ordinal);
        Assert.Contains(" EnqueueSend3Async(this global::TypedJobs.IJobClient client, string to, ", mail, StringComparison.Ordinal);
        Assert.Contains(" EnqueueSendAsync(this global::TypedJobs.IJobClient client, string to, int count, ", mail, StringComparison.Ordinal);
        Assert.Contains(" EnqueueSendBatch2Async(this global::TypedJobs.IJobClient client, global::System.Collections.Generic.IEnumerable<string> jobs, ", mail, StringComparison.Ordinal);
        Assert.Contains(" EnqueueManyAsync(this global::TypedJobs.IJobClient client, string prefix, string[]? names = null, ", mail, StringComparison.Ordinal);
    }

    [Fact]
    public void DocumentationThatRefersToNonPayloadParameters_CompilesWithoutWarnings()
    {
        const string source = """
            using System.Threading;
            using System.Threading.Tasks;
            using TypedJobs;

            namespace Docs
            {
                /// <summary>A service.</summary>
                public interface IClock
                {
                }

                /// <summary>Tasks.</summary>
                public static class Tasks
                {
                    /// <summary>Waits for <paramref name="to"/> with <paramref name="clock"/> until <paramref name="ct"/> fires.</summary>
                    /// <param name="to">The target, see <paramref name="ct"/>.</param>
                    /// <param name="clock">The clock.</param>
                    /// <param name="ct">Cancels.</param>
                    /// <returns>A task.</returns>
                    [Task]
                    public static Task Wait(string to, [FromServices] IClock clock, CancellationToken ct) => Task.Delay(to.Length, ct);
                }
            }
            """;

        var (_, generated) = TestCompiler.Build("Docs", [source]);

        var text = generated.Sources.Single(static s => s.HintName == "Docs.TasksJobClientExtensions.g.cs").Text;
        Assert.Contains("/// <summary>Waits for <paramref name=\"to\" /> with <c>clock</c> until <c>ct</c> fires.</summary>", text, StringComparison.Ordinal);
        Assert.Contains("/// <summary>Waits for <c>to</c> with <c>clock</c> until <c>ct</c> fires.</summary>", text, StringComparison.Ordinal);
    }

    [Fact]
    public void SynchronousTaskOnADisposableType_GetsAHandlerThatIsNotAsync()
    {
        const string source = """
            using System;
            using System.Threading.Tasks;
            using TypedJobs;

            namespace Disposing
            {
                public sealed class Jobs : IDisposable
                {
                    [Task] public void Run(int x) { }
                    [Task] public int Count(string text) => text.Length;
                    [Task] public Task Later(int x) => Task.CompletedTask;
                    public void Dispose() { }
                }
            }
            """;

        var (_, generated) = TestCompiler.Build("Disposing", [source]);

        var text = generated.Sources.Single(static s => s.HintName == "Disposing.JobsJobClientExtensions.g.cs").Text;
        Assert.Contains("private static global::System.Threading.Tasks.ValueTask Handler(Payload payload, global::TypedJobs.JobContext context)\n            {\n                using var instance", text, StringComparison.Ordinal);
        Assert.Contains("private static global::System.Threading.Tasks.ValueTask<int> Handler(", text, StringComparison.Ordinal);
        Assert.Contains("private static async global::System.Threading.Tasks.ValueTask Handler(", text, StringComparison.Ordinal);
        Assert.Single(text.Split("async global::").Skip(1));
    }

    [Fact]
    public void WithAnalyzersOff_TheGeneratorReportsTheTasksItSkips()
    {
        const string source = """
            using TypedJobs;

            namespace Off
            {
                public static class Tasks
                {
                    [Task] private static void Hidden() { }
                    [Task] public static async void Fire() { await System.Threading.Tasks.Task.Yield(); }
                    [Task] public static void Fine() { }
                }
            }
            """;

        var silent = TestCompiler.Generate(TestCompiler.Create("Off", [source]));
        var off = TestCompiler.Generate(TestCompiler.Create("Off", [source]), globalOptions: new() { ["build_property.RunAnalyzers"] = "false" });
        var offDuringBuild = TestCompiler.Generate(TestCompiler.Create("Off", [source]), globalOptions: new() { ["build_property.RunAnalyzersDuringBuild"] = "False" });

        Assert.Empty(silent.GeneratorDiagnostics);
        foreach (var generated in new[] { off, offDuringBuild })
        {
            Assert.Equal(["TJ1004", "TJ1011"], generated.GeneratorDiagnostics.Select(static d => d.Id).Order());
            Assert.All(generated.GeneratorDiagnostics, static d => Assert.Equal(DiagnosticSeverity.Error, d.Severity));
            Assert.All(generated.GeneratorDiagnostics, static d => Assert.Equal("Off/Source0.cs", d.Location.GetLineSpan().Path));
            Assert.Contains("EnqueueFineAsync", generated.GeneratedText(), StringComparison.Ordinal);
        }
    }
}
