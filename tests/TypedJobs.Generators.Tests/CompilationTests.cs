using System.Globalization;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using TypedJobs.Generators.Tests.Support;

namespace TypedJobs.Generators.Tests;

/// <summary>Generated code compiles cleanly under the strictest settings, and bad declarations are skipped by the generator and reported once, by the analyzers.</summary>
public sealed class CompilationTests
{
    [Fact]
    public void GeneratedCode_HasNoDiagnosticsWithAllWarningsAsErrorsAndDocumentationChecks()
    {
        var library = JobProgram.CompileLibrary("Shop.Library", Samples.Library);
        var compilation = TestCompiler.Create("Shop", [Samples.Email, Samples.Types, Samples.Corners], [library.Reference])
            .WithOptions(TestCompiler.Create("x", []).Options.WithGeneralDiagnosticOption(ReportDiagnostic.Error));

        var generated = TestCompiler.Generate(compilation);

        Assert.Equal(8, generated.Sources.Count);
        Assert.Empty(generated.GeneratorDiagnostics);
        Assert.Empty(generated.Output.GetDiagnostics().Where(static d => d.Severity != DiagnosticSeverity.Hidden));
        Assert.Empty(TestCompiler.Problems(generated));
    }

    [Fact]
    public void GeneratedCode_IsCleanWhenTheUserCodeIsNullableOblivious()
    {
        const string source = """
            using System.Collections.Generic;
            using TypedJobs;

            namespace Old
            {
                public class Legacy
                {
                    public string Name { get; set; }
                    public List<string> Items { get; set; }
                }

                public static class OldTasks
                {
                    [Task]
                    public static string Run(string text = null, Legacy legacy = null, List<Legacy> many = null) => text;
                }
            }
            """;
        var compilation = TestCompiler.Create("Old", [source], nullable: NullableContextOptions.Disable)
            .WithOptions(TestCompiler.Create("x", [], nullable: NullableContextOptions.Disable).Options.WithGeneralDiagnosticOption(ReportDiagnostic.Error));

        var generated = TestCompiler.Generate(compilation);

        Assert.Empty(generated.GeneratorDiagnostics);
        var problems = generated.Output.GetDiagnostics().Where(static d => d.Severity != DiagnosticSeverity.Hidden && d.Id != "CS1591").ToList();
        Assert.Empty(problems);
        Assert.DoesNotContain(TestCompiler.Problems(generated), static d => d.Id != "CS1591");
    }

