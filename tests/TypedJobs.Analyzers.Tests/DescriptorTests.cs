using System.Reflection;
using System.Text.RegularExpressions;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;
using TypedJobs.Analyzers.Tests.Support;
using TypedJobs.Generators.Diagnostics;

namespace TypedJobs.Analyzers.Tests;

/// <summary>Every descriptor is documented, release-tracked, reported by one analyzer and consistent with its ID range.</summary>
public sealed partial class DescriptorTests
{
    private static readonly string Repository = typeof(DescriptorTests).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
        .Single(static a => a.Key == "RepositoryRoot").Value!;

    private static readonly string Docs = Path.Combine(Repository, "docs", "diagnostics");

    public static TheoryData<string> Ids => [.. DiagnosticDescriptors.All.Select(static d => d.Id)];

    private static DiagnosticDescriptor Descriptor(string id) => DiagnosticDescriptors.All.Single(d => d.Id == id);

    [Fact]
    public void Ids_AreUniqueAndInTheirRanges()
    {
        Assert.Equal(DiagnosticDescriptors.All.Length, DiagnosticDescriptors.All.Select(static d => d.Id).Distinct().Count());
        Assert.All(DiagnosticDescriptors.All, static d =>
        {
            Assert.Matches(IdPattern(), d.Id);
            var expected = d.Id[2] switch { '1' => "TypedJobs.Declaration", '2' => "TypedJobs.Usage", '3' => "TypedJobs.Configuration", _ => "TypedJobs.Contract" };
            Assert.Equal(expected, d.Category);
        });
    }

    [Theory]
    [MemberData(nameof(Ids))]
    public void Descriptor_HasADocsPageWithABadAndAGoodExample(string id)
    {
        var descriptor = Descriptor(id);
        Assert.Equal(DiagnosticDescriptors.HelpLinkBase + id + ".md", descriptor.HelpLinkUri);
        Assert.EndsWith("/docs/diagnostics/" + id + ".md", descriptor.HelpLinkUri, StringComparison.Ordinal);

        var page = File.ReadAllText(Path.Combine(Docs, id + ".md"));
        Assert.StartsWith("# " + id + ": " + descriptor.Title, page, StringComparison.Ordinal);
        Assert.Contains("| Severity | " + descriptor.DefaultSeverity + " |", page, StringComparison.Ordinal);
        Assert.Matches(@"## Bad\s+```csharp\n", page);
        Assert.Matches(@"## Good\s+```csharp\n", page);
        Assert.Contains("| Code fix | " + (HasCodeFix(id) ? "yes" : "no") + " |", page, StringComparison.Ordinal);
        Assert.Equal(HasCodeFix(id), page.Contains("## Code fix", StringComparison.Ordinal));
    }

    [Theory]
    [MemberData(nameof(Ids))]
    public void Descriptor_IsListedInTheDiagnosticsReadme(string id)
    {
        var readme = File.ReadAllText(Path.Combine(Docs, "README.md"));
        Assert.Contains("| [" + id + "](" + id + ".md) | " + Descriptor(id).Title + " | " + Descriptor(id).DefaultSeverity + " |", readme, StringComparison.Ordinal);
    }

    [Fact]
    public void EveryDocsPage_BelongsToADescriptor()
    {
        var pages = Directory.GetFiles(Docs, "TJ*.md").Select(Path.GetFileNameWithoutExtension).Order(StringComparer.Ordinal);
        Assert.Equal(DiagnosticDescriptors.All.Select(static d => d.Id).Order(StringComparer.Ordinal), pages);
    }

    [Theory]
    [MemberData(nameof(Ids))]
    public void Descriptor_HasAReleaseTrackingEntry(string id)
    {
        var descriptor = Descriptor(id);
        var releases = Path.Combine(Repository, "generators", "TypedJobs.Generators");
        var rows = File.ReadAllLines(Path.Combine(releases, "AnalyzerReleases.Shipped.md"))
            .Concat(File.ReadAllLines(Path.Combine(releases, "AnalyzerReleases.Unshipped.md")))
            .Where(l => l.StartsWith(id + " |", StringComparison.Ordinal))
            .Select(static l => l.Split('|').Select(static c => c.Trim()).ToArray())
            .ToList();
        Assert.Contains(rows, r => r[1] == descriptor.Category && r[2] == descriptor.DefaultSeverity.ToString());
    }

    [Theory]
    [MemberData(nameof(Ids))]
    public void Descriptor_IsSupportedByOneAnalyzerOfThePackage_OrBothTaskAndContractAnalyzers(string id)
    {
        var analyzers = typeof(TaskAnalyzer).Assembly.GetTypes()
            .Where(static t => t.IsSubclassOf(typeof(DiagnosticAnalyzer)) && t.GetCustomAttribute<DiagnosticAnalyzerAttribute>() is not null)
            .Select(static t => (DiagnosticAnalyzer)Activator.CreateInstance(t)!)
            .ToList();
        Assert.Equal(analyzers.Count, TypedJobsTest.Analyzers.Length);
        // The declaration rules TJ1003-TJ1005 and TJ1007 apply to [Task] methods (TaskAnalyzer) and to the classes that
        // implement a task contract (ContractAnalyzer); every other rule has one analyzer.
        var shared = new[] { "TJ1003", "TJ1004", "TJ1005", "TJ1007" };
        var reporting = analyzers.Where(a => a.SupportedDiagnostics.Any(d => d.Id == id)).Select(static a => a.GetType().Name).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(shared.Contains(id) ? ["ContractAnalyzer", "TaskAnalyzer"] : [reporting.Single()], reporting);
    }

    [Fact]
    public void CodeFixes_FixKnownIdsAndAreAllExported()
    {
        var providers = typeof(CodeFixes.AddJsonSerializableCodeFix).Assembly.GetTypes()
            .Where(static t => t.GetCustomAttribute<Microsoft.CodeAnalysis.CodeFixes.ExportCodeFixProviderAttribute>() is not null)
            .ToList();
        Assert.Equal(TypedJobsTest.CodeFixes.Length, providers.Count);
        Assert.All(TypedJobsTest.CodeFixes.SelectMany(static p => p.FixableDiagnosticIds), id => Assert.Contains(DiagnosticDescriptors.All, d => d.Id == id));
    }

    private static bool HasCodeFix(string id) => TypedJobsTest.CodeFixes.Any(p => p.FixableDiagnosticIds.Contains(id));

    [GeneratedRegex("^TJ[1234][0-9]{3}$")]
    private static partial Regex IdPattern();
}
