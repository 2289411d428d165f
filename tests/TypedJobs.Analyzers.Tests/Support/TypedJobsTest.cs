using System.Collections.Immutable;
using System.Reflection;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Testing;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Testing;
using TypedJobs.CodeFixes;
using TypedJobs.Generators;

namespace TypedJobs.Analyzers.Tests.Support;

/// <summary>
/// An analyzer and code-fix test (Microsoft.CodeAnalysis.Testing) with every TypedJobs analyzer and code fix, the
/// TypedJobs generator and the System.Text.Json generator, as a build of a project that references the package runs
/// them: nullable enabled, the SDK's net10.0 reference assemblies (offline) plus TypedJobs and Microsoft.Extensions.
/// Expected diagnostics are marked in the sources as <c>{|TJ1001:text|}</c>; compiler errors must be marked too.
/// </summary>
internal sealed class TypedJobsTest : CSharpCodeFixTest<TaskAnalyzer, AddJsonSerializableCodeFix, DefaultVerifier>
{
    public static readonly ImmutableArray<DiagnosticAnalyzer> Analyzers =
    [
        new TaskAnalyzer(), new DuplicateTaskNameAnalyzer(), new CancellationAnalyzer(), new EnqueueInLoopAnalyzer(),
        new ContractAnalyzer(), new ContractDriftAnalyzer(),
    ];

    public static readonly ImmutableArray<CodeFixProvider> CodeFixes =
    [
        new AddJsonSerializableCodeFix(), new AddCancellationTokenCodeFix(), new RecurringParameterCodeFix(),
        new MakeTaskAccessibleCodeFix(), new RenameTaskCodeFix(), new AsyncVoidTaskCodeFix(),
        new ContractSignatureCodeFix(), new ContractSettingCodeFix(),
    ];

    private static readonly Lazy<ImmutableArray<MetadataReference>> LazyReferences = new(LoadReferences);

    private static readonly Lazy<AnalyzerReference[]> GeneratorReferences = new(LoadGenerators);

    public TypedJobsTest(bool unsafeCode = false)
    {
        ReferenceAssemblies = new ReferenceAssemblies("net10.0");
        // TJ1003-TJ1005 and TJ1007 are declared by both the task and the contract analyzers (one rule, two kinds of
        // declaration); a marker takes the first descriptor, and each analyzer reports only on its own declarations.
        MarkupOptions = MarkupOptions.UseFirstDescriptor;
        TestState.AdditionalReferences.AddRange(References);
        SolutionTransforms.Add((solution, projectId) =>
        {
            var project = solution.GetProject(projectId)!;
            var options = ((CSharpCompilationOptions)project.CompilationOptions!)
                .WithNullableContextOptions(NullableContextOptions.Enable)
                .WithAllowUnsafe(unsafeCode);
            // The generators come as analyzer references, as from a package, so the workspace's own compilation (the
            // one code fixes see) holds the generated stubs too.
            return solution
                .WithProjectCompilationOptions(projectId, options)
                .WithProjectParseOptions(projectId, ((CSharpParseOptions)project.ParseOptions!).WithLanguageVersion(LanguageVersion.Latest))
                .AddAnalyzerReferences(projectId, GeneratorReferences.Value);
        });
    }

    /// <summary>The net10.0 reference assemblies, TypedJobs and the Microsoft.Extensions assemblies it uses.</summary>
    public static ImmutableArray<MetadataReference> References => LazyReferences.Value;

    /// <summary>The analyzers report exactly the markers of <paramref name="markup"/> (and the other sources compile).</summary>
    public static Task VerifyAsync(string markup, params string[] otherSources) => VerifyAsync(markup, [], false, otherSources);

    /// <summary>As <see cref="VerifyAsync(string, string[])"/>, with extra references and optionally unsafe code.</summary>
    public static async Task VerifyAsync(string markup, IEnumerable<MetadataReference> extra, bool unsafeCode, params string[] otherSources)
    {
        var test = new TypedJobsTest(unsafeCode) { TestCode = markup };
        foreach (var source in otherSources)
        {
            test.TestState.Sources.Add(source);
        }
        test.TestState.AdditionalReferences.AddRange(extra);
        await test.RunAsync();
    }

    /// <summary>The analyzers report exactly <paramref name="expected"/> (located with <c>{|#0:…|}</c> markers, with their messages).</summary>
    public static async Task VerifyMessagesAsync(string markup, params DiagnosticResult[] expected)
    {
        var test = new TypedJobsTest { TestCode = markup };
        test.ExpectedDiagnostics.AddRange(expected);
        await test.RunAsync();
    }

