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
/// emits next to their task registry, so internal tasks of a library are seen too. A task contract counts once: its
/// declaration (listed as <c>"TypedJobs.ContractTask"</c>) and its implementation (a registration also listed as
/// <c>"TypedJobs.Implements"</c>) are one task, and an implementing method's own <c>[Task]</c> declares no name. Two
/// implementations of one contract task in a host are two registrations of the name.
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
            var contracts = ReferencedTaskNames(start.Compilation, ContractRules.ContractTaskMetadataKey);
            var implementations = ReferencedTaskNames(start.Compilation, ContractRules.ImplementsMetadataKey);
            var tasks = new ConcurrentBag<(string Name, IMethodSymbol Method)>();
            var implemented = new ConcurrentBag<(string Name, INamedTypeSymbol Type)>();
            start.RegisterSymbolAction(symbol =>
            {
                var method = (IMethodSymbol)symbol.Symbol;
                if (TaskSymbols.TaskAttribute(method, taskAttribute) is { } attribute && ContractRules.ImplementedContractTask(method) is null)
                {
                    tasks.Add((TaskRules.TaskName(method, attribute), method));
                }
            }, SymbolKind.Method);
            start.RegisterSymbolAction(symbol =>
            {
                var type = (INamedTypeSymbol)symbol.Symbol;
                foreach (var contract in ContractRules.ImplementedContracts(type))
                {
                    foreach (var (method, attribute) in ContractRules.Tasks(contract))
                    {
                        implemented.Add((TaskRules.TaskName(method, attribute), type));
                    }
                }
            }, SymbolKind.NamedType);
            start.RegisterCompilationEndAction(end =>
            {
                Report(end, referenced, Registrations(referenced, contracts, implementations), contracts.Keys, tasks);
                ReportImplementations(end, referenced, tasks, implemented);
            });
        });
    }

    /// <summary>
    /// What a name declared in this compilation must not meet in its references: any registration of the name, and any
    /// contract that declares it — except that a local contract task may meet the registrations that implement it.
    /// </summary>
    private static Func<string, bool, string?> Registrations(Dictionary<string, List<string>> registered, Dictionary<string, List<string>> contracts,
        Dictionary<string, List<string>> implementations) =>
        (name, isContract) =>
        {
            if (contracts.TryGetValue(name, out var declaring))
            {
                return "a task contract in referenced assembly '" + declaring[0] + "'";
            }

            if (registered.TryGetValue(name, out var assemblies))
            {
                var others = isContract && implementations.TryGetValue(name, out var implementing)
                    ? assemblies.Where(a => !implementing.Contains(a)).ToList()
                    : assemblies;
                return others.Count > 0 ? "a task in referenced assembly '" + others[0] + "'" : null;
            }

            return null;
        };

    /// <summary>Implementations of one contract task in this compilation, or of a task a reference registers too: two registrations of one name.</summary>
    private static void ReportImplementations(CompilationAnalysisContext context, Dictionary<string, List<string>> referenced,
        IEnumerable<(string Name, IMethodSymbol Method)> tasks, IEnumerable<(string Name, INamedTypeSymbol Type)> implemented)
    {
        var plain = tasks.Where(static t => !ContractRules.IsContractTask(t.Method)).ToLookup(static t => t.Name, StringComparer.Ordinal);
        foreach (var group in implemented.GroupBy(static i => i.Name, StringComparer.Ordinal).OrderBy(static g => g.Key, StringComparer.Ordinal))
        {
            var types = group.Select(static i => i.Type).Distinct<INamedTypeSymbol>(SymbolEqualityComparer.Default)
                .OrderBy(static t => t.Locations.FirstOrDefault()?.SourceTree?.FilePath, StringComparer.Ordinal)
                .ThenBy(static t => t.Locations.FirstOrDefault()?.SourceSpan.Start ?? 0)
                .ToList();
            foreach (var type in types)
            {
                string? other = types.FirstOrDefault(t => !SymbolEqualityComparer.Default.Equals(t, type)) is { } second
                    ? "'" + second.ToDisplayString(SymbolDisplayFormat.CSharpErrorMessageFormat) + "', which implements it too"
                    : plain[group.Key].FirstOrDefault() is { Method: not null } task
                        ? "'" + TaskRules.Display(task.Method) + "'"
                        : referenced.TryGetValue(group.Key, out var assemblies) ? "a task in referenced assembly '" + assemblies[0] + "'" : null;
                if (other is not null && type.Locations.FirstOrDefault() is { IsInSource: true } location)
                {
                    context.ReportDiagnostic(Diagnostic.Create(DiagnosticDescriptors.DuplicateTaskName, location,
                        group.Key, type.ToDisplayString(SymbolDisplayFormat.CSharpErrorMessageFormat), other));
                }
            }
        }
    }

    private static void Report(CompilationAnalysisContext context, Dictionary<string, List<string>> registered, Func<string, bool, string?> referenced,
        IEnumerable<string> contractNames, IEnumerable<(string Name, IMethodSymbol Method)> tasks)
    {
        var ordered = tasks
            .Select(static t => (t.Name, t.Method, Location: t.Method.Locations.FirstOrDefault() ?? Location.None))
            .OrderBy(static t => t.Location.SourceTree?.FilePath, StringComparer.Ordinal)
            .ThenBy(static t => t.Location.SourceSpan.Start)
            .ToList();
        var used = new HashSet<string>(ordered.Select(static t => t.Name).Concat(registered.Keys).Concat(contractNames), StringComparer.Ordinal);

        foreach (var group in ordered.GroupBy(static t => t.Name, StringComparer.Ordinal))
        {
            var members = group.ToList();
            var external = members.Select(m => referenced(group.Key, ContractRules.IsContractTask(m.Method))).FirstOrDefault(static o => o is not null);
            if (members.Count < 2 && external is null)
            {
                continue;
            }

            foreach (var task in members)
            {
                var other = referenced(group.Key, ContractRules.IsContractTask(task.Method))
                    ?? (members.Count > 1
                        ? "'" + TaskRules.Display(members.First(m => !SymbolEqualityComparer.Default.Equals(m.Method, task.Method)).Method) + "'"
                        : external!);
                var suggestion = Suggest(task.Method, group.Key, used);
                used.Add(suggestion);
                context.ReportDiagnostic(Diagnostic.Create(DiagnosticDescriptors.DuplicateTaskName, task.Location,
                    ImmutableDictionary<string, string?>.Empty.Add(SuggestedNameProperty, suggestion),
                    group.Key, TaskRules.Display(task.Method), other));
            }
        }

        // Two referenced assemblies whose tasks would be registered side by side in this one.
        foreach (var pair in registered.Where(static p => p.Value.Count > 1).OrderBy(static p => p.Key, StringComparer.Ordinal))
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

    /// <summary>
    /// Task name → the referenced assemblies that list it under <paramref name="key"/>: by default the tasks they register;
    /// with <see cref="ContractRules.ContractTaskMetadataKey"/> the tasks of their contracts (listed as <c>Interface|name</c>).
    /// </summary>
    internal static Dictionary<string, List<string>> ReferencedTaskNames(Compilation compilation, string key = TaskRules.TaskNameMetadataKey)
    {
        var names = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        foreach (var assembly in compilation.SourceModule.ReferencedAssemblySymbols)
        {
            foreach (var attribute in assembly.GetAttributes())
            {
                if (attribute.AttributeClass is { Name: "AssemblyMetadataAttribute" }
                    && attribute.ConstructorArguments.Length == 2
                    && attribute.ConstructorArguments[0].Value is string listed && listed == key
                    && attribute.ConstructorArguments[1].Value is string value)
                {
                    var name = key == ContractRules.ContractTaskMetadataKey ? value.Substring(value.IndexOf('|') + 1) : value;
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