    [Fact]
    public void InternalTaskInAPublicType_GetsInternalStubs()
    {
        const string source = """
            using TypedJobs;

            namespace Mixed
            {
                internal sealed record Secret(string Value);

                /// <summary>Public and internal tasks.</summary>
                public static class Tasks
                {
                    /// <summary>A public task.</summary>
                    /// <param name="x">A number.</param>
                    [Task]
                    public static void Open(int x)
                    {
                    }

                    [Task]
                    internal static void Hidden(Secret secret)
                    {
                    }
                }
            }
            """;
        var compilation = TestCompiler.Create("Mixed", [source])
            .WithOptions(TestCompiler.Create("x", []).Options.WithGeneralDiagnosticOption(ReportDiagnostic.Error));

        var generated = TestCompiler.Generate(compilation);

        Assert.Empty(generated.GeneratorDiagnostics);
        Assert.Empty(generated.Output.GetDiagnostics().Where(static d => d.Severity != DiagnosticSeverity.Hidden));
        var text = generated.Sources.Single(static s => s.HintName.Contains("Mixed", StringComparison.Ordinal)).Text;
        Assert.Contains("public static global::System.Threading.Tasks.ValueTask<global::TypedJobs.JobId> EnqueueOpenAsync(", text, StringComparison.Ordinal);
        Assert.Contains("internal static global::System.Threading.Tasks.ValueTask<global::TypedJobs.JobId> EnqueueHiddenAsync(", text, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("TJ1001", "[Task] public static System.Span<int> M() => default;", true)]
    [InlineData("TJ1002", "[Task] public static void M(ref int x) { }", true)]
    [InlineData("TJ1003", "[Task] public static void M<T>(T x) { }", true)]
    [InlineData("TJ1004", "[Task] private static void M() { }", true)]
    [InlineData("TJ1011", "[Task] public static async void M() { await System.Threading.Tasks.Task.Yield(); }", true)]
    [InlineData("TJ3001", "[Task(Timeout = \"5\")] public static void M() { }", false)]
    [InlineData("TJ1007", "[Task] public static void M(Secretive value) { } public sealed class Secretive { public string Name { get; private set; } = \"\"; }", false)]
    [InlineData("TJ1006", "[Task(Name = \"same\")] public static void M() { } [Task(Name = \"same\")] public static void N() { }", false)]
    [InlineData("TJ1007", "[Task] public static void M(System.IO.Stream stream, object any) { }", false)]
    [InlineData("TJ1007", "[Task] public static System.Action M() => () => { };", false)]
    [InlineData("TJ1008", "[Task(Cron = \"0 2 * * *\")] public static void M(string region) { }", false)]
    [InlineData("TJ3001", "[Task(Timeout = \"soon\")] public static void M() { }", false)]
    [InlineData("TJ3001", "[Task(Interval = \"-00:01:00\")] public static void M() { }", false)]
    [InlineData("TJ3002", "[Task(Unique = \"maybe\")] public static void M() { }", false)]
    [InlineData("TJ3003", "[Task(MaxRetries = -5)] public static void M() { }", false)]
    [InlineData("TJ3004", "[Task(Cron = \"0 25 * * *\")] public static void M() { }", false)]
    [InlineData("TJ3005", "[Task(Cron = \"@daily\", TimeZone = \"Europe/Berln\")] public static void M() { }", false)]
    [InlineData("TJ3006", "[Task(Queue = \"\")] public static void M() { }", false)]
    [InlineData("TJ3007", "[Task(Cron = \"@daily\", Interval = \"00:05:00\")] public static void M() { }", false)]
    public void InvalidTask_TheGeneratorIsSilentTheAnalyzersReportItOnceAndTheRestCompiles(string id, string member, bool skipped)
    {
        var source = "using TypedJobs;\nnamespace Bad\n{\n    public static class Tasks\n    {\n        " + member
            + "\n        [Task] public static void Fine(int n) { }\n    }\n}\n";

        var generated = TestCompiler.Generate(TestCompiler.Create("Bad", [source]));
        var analyzers = TestCompiler.Analyze(generated.Output);

        Assert.Empty(generated.GeneratorDiagnostics);
        var ours = analyzers.Where(static d => d.Id.StartsWith("TJ", StringComparison.Ordinal)).ToList();
        Assert.NotEmpty(ours);
        Assert.All(ours, d => Assert.Equal(id, d.Id));
        Assert.All(ours, static d => Assert.Equal(DiagnosticSeverity.Error, d.Severity));
        Assert.All(ours, static d => Assert.Equal("Bad/Source0.cs", d.Location.GetLineSpan().Path));
        Assert.Equal(ours.Count, ours.Select(static d => (d.Location.SourceSpan, d.GetMessage(CultureInfo.InvariantCulture))).Distinct().Count());
        Assert.Empty(generated.Output.GetDiagnostics().Where(static d => d.Severity == DiagnosticSeverity.Error));
        Assert.Contains("EnqueueFineAsync", generated.GeneratedText(), StringComparison.Ordinal);
        Assert.Equal(!skipped, generated.GeneratedText().Contains("EnqueueMAsync", StringComparison.Ordinal));
    }

    [Fact]
    public void TaskInAFileLocalType_IsSkippedAndReportedAsTJ1004()
    {
        const string source = """
            using TypedJobs;

            namespace Bad
            {
                file static class Local
                {
                    [Task]
                    public static void M() { }
                }

                public static class Tasks
                {
                    [Task] public static void Fine() { }
                }
            }
            """;

        var generated = TestCompiler.Generate(TestCompiler.Create("Bad", [source]));

        Assert.Empty(TestCompiler.Problems(generated));
        Assert.DoesNotContain("EnqueueMAsync", generated.GeneratedText(), StringComparison.Ordinal);
        var diagnostic = Assert.Single(TestCompiler.Analyze(generated.Output));
        Assert.Equal("TJ1004", diagnostic.Id);
        Assert.Contains("containing type 'Local' is file-local", diagnostic.GetMessage(CultureInfo.InvariantCulture), StringComparison.Ordinal);
    }

    [Fact]
    public void InstanceTaskOnATypeWithRequiredMembers_IsSkippedAndReportedAsTJ1005()
    {
        const string source = """
            using TypedJobs;

            namespace Bad
            {
                public sealed class Jobs
                {
                    public required string Name { get; init; }

                    [Task]
                    public void M() { }
                }

                public sealed class Allowed
                {
                    [System.Diagnostics.CodeAnalysis.SetsRequiredMembers]
                    public Allowed() => Name = "x";

                    public required string Name { get; init; }

                    [Task]
                    public void N() { }
                }
            }
            """;

        var generated = TestCompiler.Generate(TestCompiler.Create("Bad", [source]));

        Assert.Empty(TestCompiler.Problems(generated));
        Assert.DoesNotContain("EnqueueMAsync", generated.GeneratedText(), StringComparison.Ordinal);
        Assert.Contains("EnqueueNAsync", generated.GeneratedText(), StringComparison.Ordinal);
        var diagnostic = Assert.Single(TestCompiler.Analyze(generated.Output));
        Assert.Equal("TJ1005", diagnostic.Id);
        Assert.Contains("required members", diagnostic.GetMessage(CultureInfo.InvariantCulture), StringComparison.Ordinal);
    }

    [Fact]
    public void InstanceTaskOnAnAbstractType_IsSkippedAndReportedAsTJ1005()
    {
        const string source = """
            using TypedJobs;

            namespace Bad
            {
                public abstract class Base
                {
                    [Task]
                    public void M() { }
                }
            }
            """;

        var generated = TestCompiler.Generate(TestCompiler.Create("Bad", [source]));

        Assert.Empty(generated.GeneratorDiagnostics);
        Assert.DoesNotContain("EnqueueMAsync", generated.GeneratedText(), StringComparison.Ordinal);
        Assert.Contains(TestCompiler.Analyze(generated.Output), static d => d.Id == "TJ1005" && d.GetMessage(CultureInfo.InvariantCulture).Contains("Bad.Base", StringComparison.Ordinal));
    }

    [Fact]
    public void TypeWithoutSerializer_IsNamedInTheDiagnosticAndTheStubStillCompiles()
    {
        const string source = """
            using TypedJobs;

            namespace Bad
            {
                public sealed class Holder
                {
                    public System.IO.Stream? Content { get; set; }
                }

                public static class Tasks
                {
                    [Task]
                    public static void M(Holder holder) { }
                }
            }
            """;

        var generated = TestCompiler.Generate(TestCompiler.Create("Bad", [source]));

        Assert.Empty(generated.GeneratorDiagnostics);
        var diagnostic = Assert.Single(TestCompiler.Analyze(generated.Output));
        Assert.Equal("TJ1007", diagnostic.Id);
        Assert.Contains("System.IO.Stream", diagnostic.GetMessage(CultureInfo.InvariantCulture), StringComparison.Ordinal);
        Assert.Contains("JsonSerializable", diagnostic.GetMessage(CultureInfo.InvariantCulture), StringComparison.Ordinal);
        Assert.Contains("EnqueueMAsync", generated.GeneratedText(), StringComparison.Ordinal);
        Assert.Empty(generated.Output.GetDiagnostics().Where(static d => d.Severity == DiagnosticSeverity.Error));
    }
}
