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

        await Verifier.VerifyFixAsync(tasks, new Dictionary<string, string> { ["Test1.cs"] = expected }, "TJ1007.AddToContext", context);
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

        await Verifier.VerifyFixAsync(tasks, new Dictionary<string, string> { ["TypedJobsJsonContext.cs"] = expected }, "TJ1007.CreateContext");
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

        await Verifier.VerifyFixAsync(before, new Dictionary<string, string> { [Verifier.FileName] = after }, "TJ1010.AddCancellationToken");
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
                public static Task Nightly(string {|TJ1008:region|}, int limit, CancellationToken ct) => Task.Delay(limit, ct);
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

        await Verifier.VerifyFixAsync(before, new Dictionary<string, string> { [Verifier.FileName] = after }, "TJ1008.AddDefault");
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

        await Verifier.VerifyFixAsync(before, new Dictionary<string, string> { [Verifier.FileName] = after }, "TJ1008.Remove");
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

        await Verifier.VerifyFixAsync(before, new Dictionary<string, string> { [Verifier.FileName] = after }, "TJ1004.MakeInternal");
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
                    [Task(Name = "mail.send")] public static void Deliver() { }
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

        await Verifier.VerifyFixAsync(before, new Dictionary<string, string> { [Verifier.FileName] = after }, "TJ1006.Rename");
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

                    [Task(Name = "Shop.A.Send")] public static void Deliver() { }
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

        await Verifier.VerifyFixAsync(before, new Dictionary<string, string> { [Verifier.FileName] = after }, "TJ1006.Rename");
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

                    [Task(Name = "Shop.A.Send")] public static void Deliver() { }
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

        await Verifier.VerifyFixAsync(before, new Dictionary<string, string> { [Verifier.FileName] = after }, "TJ1006.Rename");
    }
}
