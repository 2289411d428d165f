using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Globalization;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;
using TypedJobs.Generators.Diagnostics;
using TypedJobs.Generators.Rules;

namespace TypedJobs.Analyzers;

/// <summary>
/// TJ1006: task names are unique across the assembly and every assembly it references. Referenced assemblies list
/// their task names in <c>[assembly: AssemblyMetadata("TypedJobs.Task", name)]</c> attributes that the generator
/// emits next to their task registry, so internal tasks of a library are seen too.
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class DuplicateTaskNameAnalyzer : DiagnosticAnalyzer
{
    /// <summary>The diagnostic property with a task name that is free in the assembly and its references.</summary>
    public const string SuggestedNameProperty = "SuggestedName";

    /// <inheritdoc />
    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics { get; } = [DiagnosticDescriptors.DuplicateTaskName];

    /// <inheritdoc />
    public override void Initialize(AnalysisContext context)
    {
        context.ConfigureGeneratedCodeAnalysis(GeneratedCodeAnalysisFlags.None);
        context.EnableConcurrentExecution();
        context.RegisterCompilationStartAction(static start =>
        {
            if (start.Compilation.GetTypeByMetadataName(TaskRules.TaskAttributeName) is not { } taskAttribute)
            {
                return;
            }

            var referenced = ReferencedTaskNames(start.Compilation);
            var tasks = new ConcurrentBag<(string Name, IMethodSymbol Method)>();
            start.RegisterSymbolAction(symbol =>
            {
                var method = (IMethodSymbol)symbol.Symbol;
                if (TaskSymbols.TaskAttribute(method, taskAttribute) is { } attribute)
                {
                    tasks.Add((TaskRules.TaskName(method, attribute), method));
                }
            }, SymbolKind.Method);
            start.RegisterCompilationEndAction(end => Report(end, referenced, tasks));
        });
    }

    private static void Report(CompilationAnalysisContext context, Dictionary<string, List<string>> referenced, IEnumerable<(string Name, IMethodSymbol Method)> tasks)
    {
        var ordered = tasks
            .Select(static t => (t.Name, t.Method, Location: t.Method.Locations.FirstOrDefault() ?? Location.None))
            .OrderBy(static t => t.Location.SourceTree?.FilePath, StringComparer.Ordinal)
            .ThenBy(static t => t.Location.SourceSpan.Start)
            .ToList();
        var used = new HashSet<string>(ordered.Select(static t => t.Name).Concat(referenced.Keys), StringComparer.Ordinal);

        foreach (var group in ordered.GroupBy(static t => t.Name, StringComparer.Ordinal))
        {
            var members = group.ToList();
            referenced.TryGetValue(group.Key, out var assemblies);
            if (members.Count < 2 && assemblies is null)
            {
                continue;
            }

            foreach (var task in members)
            {
                var other = assemblies is not null
                    ? "a task in referenced assembly '" + assemblies[0] + "'"
                    : "'" + TaskRules.Display(members.First(m => !SymbolEqualityComparer.Default.Equals(m.Method, task.Method)).Method) + "'";
                var suggestion = Suggest(task.Method, group.Key, used);
                used.Add(suggestion);
                context.ReportDiagnostic(Diagnostic.Create(DiagnosticDescriptors.DuplicateTaskName, task.Location,
                    ImmutableDictionary<string, string?>.Empty.Add(SuggestedNameProperty, suggestion),
                    group.Key, TaskRules.Display(task.Method), other));
            }
        }

        // Two referenced assemblies whose tasks would be registered side by side in this one.
        foreach (var pair in referenced.Where(static p => p.Value.Count > 1).OrderBy(static p => p.Key, StringComparer.Ordinal))
        {
            if (ordered.Any(t => t.Name == pair.Key))
            {
                continue;
            }

            context.ReportDiagnostic(Diagnostic.Create(DiagnosticDescriptors.DuplicateTaskName, Location.None,
                pair.Key, "a task in referenced assembly '" + pair.Value[0] + "'", "a task in referenced assembly '" + pair.Value[1] + "'"));
        }
    }

    /// <summary>The default name of the method when it is free, else the current name with the first free number appended.</summary>
    private static string Suggest(IMethodSymbol method, string current, HashSet<string> used)
    {
        var preferred = TaskRules.DefaultTaskName(method);
        if (!used.Contains(preferred))
        {
            return preferred;
        }

        for (var i = 2; ; i++)
        {
            var candidate = current + i.ToString(CultureInfo.InvariantCulture);
            if (!used.Contains(candidate))
            {
                return candidate;
            }
        }
    }

    /// <summary>Task name → the referenced assemblies that declare it.</summary>
    internal static Dictionary<string, List<string>> ReferencedTaskNames(Compilation compilation)
    {
        var names = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        foreach (var assembly in compilation.SourceModule.ReferencedAssemblySymbols)
        {
            foreach (var attribute in assembly.GetAttributes())
            {
                if (attribute.AttributeClass is { Name: "AssemblyMetadataAttribute" }
                    && attribute.ConstructorArguments.Length == 2
                    && attribute.ConstructorArguments[0].Value is TaskRules.TaskNameMetadataKey
                    && attribute.ConstructorArguments[1].Value is string name)
                {
                    if (!names.TryGetValue(name, out var list))
                    {
                        names.Add(name, list = []);
                    }

                    list.Add(assembly.Identity.Name);
                }
            }
        }

        return names;
    }
}
