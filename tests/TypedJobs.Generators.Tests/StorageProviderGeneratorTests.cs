using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using TypedJobs.Generators.Tests.Support;

namespace TypedJobs.Generators.Tests;

/// <summary>The host lists the storage providers of the assemblies it references, without scanning.</summary>
public sealed class StorageProviderGeneratorTests
{
    private const string Storage = """
        using System;
        using System.Collections.Generic;
        using TypedJobs;
        using TypedJobs.Storage;

        [assembly: StorageProvider(typeof(Acme.Storage.AcmeProvider))]
        [assembly: StorageProvider(typeof(Acme.Storage.HiddenProvider))]
        [assembly: StorageProvider(typeof(Acme.Storage.AbstractProvider))]

        namespace Acme.Storage
        {
            public sealed class AcmeProvider : StorageProvider
            {
                public override string Name => "acme";
                public override IReadOnlyList<string> Schemes => new[] { "acme" };
                public override StorageRoles Roles => StorageRoles.All;
                public override void Validate(StorageUrl url, StorageProviderContext context) { }
                public override object Create(StorageUrl url, StorageProviderContext context) => new object();
            }

            internal sealed class HiddenProvider : StorageProvider
            {
                public override string Name => "hidden";
                public override IReadOnlyList<string> Schemes => new[] { "hidden" };
                public override StorageRoles Roles => StorageRoles.All;
                public override void Validate(StorageUrl url, StorageProviderContext context) { }
                public override object Create(StorageUrl url, StorageProviderContext context) => new object();
            }

            public abstract class AbstractProvider : StorageProvider
            {
            }
        }
        """;

    private static (GeneratorDriver Driver, CSharpCompilation Output, GeneratorRunResult Run) Run(CSharpCompilation compilation, GeneratorDriver? driver = null)
    {
        driver ??= CSharpGeneratorDriver.Create([new StorageProviderGenerator().AsSourceGenerator()], parseOptions: TestCompiler.ParseOptions,
            driverOptions: new GeneratorDriverOptions(IncrementalGeneratorOutputKind.None, trackIncrementalGeneratorSteps: true));
        driver = driver.RunGeneratorsAndUpdateCompilation(compilation, out var output, out _);
        return (driver, (CSharpCompilation)output, driver.GetRunResult().Results.Single());
    }

    private static MetadataReference StorageLibrary()
    {
        var library = TestCompiler.Create("Acme.Storage", [Storage]);
        using var image = new MemoryStream();
        var emit = library.Emit(image);
        Assert.True(emit.Success, string.Join(Environment.NewLine, emit.Diagnostics));
        return MetadataReference.CreateFromImage(image.ToArray());
    }

    [Fact]
    public void Host_RegistersThePublicProvidersOfItsReferences_AndCompilesCleanly()
    {
        var host = TestCompiler.Create("Host", ["/// <summary>The host.</summary>\npublic static class Program { /// <summary>Runs.</summary>\n public static void Main() { } }"], [StorageLibrary()]);

        var (_, output, run) = Run(host);

        var source = Assert.Single(run.GeneratedSources).SourceText.ToString();
        Assert.Contains("global::TypedJobs.Storage.StorageProviders.Add(typeof(global::Acme.Storage.AcmeProvider), static () => new global::Acme.Storage.AcmeProvider());", source);
        Assert.DoesNotContain("HiddenProvider", source);
        Assert.DoesNotContain("AbstractProvider", source);
        Assert.Contains("[global::System.Runtime.CompilerServices.ModuleInitializer]", source);
        Assert.Empty(output.GetDiagnostics().Where(static d => d.Severity >= DiagnosticSeverity.Warning));
    }

    [Fact]
    public void Host_WithoutStorageReferences_GetsNothing()
    {
        var host = TestCompiler.Create("Plain", ["/// <summary>The host.</summary>\npublic static class Program { /// <summary>Runs.</summary>\n public static void Main() { } }"]);

        var (_, _, run) = Run(host);

        Assert.Empty(run.GeneratedSources);
    }

    [Fact]
    public void UnrelatedEdit_LeavesTheProviderListCached()
    {
        var host = TestCompiler.Create("Host", ["/// <summary>The host.</summary>\npublic static class Program { /// <summary>Runs.</summary>\n public static void Main() { } }"], [StorageLibrary()]);
        var (driver, _, _) = Run(host);

        var edited = host.AddSyntaxTrees(CSharpSyntaxTree.ParseText("public static class Other { }", TestCompiler.ParseOptions));
        var (_, _, run) = Run(edited, driver);

        var steps = run.TrackedSteps[StorageProviderGenerator.TrackingName];
        Assert.All(steps.SelectMany(static s => s.Outputs), static o => Assert.Contains(o.Reason, new[] { IncrementalStepRunReason.Cached, IncrementalStepRunReason.Unchanged }));
        Assert.All(run.TrackedOutputSteps.SelectMany(static s => s.Value).SelectMany(static s => s.Outputs),
            static o => Assert.Contains(o.Reason, new[] { IncrementalStepRunReason.Cached, IncrementalStepRunReason.Unchanged }));
    }
}
