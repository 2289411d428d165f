using System.Collections.Immutable;
using System.Reflection;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeActions;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Text;
using TypedJobs.CodeFixes;
using TypedJobs.Generators;

namespace TypedJobs.Analyzers.Tests.Support;

/// <summary>
/// Runs the TypedJobs generator, the System.Text.Json generator and every TypedJobs analyzer over test sources, and
/// applies code fixes in an <see cref="AdhocWorkspace"/>, the way an IDE or a build does.
/// </summary>
internal static class Verifier
{
    public const string FileName = "Test0.cs";

    public static readonly CSharpParseOptions ParseOptions = new(LanguageVersion.Latest);

    public static readonly ImmutableArray<DiagnosticAnalyzer> Analyzers =
    [
        new TaskAnalyzer(), new DuplicateTaskNameAnalyzer(), new CancellationAnalyzer(), new EnqueueInLoopAnalyzer(),
    ];

    public static readonly ImmutableArray<CodeFixProvider> CodeFixes =
    [
        new AddJsonSerializableCodeFix(), new AddCancellationTokenCodeFix(), new RecurringParameterCodeFix(),
        new MakeTaskAccessibleCodeFix(), new RenameTaskCodeFix(), new AsyncVoidTaskCodeFix(),
    ];

    private static readonly Lazy<ImmutableArray<MetadataReference>> LazyReferences = new(LoadReferences);

    private static readonly Lazy<ISourceGenerator[]> JsonGenerators = new(LoadJsonGenerators);

    public static ImmutableArray<MetadataReference> References => LazyReferences.Value;

    public static CSharpCompilationOptions Options { get; } = new(OutputKind.DynamicallyLinkedLibrary,
        nullableContextOptions: NullableContextOptions.Enable, concurrentBuild: false);

    public static CSharpCompilation Create(string assemblyName, IEnumerable<string> sources, IEnumerable<MetadataReference>? extra = null, bool unsafeCode = false) =>
        CSharpCompilation.Create(assemblyName,
            sources.Select((s, i) => CSharpSyntaxTree.ParseText(s, ParseOptions, path: i == 0 ? FileName : $"Test{i}.cs")),
            References.AddRange(extra ?? []), Options.WithAllowUnsafe(unsafeCode));

    /// <summary>Runs both generators, then the analyzers.</summary>
    public static async Task<Analysis> AnalyzeAsync(IEnumerable<string> sources, IEnumerable<MetadataReference>? extra = null, string assemblyName = "Test", bool unsafeCode = false)
    {
        var generators = new List<ISourceGenerator> { new TaskGenerator().AsSourceGenerator() };
        generators.AddRange(JsonGenerators.Value);
        CSharpGeneratorDriver.Create(generators, parseOptions: ParseOptions)
            .RunGeneratorsAndUpdateCompilation(Create(assemblyName, sources, extra, unsafeCode), out var output, out var generatorDiagnostics);
        var analyzerDiagnostics = await output.WithAnalyzers(Analyzers).GetAnalyzerDiagnosticsAsync(CancellationToken.None);
        Assert.Empty(generatorDiagnostics);
        return new Analysis(output, output.GetDiagnostics(), analyzerDiagnostics);
    }

    /// <summary>The analyzers report exactly the <c>{|ID:…|}</c> markers of <paramref name="markup"/>, and the C# compiles.</summary>
    public static async Task<Analysis> VerifyAsync(string markup, IEnumerable<MetadataReference>? extra = null, bool unsafeCode = false, params string[] otherSources)
    {
        var (source, expected) = Markup.Parse(markup);
        var analysis = await AnalyzeAsync([source, .. otherSources], extra, unsafeCode: unsafeCode);
        Assert.Empty(analysis.CompilerErrors);
        var actual = analysis.Ours
            .Where(static d => d.Location.SourceTree?.FilePath == FileName)
            .Select(static d => new Expected(d.Id, d.Location.SourceSpan))
            .OrderBy(static e => e.Span.Start).ThenBy(static e => e.Id, StringComparer.Ordinal)
            .ToList();
        var wanted = expected.OrderBy(static e => e.Span.Start).ThenBy(static e => e.Id, StringComparer.Ordinal).ToList();
        Assert.True(wanted.SequenceEqual(actual), "expected: " + string.Join(", ", wanted.Select(e => Describe(source, e)))
            + "\nactual:   " + string.Join(", ", actual.Select(e => Describe(source, e)))
            + "\nmessages:\n" + string.Join("\n", analysis.Ours.Select(static d => d.ToString())));
        return analysis;
    }

