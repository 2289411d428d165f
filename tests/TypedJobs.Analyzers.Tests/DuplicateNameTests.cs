using System.Globalization;
using Microsoft.CodeAnalysis;
using TypedJobs.Analyzers.Tests.Support;

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
                [Task(Name = "mail.send")] public static void {|TJ1006:Send|}() { }
                [Task(Name = "mail.other")] public static void Other() { }
            }

            public static class B
            {
                [Task(Name = "mail.send")] public static void {|TJ1006:Deliver|}() { }
            }
            """;

        var analysis = await Verifier.VerifyAsync(source);

        Assert.Equal("Task name 'mail.send' of 'A.Send' is already used by 'B.Deliver'; set a distinct Name in [Task]",
            analysis.Ours[0].GetMessage(CultureInfo.InvariantCulture));
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

        await Verifier.VerifyAsync(source);
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

        await Verifier.VerifyAsync(source);
    }

    [Fact]
    public async Task NameUsedByAReferencedAssembly_IncludingItsInternalTasks_ReportsTJ1006()
    {
        var library = await CompileLibraryAsync("Shop.Mail", """
            using TypedJobs;

            namespace Shop.Mail
            {
                internal static class MailTasks
                {
                    [Task(Name = "mail.send")] internal static void Send(string to) { }
                }
            }
            """);
        const string source = """
            using TypedJobs;

            public static class HostTasks
            {
                [Task(Name = "mail.send")] public static void {|TJ1006:Send|}(string to) { }
                [Task(Name = "mail.other")] public static void Other() { }
            }
            """;

        var analysis = await Verifier.VerifyAsync(source, [library]);

        Assert.Contains("a task in referenced assembly 'Shop.Mail'", analysis.Ours[0].GetMessage(CultureInfo.InvariantCulture), StringComparison.Ordinal);
    }

    [Fact]
    public async Task TwoReferencedAssembliesWithTheSameName_ReportTJ1006InTheHost()
    {
        var first = await CompileLibraryAsync("First", "public static class T1 { [TypedJobs.Task(Name = \"shared\")] public static void Run() { } }");
        var second = await CompileLibraryAsync("Second", "public static class T2 { [TypedJobs.Task(Name = \"shared\")] public static void Run() { } }");

        var analysis = await Verifier.AnalyzeAsync(["public static class Host { }"], [first, second]);

        var diagnostic = Assert.Single(analysis.Ours);
        Assert.Equal("TJ1006", diagnostic.Id);
        Assert.Equal(Location.None, diagnostic.Location);
        Assert.Contains("'First'", diagnostic.GetMessage(CultureInfo.InvariantCulture), StringComparison.Ordinal);
        Assert.Contains("'Second'", diagnostic.GetMessage(CultureInfo.InvariantCulture), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ReferencedAssemblyWithOtherNames_ReportsNothing()
    {
        var library = await CompileLibraryAsync("Shop.Mail", "public static class MailTasks { [TypedJobs.Task] public static void Send() { } }");

        await Verifier.VerifyAsync("public static class HostTasks { [TypedJobs.Task] public static void Send() { } }", [library]);
    }

    /// <summary>Compiles a task library with the generator, as a build would, and returns a reference to its image.</summary>
    internal static async Task<MetadataReference> CompileLibraryAsync(string name, string source)
    {
        var analysis = await Verifier.AnalyzeAsync([source], assemblyName: name);
        Assert.Empty(analysis.CompilerErrors);
        using var stream = new MemoryStream();
        var result = analysis.Output.Emit(stream);
        Assert.True(result.Success, string.Join("\n", result.Diagnostics));
        return MetadataReference.CreateFromImage(stream.ToArray());
    }
}
