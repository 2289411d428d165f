using System.Collections.Generic;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Text;
using TypedJobs.Generators.Emit;
using TypedJobs.Generators.Model;
using TypedJobs.Generators.Parsing;

namespace TypedJobs.Generators;

/// <summary>
/// Generates, for every <c>[Task]</c> method, a typed enqueue stub on <c>IJobClient</c>, a reflection-free payload
/// serializer and the task registration, plus the assembly's task registry and the module initializer that
/// registers it and every referenced assembly's registry. It reports no diagnostics: tasks that break a rule are left
/// out, and the TypedJobs analyzers, which apply the same rules (<see cref="Rules.TaskRules"/>), report them.
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
            .WithTrackingName(TrackingNames.Parse);

        var tasks = parsed
            .Where(static t => t is not null)
            .Select(static (t, _) => t!)
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

        var generation = allTasks.Combine(contexts).Combine(assembly)
            .Select(static (x, _) => new GenerationModel(x.Left.Left, x.Left.Right, x.Right))
            .WithTrackingName(TrackingNames.Generation);

        context.RegisterSourceOutput(generation, static (spc, model) => Emit(spc, model));
    }

    private static void Emit(SourceProductionContext context, GenerationModel model)
    {
        foreach (var (hintName, source) in GenerateSources(model))
        {
            context.AddSource(hintName, SourceText.From(source, System.Text.Encoding.UTF8));
        }
    }

    internal static IEnumerable<(string HintName, string Source)> GenerateSources(GenerationModel model)
    {
        var contexts = JsonEmitter.ContextMap(model.Contexts);
        var stubNames = StubNames(model.Tasks);
        var taskClasses = new List<string>();
        foreach (var group in model.Tasks.GroupBy(static t => t.ContainingType).OrderBy(static g => g.Key, System.StringComparer.Ordinal))
        {
            var tasks = group.ToList();
            var first = tasks[0];
            taskClasses.Add(TaskEmitter.FullClassName(first));
            var hint = Names.Sanitize((first.Namespace.Length > 0 ? first.Namespace + "." : string.Empty) + TaskEmitter.ClassName(first)) + ".g.cs";
            yield return (hint, TaskEmitter.Emit(tasks, stubNames, contexts, Version));
        }

        if (taskClasses.Count > 0 || model.Assembly.ReferencedRegistries.Count > 0)
        {
            yield return ("TypedJobs.Registry.g.cs", RegistryEmitter.Emit(model.Assembly, taskClasses, model.Tasks.Select(static t => t.TaskName), Version));
        }
    }

    /// <summary>
    /// <c>Enqueue{Method}Async</c>, or <c>Enqueue{Type}{Method}Async</c> when tasks of two types in one namespace
    /// share a method name (their extension methods would otherwise be ambiguous).
    /// </summary>
    private static Dictionary<TaskModel, string> StubNames(EquatableArray<TaskModel> tasks)
    {
        var result = new Dictionary<TaskModel, string>();
        foreach (var group in tasks.GroupBy(static t => (t.Namespace, TaskEmitter.BaseStubName(t))))
        {
            var qualify = group.Select(static t => t.ContainingType).Distinct().Count() > 1;
            foreach (var task in group)
            {
                result[task] = qualify ? task.ContainingTypePath.Replace(".", string.Empty) + group.Key.Item2 : group.Key.Item2;
            }
        }

        return result;
    }
}
