using System.Collections.Immutable;
using System.Reflection;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using TypedJobs.Generators;

namespace TypedJobs.Generators.Tests.Support;

/// <summary>Compiles user source with the task generator (and optionally the System.Text.Json generator) in memory.</summary>
internal static class TestCompiler
{
    public static readonly CSharpParseOptions ParseOptions = new(LanguageVersion.Latest, DocumentationMode.Diagnose);

    private static readonly Lazy<ImmutableArray<MetadataReference>> References = new(LoadReferences);

    private static readonly Lazy<ISourceGenerator[]> JsonGenerators = new(LoadJsonGenerators);

    public static string TypedJobsPath => typeof(TaskAttribute).Assembly.Location;

    public static CSharpCompilation Create(string assemblyName, IEnumerable<string> sources, IEnumerable<MetadataReference>? extra = null,
        NullableContextOptions nullable = NullableContextOptions.Enable)
    {
        var trees = sources.Select((s, i) => CSharpSyntaxTree.ParseText(s, ParseOptions, path: $"{assemblyName}/Source{i}.cs"));
        var options = new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary,
            nullableContextOptions: nullable,
            warningLevel: 9999,
            optimizationLevel: OptimizationLevel.Debug,
            concurrentBuild: false);
        return CSharpCompilation.Create(assemblyName, trees, References.Value.AddRange(extra ?? []), options);
    }

    public static GeneratorDriver CreateDriver(bool withJson = false, Dictionary<string, string>? globalOptions = null)
    {
        var generators = new List<ISourceGenerator> { new TaskGenerator().AsSourceGenerator() };
        if (withJson)
        {
            generators.AddRange(JsonGenerators.Value);
        }

        return CSharpGeneratorDriver.Create(generators, parseOptions: ParseOptions,
            optionsProvider: globalOptions is null ? null : new GlobalOptionsProvider(globalOptions),
            driverOptions: new GeneratorDriverOptions(IncrementalGeneratorOutputKind.None, trackIncrementalGeneratorSteps: true));
    }

    /// <summary>Runs the generators; returns the updated compilation, the generators' diagnostics and the run result.</summary>
    /// <param name="compilation">The user's compilation.</param>
    /// <param name="withJson">Whether the System.Text.Json generator runs too.</param>
    /// <param name="globalOptions">MSBuild properties as the compiler passes them (<c>build_property.X</c>).</param>
    public static GeneratedCompilation Generate(CSharpCompilation compilation, bool withJson = false, Dictionary<string, string>? globalOptions = null)
    {
        var driver = CreateDriver(withJson, globalOptions).RunGeneratorsAndUpdateCompilation(compilation, out var output, out var diagnostics);
        return new GeneratedCompilation((CSharpCompilation)output, diagnostics, driver.GetRunResult());
    }

    /// <summary>
    /// Compiles <paramref name="sources"/> with the generators and fails on any error and on any warning (warning level
    /// 9999, nullable and documentation checks on): in generated code every warning counts; in the test's own sources
    /// every warning but a missing XML comment (CS1591) does.
    /// </summary>
    public static (byte[] Image, GeneratedCompilation Generated) Build(string assemblyName, IEnumerable<string> sources,
        IEnumerable<MetadataReference>? extra = null, bool withJson = false)
    {
        var generated = Generate(Create(assemblyName, sources, extra), withJson);
        var problems = Problems(generated);
        if (problems.Count > 0)
        {
            throw new InvalidOperationException("Compilation failed:\n" + string.Join("\n", problems) + "\n\n" + generated.GeneratedText());
        }

        using var stream = new MemoryStream();
        var result = generated.Output.Emit(stream);
        if (!result.Success)
        {
            throw new InvalidOperationException("Emit failed:\n" + string.Join("\n", result.Diagnostics.Where(static d => d.Severity == DiagnosticSeverity.Error)));
        }

        return (stream.ToArray(), generated);
    }

    /// <summary>
    /// The errors and warnings <see cref="Build"/> fails on: the compiler's, and in generated code also those of the
    /// SDK's code analyzers with every rule enabled as a warning, as <c>AnalysisLevel latest-all</c> does.
    /// </summary>
    public static List<Diagnostic> Problems(GeneratedCompilation generated)
    {
        var compiler = generated.GeneratorDiagnostics.Concat(generated.Output.GetDiagnostics())
            .Where(d => d.Severity == DiagnosticSeverity.Error
                || (d.Severity == DiagnosticSeverity.Warning && (IsGenerated(d) || d.Id != "CS1591")));
        var analyzers = LatestAll.Value;
        var options = generated.Output.Options.WithSpecificDiagnosticOptions(
            analyzers.SelectMany(static a => a.SupportedDiagnostics).Select(static d => d.Id).Distinct()
                .Select(static id => KeyValuePair.Create(id, ReportDiagnostic.Warn)));
        var codeAnalysis = Microsoft.CodeAnalysis.Diagnostics.DiagnosticAnalyzerExtensions.WithAnalyzers(generated.Output.WithOptions(options), analyzers)
            .GetAnalyzerDiagnosticsAsync(CancellationToken.None).GetAwaiter().GetResult()
            .Where(d => d.Severity >= DiagnosticSeverity.Warning && IsGenerated(d));
        return [.. compiler.Concat(codeAnalysis)];
    }

    private static readonly Lazy<ImmutableArray<Microsoft.CodeAnalysis.Diagnostics.DiagnosticAnalyzer>> LatestAll = new(LoadNetAnalyzers);

    private static ImmutableArray<Microsoft.CodeAnalysis.Diagnostics.DiagnosticAnalyzer> LoadNetAnalyzers()
    {
        var directory = typeof(TestCompiler).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(static a => a.Key == "NetAnalyzersDirectory").Value!;
        var failures = new List<string>();
        var analyzers = new List<Microsoft.CodeAnalysis.Diagnostics.DiagnosticAnalyzer>();
        foreach (var name in new[] { "Microsoft.CodeAnalysis.NetAnalyzers.dll", "Microsoft.CodeAnalysis.CSharp.NetAnalyzers.dll" })
        {
            var reference = new Microsoft.CodeAnalysis.Diagnostics.AnalyzerFileReference(Path.Combine(directory, name), new AnalyzerLoader());
            reference.AnalyzerLoadFailed += (_, e) => failures.Add(name + ": " + e.Message);
            analyzers.AddRange(reference.GetAnalyzers(LanguageNames.CSharp));
        }

        if (failures.Count > 0 || analyzers.Count < 100)
        {
            throw new InvalidOperationException($"The SDK's code analyzers did not load ({analyzers.Count} loaded): " + string.Join("; ", failures));
        }

        return [.. analyzers];
    }

    /// <summary>Whether a diagnostic is located in a generated source.</summary>
    public static bool IsGenerated(Diagnostic diagnostic) =>
        diagnostic.Location.SourceTree?.FilePath.Contains("TypedJobs.Generators", StringComparison.Ordinal) ?? false;

    /// <summary>Runs the TypedJobs analyzers on an already generated compilation; returns their diagnostics.</summary>
    public static ImmutableArray<Diagnostic> Analyze(Compilation compilation)
    {
        ImmutableArray<Microsoft.CodeAnalysis.Diagnostics.DiagnosticAnalyzer> analyzers =
        [
            new TypedJobs.Analyzers.TaskAnalyzer(), new TypedJobs.Analyzers.DuplicateTaskNameAnalyzer(),
            new TypedJobs.Analyzers.CancellationAnalyzer(), new TypedJobs.Analyzers.EnqueueInLoopAnalyzer(),
            new TypedJobs.Analyzers.ContractAnalyzer(), new TypedJobs.Analyzers.ContractDriftAnalyzer(),
        ];
        return Microsoft.CodeAnalysis.Diagnostics.DiagnosticAnalyzerExtensions.WithAnalyzers(compilation, analyzers).GetAnalyzerDiagnosticsAsync(CancellationToken.None).GetAwaiter().GetResult();
    }

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
            .Append(TypedJobsPath);
        return [.. paths.Select(static p => (MetadataReference)MetadataReference.CreateFromFile(p))];
    }

    private static ISourceGenerator[] LoadJsonGenerators()
    {
        var path = typeof(TestCompiler).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(static a => a.Key == "JsonSourceGenerator").Value!;
        var reference = new Microsoft.CodeAnalysis.Diagnostics.AnalyzerFileReference(path, new AnalyzerLoader());
        return [.. reference.GetGenerators(LanguageNames.CSharp)];
    }

    private sealed class GlobalOptionsProvider(Dictionary<string, string> values) : Microsoft.CodeAnalysis.Diagnostics.AnalyzerConfigOptionsProvider
    {
        public override Microsoft.CodeAnalysis.Diagnostics.AnalyzerConfigOptions GlobalOptions { get; } = new Options(values);

        public override Microsoft.CodeAnalysis.Diagnostics.AnalyzerConfigOptions GetOptions(SyntaxTree tree) => Options.Empty;

        public override Microsoft.CodeAnalysis.Diagnostics.AnalyzerConfigOptions GetOptions(AdditionalText textFile) => Options.Empty;

        private sealed class Options(Dictionary<string, string> values) : Microsoft.CodeAnalysis.Diagnostics.AnalyzerConfigOptions
        {
            public static readonly Options Empty = new([]);

            public override bool TryGetValue(string key, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out string? value) => values.TryGetValue(key, out value);
        }
    }

    private sealed class AnalyzerLoader : Microsoft.CodeAnalysis.IAnalyzerAssemblyLoader
    {
        public void AddDependencyLocation(string fullPath)
        {
        }

        public Assembly LoadFromPath(string fullPath) => Assembly.LoadFrom(fullPath);
    }
}

/// <summary>A compilation after the generators ran.</summary>
internal sealed record GeneratedCompilation(CSharpCompilation Output, ImmutableArray<Diagnostic> GeneratorDiagnostics, GeneratorDriverRunResult RunResult)
{
    /// <summary>The generated sources of the task generator, by hint name.</summary>
    public IReadOnlyList<(string HintName, string Text)> Sources =>
        [.. RunResult.Results.Where(static r => r.Generator.GetGeneratorType() == typeof(TaskGenerator))
            .SelectMany(static r => r.GeneratedSources)
            .Select(static s => (s.HintName, s.SourceText.ToString()))];

    public string GeneratedText() => string.Join("\n", Sources.Select(static s => "// ---- " + s.HintName + "\n" + s.Text));
}
