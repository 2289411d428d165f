using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Testing;
using TypedJobs.Analyzers.Tests.Support;

namespace TypedJobs.Analyzers.Tests;

/// <summary>
/// TJ4001-TJ4008: the tasks of a project against its committed contract baseline, <c>TypedJobs.contract.json</c>. Each
/// test takes the baseline the <c>UpdateTaskContract</c> target writes for the code before a change (or an edited one)
/// and the code after it.
/// </summary>
public sealed class ContractDriftTests
{
    private const string File = "TypedJobs.contract.json";

    private const string Before = """
        using System.Threading;
        using System.Threading.Tasks;
        using TypedJobs;

        namespace Shop
        {
            public enum Tier { Basic = 0, Gold = 1 }

            public sealed record Customer(string Name, Tier Tier = Tier.Basic);

            public static class Mail
            {
                [Task(Queue = "emails")]
                public static Task Send(string to, Customer customer, int retries = 3) => Task.CompletedTask;

                [Task]
                public static void Archive(string folder) { }
            }
        }
        """;

    [Fact]
    public async Task UnchangedCode_ReportsNothing()
    {
        await VerifyAsync(Before);
    }

    [Fact]
    public async Task TaskRemoved_ReportsTJ4001AtItsEntryInTheBaseline()
    {
        var after = Before.Replace("        [Task]\n        public static void Archive(string folder) { }", string.Empty, StringComparison.Ordinal);
        var baseline = Library.Baseline(Before);
        var entry = Span(baseline, "\"Shop.Mail.Archive\"");

        await VerifyAsync(after, baseline,
            Diagnostic("TJ4001").WithSpan(File, entry.Line, entry.Column, entry.Line, entry.Column + "\"Shop.Mail.Archive\": ".Length)
                .WithMessage("Task 'Shop.Mail.Archive' of the contract baseline no longer exists, so jobs stored under its name would never run; pin the name with "
                    + "[Task(Name = \"Shop.Mail.Archive\")], or update the baseline (dotnet build -t:UpdateTaskContract) once no job of it can be waiting"));
    }

    [Fact]
    public async Task MethodRenamedWithoutAPinnedName_ReportsTJ4001OnTheNewMethod_AndTheFixPinsTheOldName()
    {
        var after = Before.Replace("public static void Archive(string folder)", "public static void {|#0:Store|}(string folder)", StringComparison.Ordinal);
        var @fixed = Before.Replace("        [Task]\n        public static void Archive(string folder) { }",
            "        [Task(Name = \"Shop.Mail.Archive\")]\n        public static void Store(string folder) { }", StringComparison.Ordinal);
        var test = Test(after, Library.Baseline(Before));
        // TJ4001 is reported at the end of the compilation; the fix has no fix-all.
        test.CodeFixTestBehaviors |= CodeFixTestBehaviors.SkipFixAllCheck | CodeFixTestBehaviors.SkipLocalDiagnosticCheck;
        test.ExpectedDiagnostics.Add(Diagnostic("TJ4001").WithLocation(0)
            .WithMessage("Task 'Shop.Mail.Archive' of the contract baseline no longer exists ('Shop.Mail.Store' has its payload and looks like its new name), so jobs "
                + "stored under its name would never run; pin the name with [Task(Name = \"Shop.Mail.Archive\")], or update the baseline (dotnet build -t:UpdateTaskContract) "
                + "once no job of it can be waiting"));
        test.FixedState.Sources.Add(@fixed);
        test.FixedState.AdditionalFiles.Add((File, Library.Baseline(Before)));
        await test.RunAsync();
    }

    [Fact]
    public async Task PinnedNameKept_AfterARename_ReportsNothing()
    {
        var before = Before.Replace("[Task]", "[Task(Name = \"mail.archive\")]", StringComparison.Ordinal);
        var after = before.Replace("void Archive(", "void Store(", StringComparison.Ordinal);

        await VerifyAsync(after, Library.Baseline(before));
    }

    [Fact]
    public async Task NewParameterWithoutADefault_ReportsTJ4002()
    {
        var after = Before.Replace("Customer customer,", "Customer customer, bool {|#0:urgent|},", StringComparison.Ordinal);

        await VerifyAsync(after, Library.Baseline(Before),
            Diagnostic("TJ4002").WithLocation(0).WithMessage("Parameter 'urgent' of task 'Shop.Mail.Send' is new and has no default value, so payloads stored before this "
                + "change have no value for it and would fail; give it a default value, or update the baseline (dotnet build -t:UpdateTaskContract) once no such job can be waiting"));
    }