    /// <summary>
    /// Applies the code fix (by equivalence key) for the single marked diagnostic of <paramref name="markup"/>, compares
    /// every changed or added document with <paramref name="expected"/> (file name → text), and proves the result
    /// compiles with the generators and analyzers without any warning, error or TypedJobs diagnostic.
    /// </summary>
    public static async Task VerifyFixAsync(string markup, IReadOnlyDictionary<string, string> expected, string equivalenceKey, params string[] otherSources)
    {
        var (source, markers) = Markup.Parse(markup);
        var marker = Assert.Single(markers);

        using var workspace = new AdhocWorkspace();
        var projectId = ProjectId.CreateNewId();
        var solution = workspace.CurrentSolution
            .AddProject(ProjectInfo.Create(projectId, VersionStamp.Create(), "Test", "Test", LanguageNames.CSharp,
                compilationOptions: Options, parseOptions: ParseOptions, metadataReferences: References));
        var documentIds = new List<DocumentId>();
        foreach (var (text, i) in new[] { source }.Concat(otherSources).Select(static (t, i) => (t, i)))
        {
            var id = DocumentId.CreateNewId(projectId);
            documentIds.Add(id);
            solution = solution.AddDocument(id, i == 0 ? FileName : $"Test{i}.cs", SourceText.From(text));
        }

        var project = solution.GetProject(projectId)!;
        var compilation = (await project.GetCompilationAsync())!;
        var diagnostics = await compilation.WithAnalyzers(Analyzers).GetAnalyzerDiagnosticsAsync(CancellationToken.None);
        var diagnostic = Assert.Single(diagnostics, d => d.Id == marker.Id && d.Location.SourceSpan == marker.Span && d.Location.SourceTree?.FilePath == FileName);

        var document = solution.GetDocument(documentIds[0])!;
        var actions = new List<CodeAction>();
        foreach (var provider in CodeFixes.Where(p => p.FixableDiagnosticIds.Contains(diagnostic.Id)))
        {
            await provider.RegisterCodeFixesAsync(new CodeFixContext(document, diagnostic, (a, _) => actions.Add(a), CancellationToken.None));
        }

        var action = Assert.Single(actions, a => a.EquivalenceKey == equivalenceKey);
        var operations = await action.GetOperationsAsync(CancellationToken.None);
        var changed = Assert.Single(operations.OfType<ApplyChangesOperation>()).ChangedSolution;

        var changes = changed.GetChanges(solution).GetProjectChanges().Single();
        var touched = changes.GetChangedDocuments().Concat(changes.GetAddedDocuments()).Select(id => changed.GetDocument(id)!).ToList();
        var actual = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var changedDocument in touched)
        {
            actual[changedDocument.Name] = (await changedDocument.GetTextAsync()).ToString();
        }

        Assert.Equal(expected.Keys.Order(StringComparer.Ordinal), actual.Keys.Order(StringComparer.Ordinal));
        foreach (var (name, text) in expected)
        {
            Assert.Equal(Normalize(text), Normalize(actual[name]));
        }

        var fixedSources = new List<string>();
        foreach (var fixedDocument in changed.GetProject(projectId)!.Documents.OrderBy(d => d.Name == FileName ? 0 : 1))
        {
            fixedSources.Add((await fixedDocument.GetTextAsync()).ToString());
        }

        var analysis = await AnalyzeAsync(fixedSources);
        Assert.True(analysis.CompilerProblems.Count == 0 && analysis.Ours.Count == 0,
            "the fixed source is not clean:\n" + string.Join("\n", analysis.CompilerProblems.Concat(analysis.Ours)) + "\n\n" + string.Join("\n----\n", fixedSources));
    }

    private static string Normalize(string text) => text.Replace("\r\n", "\n", StringComparison.Ordinal);

    private static string Describe(string source, Expected e) =>
        e.Id + " '" + source.Substring(e.Span.Start, Math.Min(e.Span.Length, 60)) + "'@" + e.Span.Start.ToString(System.Globalization.CultureInfo.InvariantCulture);

    private static ImmutableArray<MetadataReference> LoadReferences()
    {
        var runtimeDirectory = Path.GetDirectoryName(typeof(object).Assembly.Location)!;
        var paths = ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!).Split(Path.PathSeparator)
            .Where(p => Path.GetDirectoryName(p) == runtimeDirectory
                || Path.GetFileName(p).StartsWith("Microsoft.Extensions.", StringComparison.Ordinal)
                || Path.GetFileName(p) == "System.Text.Json.dll")
            .Where(static p => p.EndsWith(".dll", StringComparison.Ordinal))
            .GroupBy(Path.GetFileName)
            .Select(g => g.FirstOrDefault(p => Path.GetDirectoryName(p) != runtimeDirectory) ?? g.First())
            .Append(typeof(TaskAttribute).Assembly.Location);
        return [.. paths.Select(static p => (MetadataReference)MetadataReference.CreateFromFile(p))];
    }

    private static ISourceGenerator[] LoadJsonGenerators()
    {
        var path = typeof(Verifier).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(static a => a.Key == "JsonSourceGenerator").Value!;
        var reference = new AnalyzerFileReference(path, new AnalyzerLoader());
        return [.. reference.GetGenerators(LanguageNames.CSharp)];
    }

    private sealed class AnalyzerLoader : IAnalyzerAssemblyLoader
    {
        public void AddDependencyLocation(string fullPath)
        {
        }

        public Assembly LoadFromPath(string fullPath) => Assembly.LoadFrom(fullPath);
    }
}

/// <summary>A compilation after the generators ran, with the compiler's and the analyzers' diagnostics.</summary>
internal sealed record Analysis(Compilation Output, ImmutableArray<Diagnostic> Compiler, ImmutableArray<Diagnostic> Analyzer)
{
    public IReadOnlyList<Diagnostic> CompilerErrors => [.. Compiler.Where(static d => d.Severity == DiagnosticSeverity.Error)];

    public IReadOnlyList<Diagnostic> CompilerProblems => [.. Compiler.Where(static d => d.Severity >= DiagnosticSeverity.Warning)];

    /// <summary>The TypedJobs diagnostics, of every severity.</summary>
    public IReadOnlyList<Diagnostic> Ours => [.. Analyzer.Where(static d => d.Id.StartsWith("TJ", StringComparison.Ordinal))];
}
