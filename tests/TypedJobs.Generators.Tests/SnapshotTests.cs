using TypedJobs.Generators.Tests.Support;

namespace TypedJobs.Generators.Tests;

/// <summary>The generated code, compared with committed snapshots.</summary>
public sealed class SnapshotTests
{
    [Fact]
    public void EmailSample_MatchesSnapshots() => VerifyAll("Email", Samples.Email);

    [Fact]
    public void PayloadKinds_MatchSnapshots() => VerifyAll("Kinds", Samples.Types);

    [Fact]
    public void CornerCases_MatchSnapshots() => VerifyAll("Corners", Samples.Corners);

    [Fact]
    public void SensitiveMembers_MatchSnapshots() => VerifyAll("Sensitive", Samples.Sensitive);

    [Fact]
    public void HostRegistry_ListsItsOwnAndReferencedRegistries()
    {
        var library = JobProgram.CompileLibrary("Shop.Library", Samples.Library);
        var generated = TestCompiler.Generate(TestCompiler.Create("Shop.Host", [Samples.Email], [library.Reference]));

        var registry = generated.Sources.Single(static s => s.HintName == "TypedJobs.Registry.g.cs");

        Snapshot.Verify(registry.Text, "Host.Registry");
    }

    private static void VerifyAll(string name, string source)
    {
        var generated = TestCompiler.Generate(TestCompiler.Create("Shop", [source]));
        Assert.Empty(generated.GeneratorDiagnostics);
        Assert.NotEmpty(generated.Sources);
        foreach (var (hintName, text) in generated.Sources)
        {
            Snapshot.Verify(text, name + "." + hintName.Replace(".g.cs", string.Empty, StringComparison.Ordinal));
        }
    }
}