    [Fact]
    public async Task ParameterLosesItsDefault_OrNewRequiredMember_ReportsTJ4002()
    {
        var after = Before.Replace("int retries = 3", "int {|#0:retries|}", StringComparison.Ordinal)
            .Replace("CancellationToken ct = default", "CancellationToken ct", StringComparison.Ordinal)
            .Replace("public sealed record Customer(string Name, Tier Tier = Tier.Basic);",
                "public sealed record Customer(string Name, Tier Tier = Tier.Basic)\n    {\n        public required string {|#1:Vat|} { get; init; }\n    }", StringComparison.Ordinal);

        await VerifyAsync(after, Library.Baseline(Before),
            Diagnostic("TJ4002").WithLocation(0).WithArguments("Parameter 'retries' of task 'Shop.Mail.Send'", "lost its default value"),
            Diagnostic("TJ4002").WithLocation(1).WithArguments("Member 'Vat' of 'Shop.Customer'", "is new and required"));
    }

    [Fact]
    public async Task ParameterTypeChanged_ReportsTJ4003()
    {
        var after = Before.Replace("string folder", "int {|#0:folder|}", StringComparison.Ordinal);

        await VerifyAsync(after, Library.Baseline(Before),
            Diagnostic("TJ4003").WithLocation(0).WithArguments("parameter 'folder' of task 'Shop.Mail.Archive'", "string", "int"));
    }

    [Fact]
    public async Task WideningTypeChanges_ReportNothingButTJ4007()
    {
        var after = Before.Replace("int retries = 3", "long retries = 3", StringComparison.Ordinal);

        await VerifyAsync(after, Library.Baseline(Before), Outdated("every change of the tasks' contracts"));
    }

    [Fact]
    public async Task EnumMemberRenumbered_ReportsTJ4004AtTheMember()
    {
        var after = Before.Replace("Gold = 1", "{|#0:Gold|} = 2", StringComparison.Ordinal);

        await VerifyAsync(after, Library.Baseline(Before),
            Diagnostic("TJ4004").WithLocation(0).WithArguments("Shop.Tier", "gives 'Gold' the value 2 instead of 1"));
    }

    [Fact]
    public async Task EditedBaselineWithAnotherEnumValue_ReportsTJ4004()
    {
        var baseline = Library.Baseline(Before).Replace("\"Gold\": 1", "\"Gold\": 5", StringComparison.Ordinal);
        var after = Before.Replace("Gold = 1", "{|#0:Gold|} = 1", StringComparison.Ordinal);

        await VerifyAsync(after, baseline, Diagnostic("TJ4004").WithLocation(0).WithArguments("Shop.Tier", "gives 'Gold' the value 1 instead of 5"));
    }

    [Fact]
    public async Task EnumMemberRemoved_ReportsTJ4004_ButARenameThatKeepsTheValueDoesNot()
    {
        var removed = Before.Replace("public enum Tier { Basic = 0, Gold = 1 }", "public enum {|#0:Tier|} { Basic = 0 }", StringComparison.Ordinal);
        var renamed = Before.Replace("Gold = 1", "Premium = 1", StringComparison.Ordinal);

        await VerifyAsync(removed, Library.Baseline(Before),
            Diagnostic("TJ4004").WithLocation(0).WithArguments("Shop.Tier", "no longer has a member with the value 1 ('Gold')"));
        await VerifyAsync(renamed, Library.Baseline(Before), Outdated("every change of the tasks' contracts"));
    }

    [Fact]
    public async Task ParameterRemoved_ReportsTJ4005OnTheTask()
    {
        var after = Before.Replace("public static Task Send(string to, Customer customer, int retries = 3)", "public static Task {|#0:Send|}(string to, Customer customer)", StringComparison.Ordinal);

        await VerifyAsync(after, Library.Baseline(Before),
            Diagnostic("TJ4005").WithLocation(0).WithMessage("Parameter 'retries' of task 'Shop.Mail.Send' was removed, but payloads stored before this change still hold it "
                + "and its value would be ignored; keep it (unused if need be), or update the baseline (dotnet build -t:UpdateTaskContract) once no such job can be waiting"));
    }

    [Fact]
    public async Task PayloadMemberRemoved_ReportsTJ4005()
    {
        var after = Before.Replace("public sealed record Customer(string Name, Tier Tier = Tier.Basic);", "public sealed record {|#0:Customer|}(string Name);", StringComparison.Ordinal);

        await VerifyAsync(after, Library.Baseline(Before), Diagnostic("TJ4005").WithLocation(0).WithArguments("Member 'Tier' of 'Shop.Customer'"));
    }

