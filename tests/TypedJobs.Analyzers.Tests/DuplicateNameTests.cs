using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Testing;
using TypedJobs.Analyzers.Tests.Support;
using static TypedJobs.Analyzers.Tests.Support.TypedJobsTest;

namespace TypedJobs.Analyzers.Tests;

/// <summary>TJ1006: task names are unique in the assembly and across the assemblies it references.</summary>
public sealed class DuplicateNameTests
{
    [Fact]
    public async Task SameExplicitName_ReportsTJ1006OnEveryTaskThatShareIt()
    {
        const string source = """
            using TypedJobs;

            public static class A
            {
                [Task(Name = "mail.send")] public static void {|#0:Send|}() { }
                [Task(Name = "mail.other")] public static void Other() { }
            }

            public static class B
            {
                [Task(Name = "mail.send")] public static void {|#1:Deliver|}() { }
            }
            """;

        await VerifyMessagesAsync(source,
            Expect("TJ1006", 0, "Task name 'mail.send' of 'A.Send' is already used by 'B.Deliver'; set a distinct Name in [Task]"),
            Expect("TJ1006", 1, "Task name 'mail.send' of 'B.Deliver' is already used by 'A.Send'; set a distinct Name in [Task]"));
    }

    [Fact]
    public async Task ExplicitNameEqualToAnotherTasksDefaultName_ReportsTJ1006()
    {
        const string source = """
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

        await TypedJobsTest.VerifyAsync(source);
    }

    [Fact]
    public async Task OverloadsOrSameMethodNamesInDifferentTypes_WithDistinctNames_ReportNothing()
    {
        const string source = """
            using TypedJobs;

            public static class A
            {
                [Task] public static void Send() { }
                [Task(Name = "A.Send.WithText")] public static void Send(string text) { }
            }

            public static class B
            {
                [Task] public static void Send() { }
            }
            """;

        await TypedJobsTest.VerifyAsync(source);
    }

    [Fact]
    public async Task NameUsedByAReferencedAssembly_IncludingItsInternalTasks_ReportsTJ1006()
    {
        var library = Library.Compile("Shop.Mail", """
            using TypedJobs;

            namespace Shop.Mail
            {
                internal static class MailTasks
                {
                    [Task(Name = "mail.send")] internal static void Send(string to) { }
                }
            }
            """);
        var test = new TypedJobsTest
        {
            TestCode = """
                using TypedJobs;

                public static class HostTasks
                {
                    [Task(Name = "mail.send")] public static void {|#0:Send|}(string to) { }
                    [Task(Name = "mail.other")] public static void Other() { }
                }
                """,
        };
        test.TestState.AdditionalReferences.Add(library);
        test.ExpectedDiagnostics.Add(Expect("TJ1006", 0, "Task name 'mail.send' of 'HostTasks.Send' is already used by a task in referenced assembly 'Shop.Mail'; set a distinct Name in [Task]"));

        await test.RunAsync();
    }

    [Fact]
    public async Task TwoReferencedAssembliesWithTheSameName_ReportTJ1006InTheHost()
    {
        var first = Library.Compile("First", "public static class T1 { [TypedJobs.Task(Name = \"shared\")] public static void Run() { } }");
        var second = Library.Compile("Second", "public static class T2 { [TypedJobs.Task(Name = \"shared\")] public static void Run() { } }");
        var test = new TypedJobsTest { TestCode = "public static class Host { }" };
        test.TestState.AdditionalReferences.AddRange([first, second]);
        test.TestBehaviors |= TestBehaviors.SkipGeneratedCodeCheck | TestBehaviors.SkipSuppressionCheck;
        test.ExpectedDiagnostics.Add(new DiagnosticResult("TJ1006", DiagnosticSeverity.Error)
            .WithMessage("Task name 'shared' of 'a task in referenced assembly 'First'' is already used by a task in referenced assembly 'Second'; set a distinct Name in [Task]"));

        await test.RunAsync();
    }

    [Fact]
    public async Task ReferencedAssemblyWithOtherNames_ReportsNothing()
    {
        var library = Library.Compile("Shop.Mail", "public static class MailTasks { [TypedJobs.Task] public static void Send() { } }");

        await TypedJobsTest.VerifyAsync("public static class HostTasks { [TypedJobs.Task] public static void Send() { } }", [library], false);
    }
}
