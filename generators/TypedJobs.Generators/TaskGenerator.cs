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

        // Task contracts: the tasks of [TaskContract] interfaces get stubs and payloads without handlers (one file per
        // interface); a class that implements one gets the handlers, under the contract's names and settings.
        var contractTasks = context.SyntaxProvider
            .ForAttributeWithMetadataName(TaskAttributeName, static (node, _) => node is MethodDeclarationSyntax { Parent: InterfaceDeclarationSyntax }, ContractParser.ParseContractTask)
            .Where(static t => t is not null)
            .Select(static (t, _) => t!)
            .WithTrackingName(TrackingNames.ContractTasks);
        var allContractTasks = contractTasks.Collect()
            .Select(static (t, _) => t.ToEquatableArray())
            .WithTrackingName(TrackingNames.AllContractTasks);
        var contractTypes = allContractTasks.Combine(assemblyName)
            .SelectMany(static (x, _) => Layout.Group(x.Left.Select(static t => t.Task).ToEquatableArray(), JsonEmitter.ClassName(x.Right)))
            .WithTrackingName(TrackingNames.ContractTypes);
        context.RegisterSourceOutput(contractTypes, static (spc, type) =>
            spc.AddSource(ContractEmitter.HintName(type), SourceText.From(ContractEmitter.EmitContractType(type, Version), System.Text.Encoding.UTF8)));

        var implementations = context.SyntaxProvider
            .CreateSyntaxProvider(static (node, _) => ContractParser.IsCandidate(node), ContractParser.ParseImplementation)
            .Where(static i => i is not null)
            .Select(static (i, _) => i!)
            .WithTrackingName(TrackingNames.Implementations);
        var allImplementations = implementations.Collect()
            .Select(static (i, _) => i.ToEquatableArray())
            .WithTrackingName(TrackingNames.AllImplementations);
        context.RegisterSourceOutput(implementations.Combine(assemblyName), static (spc, x) =>
            spc.AddSource(ImplementationEmitter.HintName(x.Left), SourceText.From(ImplementationEmitter.Emit(x.Left, JsonEmitter.ClassName(x.Right), Version), System.Text.Encoding.UTF8)));

        // The assembly's contract: the shape of every task it declares (its baseline) and of every contract task it implements.
        var taskShapes = context.SyntaxProvider
            .ForAttributeWithMetadataName(TaskAttributeName, static (node, _) => node is MethodDeclarationSyntax, ContractParser.ParseTaskShape)
            .Where(static t => t is not null)
            .Select(static (t, _) => t!)
            .WithTrackingName(TrackingNames.TaskShapes);
        var assemblyContract = taskShapes.Collect()
            .Combine(allContractTasks)
            .Combine(allImplementations)
            .Combine(assemblyName)
            .Select(static (x, _) => new AssemblyContractModel(
                x.Right,
                x.Left.Left.Left.Concat(x.Left.Left.Right.Select(static c => c.Declaration.Task)).OrderBy(static t => t.Name, System.StringComparer.Ordinal).ToEquatableArray(),
                x.Left.Left.Right.Select(static c => c.Declaration).ToEquatableArray(),
                x.Left.Right.SelectMany(static i => i.Contracts).OrderBy(static t => t.Name, System.StringComparer.Ordinal).ToEquatableArray()))
            .WithTrackingName(TrackingNames.AssemblyContract);
        context.RegisterSourceOutput(assemblyContract, static (spc, model) =>
        {
            if (ContractEmitter.HasContracts(model))
            {
                spc.AddSource("TypedJobs.Contract.g.cs", SourceText.From(ContractEmitter.EmitAssembly(model, Version), System.Text.Encoding.UTF8));
            }
        });

        // One JSON helper class per assembly, for the shapes of every task, contract task and implementation.
        var json = allTasks
            .Combine(allContractTasks)
            .Combine(allImplementations)
            .Select(static (x, _) => x.Left.Left.Concat(x.Left.Right.Select(static c => c.Task)).Concat(x.Right.SelectMany(static i => i.Tasks))
                .SelectMany(static task => task.Types).GroupBy(static s => s.Key).Select(static g => g.First())
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

        // The registry registers the tasks with handlers (plain tasks and implementations) and the assembly's contracts.
        var registry = allTasks
            .Combine(allImplementations)
            .Combine(assemblyContract)
            .Select(static (x, _) => (
                Classes: Layout.Group(x.Left.Left, string.Empty).Select(TypeEmitter.FullClassName)
                    .Concat(x.Left.Right.Select(ImplementationEmitter.FullClassName))
                    .Concat(ContractEmitter.HasContracts(x.Right) ? new[] { ContractEmitter.FullClassName(x.Right.AssemblyName) } : System.Array.Empty<string>())
                    .ToEquatableArray(),
                Names: x.Left.Left.Select(static task => task.TaskName).Concat(x.Left.Right.SelectMany(static i => i.Tasks.Select(static t => t.TaskName))).ToEquatableArray()))
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