    [Fact]
    public async Task QueueChanged_ReportsTJ4006AtTheSetting()
    {
        var after = Before.Replace("[Task(Queue = \"emails\")]", "[Task(Queue = {|#0:\"mail\"|})]", StringComparison.Ordinal);

        await VerifyAsync(after, Library.Baseline(Before),
            Diagnostic("TJ4006").WithLocation(0).WithArguments("Shop.Mail.Send", "emails", "mail"));
    }

    [Fact]
    public async Task AdditiveChanges_PassWithTJ4007NamingTheNewTasks()
    {
        var after = Before.Replace("int retries = 3,", "int retries = 3, string? replyTo = null,", StringComparison.Ordinal)
            .Replace("public static void Archive(string folder) { }", "public static void Archive(string folder) { }\n\n        [Task] public static void Purge(int days = 30) { }", StringComparison.Ordinal);

        await VerifyAsync(after, Library.Baseline(Before), Outdated("the task 'Shop.Mail.Purge'"));
    }

    [Fact]
    public async Task UnreadableBaseline_ReportsTJ4008AtTheProblem()
    {
        const string wrongFormat = "{\n  \"format\": 99,\n  \"tasks\": {}\n}\n";
        const string notJson = "{ \"tasks\": ";

        await VerifyAsync(Before, wrongFormat, Diagnostic("TJ4008").WithSpan(File, 2, 13, 2, 13)
            .WithArguments(File, "it has format 99, and this version reads format 1"));
        var test = Test(Before, notJson);
        test.ExpectedDiagnostics.Add(Diagnostic("TJ4008").WithSpan(File, 1, 12, 1, 12).WithArguments(File, "the JSON ends unexpectedly"));
        await test.RunAsync();
    }

    [Fact]
    public async Task WhileTheUpdateTargetRuns_NothingIsReported()
    {
        var after = Before.Replace("string folder", "int folder", StringComparison.Ordinal).Replace("Gold = 1", "Gold = 2", StringComparison.Ordinal);
        var test = Test(after, Library.Baseline(Before));
        test.TestState.AnalyzerConfigFiles.Add(("/.globalconfig", "is_global = true\nbuild_property.TypedJobsUpdateContract = true\n"));

        await test.RunAsync();
    }

    [Fact]
    public async Task ContractInterfaceTasks_AreCheckedLikeMethods()
    {
        const string before = """
            using TypedJobs;

            namespace Shop.Contracts
            {
                [TaskContract]
                public interface IBilling
                {
                    [Task(Name = "billing.charge", Queue = "billing")]
                    void Charge(string customer, decimal amount);
                }
            }
            """;
        var after = before.Replace("decimal amount", "decimal amount, string {|#0:currency|}", StringComparison.Ordinal);

        await VerifyAsync(after, Library.Baseline(before),
            Diagnostic("TJ4002").WithLocation(0).WithArguments("Parameter 'currency' of task 'billing.charge'", "is new and has no default value"));
    }

    [Fact]
    public async Task WithoutABaseline_NothingIsChecked()
    {
        await TypedJobsTest.VerifyAsync(Before.Replace("string folder", "int folder", StringComparison.Ordinal));
    }

    private static TypedJobsTest Test(string markup, string baseline)
    {
        var test = new TypedJobsTest { TestCode = markup };
        test.TestState.AdditionalFiles.Add((File, baseline));
        return test;
    }

    private static Task VerifyAsync(string source) => VerifyAsync(source, Library.Baseline(source));

    private static async Task VerifyAsync(string markup, string baseline, params DiagnosticResult[] expected)
    {
        var test = Test(markup, baseline);
        test.ExpectedDiagnostics.AddRange(expected);
        await test.RunAsync();
    }

    private static DiagnosticResult Diagnostic(string id) =>
        new(Generators.Diagnostics.DiagnosticDescriptors.All.Single(d => d.Id == id));

    private static DiagnosticResult Outdated(string what) => Diagnostic("TJ4007").WithSpan(File, 1, 1, 1, 1).WithArguments(what);

    /// <summary>The 1-based line and column of <paramref name="text"/> in <paramref name="baseline"/>.</summary>
    private static (int Line, int Column) Span(string baseline, string text)
    {
        var index = baseline.IndexOf(text, StringComparison.Ordinal);
        Assert.True(index >= 0, text + " is not in the baseline:\n" + baseline);
        var before = baseline[..index];
        return (before.Count(static c => c == '\n') + 1, index - before.LastIndexOf('\n'));
    }
}