    /// <summary>A diagnostic expected at the markup location <c>{|#<paramref name="index"/>:…|}</c> with exactly <paramref name="message"/>.</summary>
    public static DiagnosticResult Expect(string id, int index, string message) =>
        new DiagnosticResult(Generators.Diagnostics.DiagnosticDescriptors.All.Single(d => d.Id == id)).WithLocation(index).WithMessage(message);

    protected override IEnumerable<DiagnosticAnalyzer> GetDiagnosticAnalyzers() => Analyzers;

    protected override IEnumerable<CodeFixProvider> GetCodeFixProviders() => CodeFixes;

    private static ImmutableArray<MetadataReference> LoadReferences()
    {
        var metadata = typeof(TypedJobsTest).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().ToDictionary(static a => a.Key, static a => a.Value);
        var framework = Directory.GetFiles(metadata["NetCoreReferenceDirectory"]!, "*.dll");
        var extensions = ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!).Split(Path.PathSeparator)
            .Where(static p => Path.GetFileName(p).StartsWith("Microsoft.Extensions.", StringComparison.Ordinal) && p.EndsWith(".dll", StringComparison.Ordinal));
        return [.. framework.Concat(extensions).Append(typeof(TaskAttribute).Assembly.Location)
            .Select(static p => (MetadataReference)MetadataReference.CreateFromFile(p))];
    }

    private static AnalyzerReference[] LoadGenerators()
    {
        var json = typeof(TypedJobsTest).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(static a => a.Key == "JsonSourceGenerator").Value!;
        return [new AnalyzerFileReference(typeof(TaskGenerator).Assembly.Location, Loader.Instance), new AnalyzerFileReference(json, Loader.Instance)];
    }

    private sealed class Loader : IAnalyzerAssemblyLoader
    {
        public static readonly Loader Instance = new();

        public void AddDependencyLocation(string fullPath)
        {
        }

        public Assembly LoadFromPath(string fullPath) => Assembly.LoadFrom(fullPath);
    }
}

/// <summary>Compiles a task library with the TypedJobs generator, as a build would, for tests that reference one.</summary>
internal static class Library
{
    public static MetadataReference Compile(string name, string source, params MetadataReference[] references) =>
        MetadataReference.CreateFromImage(Emit(name, source, references));

    /// <summary>
    /// The contract baseline of <paramref name="source"/> as the <c>UpdateTaskContract</c> build target writes it: the text
    /// the generator embeds in the built assembly (<c>[assembly: AssemblyMetadata("TypedJobs.Contract", …)]</c>).
    /// </summary>
    public static string Baseline(string source, params MetadataReference[] references)
    {
        using var pe = new System.Reflection.PortableExecutable.PEReader(new MemoryStream(Emit("TestProject", source, references)));
        var metadata = System.Reflection.Metadata.PEReaderExtensions.GetMetadataReader(pe);
        foreach (var handle in metadata.GetAssemblyDefinition().GetCustomAttributes())
        {
            var attribute = metadata.GetCustomAttribute(handle);
            if (attribute.Constructor.Kind != System.Reflection.Metadata.HandleKind.MemberReference
                || metadata.GetMemberReference((System.Reflection.Metadata.MemberReferenceHandle)attribute.Constructor).Parent is not { Kind: System.Reflection.Metadata.HandleKind.TypeReference } parent
                || metadata.GetString(metadata.GetTypeReference((System.Reflection.Metadata.TypeReferenceHandle)parent).Name) != "AssemblyMetadataAttribute")
            {
                continue;
            }

            var blob = metadata.GetBlobReader(attribute.Value);
            if (blob.Length > 2 && blob.ReadUInt16() == 1 && blob.ReadSerializedString() == "TypedJobs.Contract")
            {
                return blob.ReadSerializedString()!;
            }
        }

        throw new InvalidOperationException("The assembly has no contract baseline.");
    }

    private static byte[] Emit(string name, string source, MetadataReference[] references)
    {
        var compilation = CSharpCompilation.Create(name, [CSharpSyntaxTree.ParseText(source, new CSharpParseOptions(LanguageVersion.Latest))],
            TypedJobsTest.References.AddRange(references), new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable));
        CSharpGeneratorDriver.Create(new TaskGenerator()).RunGeneratorsAndUpdateCompilation(compilation, out var output, out _);
        using var stream = new MemoryStream();
        var result = output.Emit(stream);
        Assert.True(result.Success, string.Join("\n", result.Diagnostics));
        return stream.ToArray();
    }
}
