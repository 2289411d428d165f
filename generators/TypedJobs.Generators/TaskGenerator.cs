using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Text;
using TypedJobs.Generators.Diagnostics;
using TypedJobs.Generators.Emit;
using TypedJobs.Generators.Model;
using TypedJobs.Generators.Parsing;

namespace TypedJobs.Generators;

/// <summary>
/// Generates, for every <c>[Task]</c> method, a typed enqueue stub on <c>IJobClient</c>, a reflection-free payload
/// serializer and the task registration, plus the assembly's JSON helpers, its task registry and the module initializer
/// that registers it and every referenced assembly's registry. Tasks that break a rule are left out, and the TypedJobs
/// analyzers, which apply the same rules (<see cref="Rules.TaskRules"/>), report them; only when the build runs no
/// analyzers (<c>RunAnalyzers</c> or <c>RunAnalyzersDuringBuild</c> is <c>false</c>) does the generator report the
/// problems that skip a task itself, so a skipped task is never silent.
/// </summary>
[Generator(LanguageNames.CSharp)]
public sealed class TaskGenerator : IIncrementalGenerator
{
    private const string TaskAttributeName = "TypedJobs.TaskAttribute";

    private static readonly string Version = typeof(TaskGenerator).Assembly.GetName().Version?.ToString() ?? "0.0.0.0";

    /// <inheritdoc />
    public void Initialize(IncrementalGeneratorInitializationContext context)
    {
        var parsed = context.SyntaxProvider
            .ForAttributeWithMetadataName(TaskAttributeName, static (node, _) => node is MethodDeclarationSyntax, TaskParser.Parse)
            .Where(static r => r is not null)
            .Select(static (r, _) => r!)
            .WithTrackingName(TrackingNames.Parse);

        var tasks = parsed
            .Where(static r => r.Task is not null)
            .Select(static (r, _) => r.Task!)
            .WithTrackingName(TrackingNames.Tasks);

        var allTasks = tasks.Collect()
            .Select(static (t, _) => t.ToEquatableArray())
            .WithTrackingName(TrackingNames.AllTasks);

        var contexts = context.SyntaxProvider
            .ForAttributeWithMetadataName(JsonContextParser.AttributeName, static (node, _) => node is ClassDeclarationSyntax, JsonContextParser.Parse)
            .WithTrackingName(TrackingNames.JsonContexts)
            .Collect()
            .Select(static (c, _) => c.SelectMany(static e => e).ToEquatableArray())
            .WithTrackingName(TrackingNames.AllJsonContexts);

        var assembly = context.CompilationProvider
            .Select(static (c, ct) => AssemblyParser.Parse(c, ct))
            .WithTrackingName(TrackingNames.Assembly);
        var assemblyName = assembly.Select(static (a, _) => a.AssemblyName);

        // One file per containing type: an edit to one type's tasks regenerates that file only.
        var types = allTasks.Combine(assemblyName)
            .SelectMany(static (x, _) => Layout.Group(x.Left, JsonEmitter.ClassName(x.Right)))
            .WithTrackingName(TrackingNames.Types);
        context.RegisterSourceOutput(types, static (spc, type) =>
            spc.AddSource(type.HintName, SourceText.From(TypeEmitter.Emit(type, Version), System.Text.Encoding.UTF8)));

        // One JSON helper class per assembly, for the shapes of every task.
        var json = allTasks
            .Select(static (t, _) => t.SelectMany(static task => task.Types).GroupBy(static s => s.Key).Select(static g => g.First())
                .OrderBy(static s => s.Key, System.StringComparer.Ordinal).ToEquatableArray())
            .Combine(contexts)
            .Combine(assemblyName)
            .Select(static (x, _) => (Name: x.Right, Model: new JsonModel(JsonEmitter.ClassName(x.Right), x.Left.Left, x.Left.Right)))
            .WithTrackingName(TrackingNames.Json);
        context.RegisterSourceOutput(json, static (spc, x) =>
        {
            if (x.Model.Shapes.Count > 0)
            {
                spc.AddSource("TypedJobs.Json.g.cs", SourceText.From(JsonEmitter.Emit(x.Name, x.Model, Version), System.Text.Encoding.UTF8));
            }
        });

        var registry = allTasks
            .Select(static (t, _) => (
                Classes: Layout.Group(t, string.Empty).Select(TypeEmitter.FullClassName).ToEquatableArray(),
                Names: t.Select(static task => task.TaskName).ToEquatableArray()))
            .Combine(assembly)
            .Select(static (x, _) => new RegistryModel(x.Right, x.Left.Classes, x.Left.Names))
            .WithTrackingName(TrackingNames.Registry);
        context.RegisterSourceOutput(registry, static (spc, model) =>
        {
            if (model.TaskClasses.Count > 0 || model.Assembly.ReferencedRegistries.Count > 0)
            {
                spc.AddSource("TypedJobs.Registry.g.cs", SourceText.From(RegistryEmitter.Emit(model, Version), System.Text.Encoding.UTF8));
            }
        });

        // Problems that skip a task, reported by the generator only when the analyzers do not run.
        var analyzersOff = context.AnalyzerConfigOptionsProvider
            .Select(static (o, _) => IsFalse(o.GlobalOptions, "build_property.RunAnalyzers") || IsFalse(o.GlobalOptions, "build_property.RunAnalyzersDuringBuild"))
            .WithTrackingName(TrackingNames.AnalyzersOff);
        var problems = parsed
            .Where(static r => r.Problems.Count > 0)
            .Select(static (r, _) => r.Problems)
            .Combine(analyzersOff)
            .WithTrackingName(TrackingNames.Problems);
        context.RegisterSourceOutput(problems, static (spc, x) =>
        {
            if (!x.Right)
            {
                return;
            }

            foreach (var problem in x.Left)
            {
                var descriptor = DiagnosticDescriptors.All.First(d => d.Id == problem.Id);
                spc.ReportDiagnostic(Diagnostic.Create(descriptor, problem.Location?.ToLocation(), problem.Arguments.Cast<object>().ToArray()));
            }
        });
    }

    private static bool IsFalse(Microsoft.CodeAnalysis.Diagnostics.AnalyzerConfigOptions options, string key) =>
        options.TryGetValue(key, out var value) && string.Equals(value.Trim(), "false", System.StringComparison.OrdinalIgnoreCase);
}
