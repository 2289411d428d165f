using System.Collections;
using System.Reflection;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using TypedJobs.Generators.Tests.Support;

namespace TypedJobs.Generators.Tests;

/// <summary>The pipeline caches: an unrelated edit reuses every step, and no model holds compiler objects.</summary>
public sealed class IncrementalTests
{
    private const string Unrelated = "namespace Other { public static class Unrelated { } }";

    private const string Context = """
        using System.Text.Json.Serialization;

        namespace Shop.Jobs
        {
            [JsonSerializable(typeof(System.Version))]
            internal sealed partial class AppJson : JsonSerializerContext
            {
            }
        }
        """;

    [Fact]
    public void UnrelatedEdit_LeavesEveryTrackedStepCachedOrUnchanged()
    {
        // The contract library and its implementation in one compilation, so the contract steps are tracked too.
        var compilation = TestCompiler.Create("Shop", [Samples.Email, Samples.Types, Context, Unrelated, ContractSamples.Shared, ContractSamples.Worker]);
        var driver = TestCompiler.CreateDriver().RunGenerators(compilation);
        var first = driver.GetRunResult().Results.Single();

        // Problems and AnalyzersOff run only when a task is skipped; the samples have none.
        Assert.All(TrackingNames.All.Where(static n => n is not (TrackingNames.Problems or TrackingNames.AnalyzersOff)), name => Assert.True(first.TrackedSteps.ContainsKey(name), $"step {name} was not tracked"));

        var edited = Edit(compilation, 3, "namespace Other { public static class Unrelated { public static int Value => 42; } }");
        var second = driver.RunGenerators(edited).GetRunResult().Results.Single();

        foreach (var name in TrackingNames.All)
        {
            foreach (var step in second.TrackedSteps.GetValueOrDefault(name, []))
            {
                foreach (var (_, reason) in step.Outputs)
                {
                    Assert.True(reason is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged, $"step {name} was {reason}");
                }
            }
        }

        Assert.All(second.TrackedOutputSteps.SelectMany(static s => s.Value).SelectMany(static s => s.Outputs),
            static o => Assert.True(o.Reason is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged, $"output was {o.Reason}"));
    }

    [Fact]
    public void EditThatShiftsLines_LeavesEveryOutputCachedOrUnchanged()
    {
        // The contract library and its implementation in one compilation, so the contract steps are tracked too.
        var compilation = TestCompiler.Create("Shop", [Samples.Email, Samples.Types, Context, Unrelated, ContractSamples.Shared, ContractSamples.Worker]);
        var driver = TestCompiler.CreateDriver().RunGenerators(compilation);

        // Blank lines and a comment above the tasks move every declaration of both task files.
        var edited = Edit(Edit(compilation, 0, "// moved\n\n\n" + Samples.Email), 1, "\n\n" + Samples.Types);
        var second = driver.RunGenerators(edited).GetRunResult().Results.Single();

        foreach (var name in TrackingNames.All)
        {
            foreach (var step in second.TrackedSteps.GetValueOrDefault(name, []))
            {
                foreach (var (_, reason) in step.Outputs)
                {
                    Assert.True(reason is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged, $"step {name} was {reason}");
                }
            }
        }

        var outputs = second.TrackedOutputSteps.SelectMany(static s => s.Value).SelectMany(static s => s.Outputs).ToList();
        Assert.NotEmpty(outputs);
        Assert.All(outputs, static o => Assert.True(o.Reason is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged, $"output was {o.Reason}"));
    }

    [Fact]
    public void EditToOneType_RegeneratesOnlyThatTypesFile()
    {
        // The contract library and its implementation in one compilation, so the contract steps are tracked too.
        var compilation = TestCompiler.Create("Shop", [Samples.Email, Samples.Types, Context, Unrelated, ContractSamples.Shared, ContractSamples.Worker]);
        var driver = TestCompiler.CreateDriver().RunGenerators(compilation);

        var edited = Edit(compilation, 0, Samples.Email.Replace("int limit = 100", "int limit = 200", StringComparison.Ordinal));
        var second = driver.RunGenerators(edited).GetRunResult().Results.Single();

        var types = second.TrackedSteps[TrackingNames.Types].SelectMany(static s => s.Outputs).ToList();
        Assert.Single(types, static o => o.Reason == IncrementalStepRunReason.Modified);
        Assert.Equal(2, types.Count(static o => o.Reason is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged));
    }

    [Fact]
    public void EditToATask_RegeneratesItsOutput()
    {
        // The contract library and its implementation in one compilation, so the contract steps are tracked too.
        var compilation = TestCompiler.Create("Shop", [Samples.Email, Samples.Types, Context, Unrelated, ContractSamples.Shared, ContractSamples.Worker]);
        var driver = TestCompiler.CreateDriver().RunGenerators(compilation);

        var edited = Edit(compilation, 0, Samples.Email.Replace("int limit = 100", "int limit = 200", StringComparison.Ordinal));
        var second = driver.RunGenerators(edited).GetRunResult().Results.Single();

        Assert.Contains(second.TrackedSteps[TrackingNames.Types].SelectMany(static s => s.Outputs), static o => o.Reason == IncrementalStepRunReason.Modified);
        Assert.Contains("int limit = 200", second.GeneratedSources.Single(static s => s.HintName.Contains("Reports", StringComparison.Ordinal)).SourceText.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void StepOutputs_HoldNoSymbolsSyntaxOrCompilation()
    {
        // The contract library and its implementation in one compilation, so the contract steps are tracked too.
        var compilation = TestCompiler.Create("Shop", [Samples.Email, Samples.Types, Context, Unrelated, ContractSamples.Shared, ContractSamples.Worker]);
        var result = TestCompiler.CreateDriver().RunGenerators(compilation).GetRunResult().Results.Single();

        var checkedObjects = 0;
        foreach (var name in TrackingNames.All)
        {
            foreach (var step in result.TrackedSteps.GetValueOrDefault(name, []))
            {
                foreach (var (value, _) in step.Outputs)
                {
                    checkedObjects += Walk(value, name, new HashSet<object>(ReferenceEqualityComparer.Instance));
                }
            }
        }

        Assert.True(checkedObjects > 100, $"only {checkedObjects} objects were walked");
    }

    private static Compilation Edit(Compilation compilation, int index, string text)
    {
        var old = compilation.SyntaxTrees.ElementAt(index);
        return compilation.ReplaceSyntaxTree(old, CSharpSyntaxTree.ParseText(text, TestCompiler.ParseOptions, old.FilePath));
    }

    private static int Walk(object? value, string step, HashSet<object> seen)
    {
        if (value is null || value is string || value.GetType().IsPrimitive || value.GetType().IsEnum)
        {
            return 0;
        }

        Assert.False(value is ISymbol or SyntaxNode or SyntaxTree or Compilation or SemanticModel,
            $"step {step} holds a {value.GetType().Name}");
        if (!value.GetType().IsValueType && !seen.Add(value))
        {
            return 0;
        }

        var count = 1;
        if (value is IEnumerable sequence)
        {
            foreach (var item in sequence)
            {
                count += Walk(item, step, seen);
            }
        }

        for (var type = value.GetType(); type is not null && type != typeof(object); type = type.BaseType)
        {
            foreach (var field in type.GetFields(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly))
            {
                if (field.FieldType.IsPointer || field.FieldType.IsByRefLike)
                {
                    continue;
                }

                count += Walk(field.GetValue(value), step, seen);
            }
        }

        return count;
    }
}
