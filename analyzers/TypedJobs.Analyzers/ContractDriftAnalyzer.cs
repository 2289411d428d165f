using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.IO;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Text;
using TypedJobs.Generators.Diagnostics;
using TypedJobs.Generators.Model;
using TypedJobs.Generators.Rules;

namespace TypedJobs.Analyzers;

/// <summary>
/// TJ4001-TJ4008: compares the tasks this project declares (its <c>[Task]</c> methods and the tasks of its
/// <c>[TaskContract]</c> interfaces) with the committed contract baseline, <c>TypedJobs.contract.json</c> among the
/// additional files, and reports the changes that would break jobs already stored or in flight: a task removed or renamed,
/// a payload parameter or member without a default value that old payloads lack, a changed type, a renumbered or removed
/// enum member, a removed parameter or member whose stored values would be ignored, a changed queue. Additive changes
/// pass (TJ4007, information, says the baseline does not record them yet). Nothing is checked without a baseline, or
/// while the <c>UpdateTaskContract</c> build target rewrites it (<c>TypedJobsUpdateContract=true</c>).
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class ContractDriftAnalyzer : DiagnosticAnalyzer
{
    /// <summary>The MSBuild property the <c>UpdateTaskContract</c> target sets while it writes the baseline.</summary>
    public const string UpdatingProperty = "build_property.TypedJobsUpdateContract";

    /// <inheritdoc />
    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics { get; } =
    [
        DiagnosticDescriptors.ContractTaskRemoved, DiagnosticDescriptors.ContractMemberWithoutDefault, DiagnosticDescriptors.ContractTypeChanged,
        DiagnosticDescriptors.ContractEnumChanged, DiagnosticDescriptors.ContractMemberRemoved, DiagnosticDescriptors.ContractQueueChanged,
        DiagnosticDescriptors.ContractBaselineOutdated, DiagnosticDescriptors.ContractBaselineInvalid,
    ];

    /// <inheritdoc />
    public override void Initialize(AnalysisContext context)
    {
        context.ConfigureGeneratedCodeAnalysis(GeneratedCodeAnalysisFlags.None);
        context.EnableConcurrentExecution();
        context.RegisterCompilationStartAction(static start =>
        {
            if (start.Compilation.GetTypeByMetadataName(TaskRules.TaskAttributeName) is not { } taskAttribute
                || start.Options.AdditionalFiles.FirstOrDefault(static f => string.Equals(Path.GetFileName(f.Path), ContractBaseline.FileName, StringComparison.OrdinalIgnoreCase)) is not { } file
                || (start.Options.AnalyzerConfigOptionsProvider.GlobalOptions.TryGetValue(UpdatingProperty, out var updating)
                    && string.Equals(updating.Trim(), "true", StringComparison.OrdinalIgnoreCase)))
            {
                return;
            }

            var declared = new ConcurrentBag<Declared>();
            start.RegisterSymbolAction(symbol =>
            {
                var method = (IMethodSymbol)symbol.Symbol;
                if (TaskSymbols.TaskAttribute(method, taskAttribute) is not { } attribute || ContractRules.ImplementedContractTask(method) is not null)
                {
                    return;
                }

                var problems = new List<TaskProblem>();
                TaskRules.CheckDeclaration(method, attribute, problems, symbol.CancellationToken);
                if (!problems.Any(static p => p.SkipsTask))
                {
                    declared.Add(new Declared(method, attribute, ContractShapes.Build(method, attribute, symbol.Compilation.Assembly, symbol.CancellationToken)));
                }
            }, SymbolKind.Method);
            start.RegisterCompilationEndAction(end => new Comparison(end, file, declared).Run());
        });
    }

    private sealed record Declared(IMethodSymbol Method, AttributeData Attribute, ContractTask Contract);

    /// <summary>One comparison of the declared tasks with the baseline; each finding is reported once.</summary>
    private sealed class Comparison
    {
        private readonly CompilationAnalysisContext context;
        private readonly AdditionalText file;
        private readonly Dictionary<string, Declared> current;
        private readonly Dictionary<string, ContractType> currentTypes = new(StringComparer.Ordinal);
        private readonly HashSet<string> reported = new(StringComparer.Ordinal);
        private SourceText? text;
        private ContractBaseline baseline = null!;

        public Comparison(CompilationAnalysisContext context, AdditionalText file, IEnumerable<Declared> declared)
        {
            this.context = context;
            this.file = file;
            current = declared
                .OrderBy(static d => d.Method.Locations.FirstOrDefault()?.SourceTree?.FilePath, StringComparer.Ordinal)
                .ThenBy(static d => d.Method.Locations.FirstOrDefault()?.SourceSpan.Start ?? 0)
                .GroupBy(static d => d.Contract.Name, StringComparer.Ordinal)
                .ToDictionary(static g => g.Key, static g => g.First(), StringComparer.Ordinal);
            foreach (var type in current.Values.SelectMany(static d => d.Contract.Types))
            {
                if (!currentTypes.ContainsKey(type.Name))
                {
                    currentTypes.Add(type.Name, type);
                }
            }
        }

        public void Run()
        {
            text = file.GetText(context.CancellationToken);
            if (text is null)
            {
                return;
            }

            try
            {
                baseline = ContractBaseline.Parse(text.ToString());
            }
            catch (BaselineException ex)
            {
                var position = Math.Min(Math.Max(0, ex.Position), text.Length);
                context.ReportDiagnostic(Diagnostic.Create(DiagnosticDescriptors.ContractBaselineInvalid, FileLocation(new TextSpan(position, 0)),
                    ContractBaseline.FileName, ex.Message));
                return;
            }

            CompareTasks();
            CompareTypes();
            if (reported.Count == 0)
            {
                ReportOutdated();
            }
        }

        private void CompareTasks()
        {
            var added = current.Values.Where(d => !baseline.Tasks.ContainsKey(d.Contract.Name)).ToList();
            foreach (var entry in baseline.Tasks.OrderBy(static t => t.Key, StringComparer.Ordinal))
            {
                var name = entry.Key;
                var (old, span) = entry.Value;
                if (!current.TryGetValue(name, out var now))
                {
                    // A method renamed without a pinned name: a new task of the same type with the same payload.
                    var prefix = name.LastIndexOf('.') is var dot and > 0 ? name.Substring(0, dot + 1) : null;
                    var renamed = added.Where(d => prefix is not null && d.Contract.Name.StartsWith(prefix, StringComparison.Ordinal)
                            && d.Contract.Name.IndexOf('.', prefix.Length) < 0 && SameParameters(d.Contract, old)).ToList();
                    if (renamed.Count == 1)
                    {
                        Report(DiagnosticDescriptors.ContractTaskRemoved, "removed:" + name, Location(renamed[0].Method),
                            ImmutableDictionary<string, string?>.Empty.Add(DuplicateTaskNameAnalyzer.SuggestedNameProperty, name),
                            name, " ('" + TaskRules.Display(renamed[0].Method) + "' has its payload and looks like its new name)");
                    }
                    else
                    {
                        Report(DiagnosticDescriptors.ContractTaskRemoved, "removed:" + name, FileLocation(span), null, name, string.Empty);
                    }

                    continue;
                }

                var task = now.Contract;
                if (!string.Equals(old.Queue, task.Queue, StringComparison.Ordinal))
                {
                    var at = TaskRules.ArgumentLocation(now.Attribute, "Queue", context.CancellationToken) ?? Location(now.Method);
                    Report(DiagnosticDescriptors.ContractQueueChanged, "queue:" + name, at, null, name, old.Queue ?? "(default)", task.Queue ?? "(default)");
                }

                foreach (var parameter in old.Parameters)
                {
                    var what = "parameter '" + parameter.Name + "' of task '" + name + "'";
                    var match = task.Parameters.FirstOrDefault(p => p.Name == parameter.Name);
                    if (match is null)
                    {
                        Report(DiagnosticDescriptors.ContractMemberRemoved, "removed:" + name + ":" + parameter.Name, Location(now.Method), null, Capitalize(what));
                    }
                    else if (!Compatible(parameter.Type, match.Type))
                    {
                        Report(DiagnosticDescriptors.ContractTypeChanged, "type:" + name + ":" + parameter.Name, ParameterLocation(now.Method, parameter.Name), null,
                            what, parameter.Type, match.Type);
                    }
                    else if (parameter.HasDefault && !match.HasDefault)
                    {
                        Report(DiagnosticDescriptors.ContractMemberWithoutDefault, "default:" + name + ":" + parameter.Name, ParameterLocation(now.Method, parameter.Name), null,
                            Capitalize(what), "lost its default value");
                    }
                }

                foreach (var parameter in task.Parameters)
                {
                    if (!parameter.HasDefault && !old.Parameters.Any(p => p.Name == parameter.Name))
                    {
                        Report(DiagnosticDescriptors.ContractMemberWithoutDefault, "default:" + name + ":" + parameter.Name, ParameterLocation(now.Method, parameter.Name), null,
                            "Parameter '" + parameter.Name + "' of task '" + name + "'", "is new and has no default value");
                    }
                }
            }
        }

        private void CompareTypes()
        {
            foreach (var old in baseline.Types.Values.OrderBy(static t => t.Name, StringComparer.Ordinal))
            {
                if (!currentTypes.TryGetValue(old.Name, out var now))
                {
                    continue; // no longer used, or renamed (then the parameter's type changed)
                }

                var user = current.Values.First(d => d.Contract.Types.Any(t => t.Name == old.Name)).Method;
                if (old.IsEnum != now.IsEnum)
                {
                    Report(DiagnosticDescriptors.ContractTypeChanged, "kind:" + old.Name, TypeLocation(old.Name, null, user), null,
                        "'" + old.Name + "'", old.IsEnum ? "an enum" : "an object", now.IsEnum ? "an enum" : "an object");
                    continue;
                }

                if (old.IsEnum)
                {
                    foreach (var value in old.Values)
                    {
                        var same = now.Values.FirstOrDefault(v => v.Name == value.Name);
                        if (same is not null && same.Value != value.Value)
                        {
                            Report(DiagnosticDescriptors.ContractEnumChanged, "enum:" + old.Name + ":" + value.Name, TypeLocation(old.Name, value.Name, user), null,
                                old.Name, "gives '" + value.Name + "' the value " + same.Value + " instead of " + value.Value);
                        }
                        else if (same is null && !now.Values.Any(v => v.Value == value.Value))
                        {
                            Report(DiagnosticDescriptors.ContractEnumChanged, "enum:" + old.Name + ":" + value.Name, TypeLocation(old.Name, null, user), null,
                                old.Name, "no longer has a member with the value " + value.Value + " ('" + value.Name + "')");
                        }
                    }

                    continue;
                }

                foreach (var member in old.Members)
                {
                    var what = "member '" + member.Name + "' of '" + old.Name + "'";
                    var match = now.Members.FirstOrDefault(m => m.Name == member.Name);
                    if (match is null)
                    {
                        Report(DiagnosticDescriptors.ContractMemberRemoved, "removed:" + old.Name + ":" + member.Name, TypeLocation(old.Name, null, user), null, Capitalize(what));
                    }
                    else if (!Compatible(member.Type, match.Type))
                    {
                        Report(DiagnosticDescriptors.ContractTypeChanged, "type:" + old.Name + ":" + member.Name, TypeLocation(old.Name, member.Name, user), null,
                            what, member.Type, match.Type);
                    }
                    else if (member.Optional && !match.Optional)
                    {
                        Report(DiagnosticDescriptors.ContractMemberWithoutDefault, "default:" + old.Name + ":" + member.Name, TypeLocation(old.Name, member.Name, user), null,
                            Capitalize(what), "is no longer optional");
                    }
                }

                foreach (var member in now.Members)
                {
                    if (!member.Optional && !old.Members.Any(m => m.Name == member.Name))
                    {
                        Report(DiagnosticDescriptors.ContractMemberWithoutDefault, "default:" + old.Name + ":" + member.Name, TypeLocation(old.Name, member.Name, user), null,
                            "Member '" + member.Name + "' of '" + old.Name + "'", "is new and required");
                    }
                }
            }
        }

        /// <summary>TJ4007 when the baseline differs from what the <c>UpdateTaskContract</c> target would write.</summary>
        private void ReportOutdated()
        {
            var expected = ContractShapes.Write(current.Values.Select(static d => d.Contract));
            if (string.Equals(expected, text!.ToString().Replace("\r\n", "\n"), StringComparison.Ordinal))
            {
                return;
            }

            var added = current.Keys.Where(n => !baseline.Tasks.ContainsKey(n)).OrderBy(static n => n, StringComparer.Ordinal).ToList();
            var what = added.Count switch
            {
                0 => "every change of the tasks' contracts",
                1 => "the task '" + added[0] + "'",
                <= 3 => "the tasks " + string.Join(", ", added.Select(static n => "'" + n + "'")),
                _ => added.Count + " new tasks",
            };
            context.ReportDiagnostic(Diagnostic.Create(DiagnosticDescriptors.ContractBaselineOutdated, FileLocation(new TextSpan(0, 0)), what));
        }

        private static bool SameParameters(ContractTask a, ContractTask b) =>
            a.Parameters.Count == b.Parameters.Count && a.Parameters.Zip(b.Parameters, static (x, y) => x.Name == y.Name && x.Type == y.Type).All(static s => s);

        /// <summary>Whether values written as <paramref name="from"/> read as <paramref name="to"/>.</summary>
        private bool Compatible(string from, string to) => TypeCompatibility.Compatible(from, to, baseline.Types, currentTypes);

        private void Report(DiagnosticDescriptor descriptor, string key, Location location, ImmutableDictionary<string, string?>? properties, params string[] arguments)
        {
            if (reported.Add(descriptor.Id + ":" + key))
            {
                context.ReportDiagnostic(Diagnostic.Create(descriptor, location, properties, arguments.Cast<object>().ToArray()));
            }
        }

        private Location FileLocation(TextSpan span) => Microsoft.CodeAnalysis.Location.Create(file.Path, span, text!.Lines.GetLinePositionSpan(span));

        private static Location Location(IMethodSymbol method) => method.Locations.FirstOrDefault() ?? Microsoft.CodeAnalysis.Location.None;

        private static Location ParameterLocation(IMethodSymbol method, string name) =>
            method.Parameters.FirstOrDefault(p => p.Name == name)?.Locations.FirstOrDefault() ?? Location(method);

        /// <summary>The member's (or else the type's) declaration in source, else the task method that uses the type.</summary>
        private Location TypeLocation(string typeName, string? member, IMethodSymbol user)
        {
            if (FindType(typeName) is { } type)
            {
                if (member is not null && type.GetMembers(member).FirstOrDefault()?.Locations.FirstOrDefault() is { IsInSource: true } memberLocation)
                {
                    return memberLocation;
                }

                if (type.Locations.FirstOrDefault() is { IsInSource: true } typeLocation)
                {
                    return typeLocation;
                }
            }

            return Location(user);
        }

        /// <summary>A type by its contract name (<c>A.B.C</c> may be a nested type <c>A.B+C</c>).</summary>
        private INamedTypeSymbol? FindType(string name)
        {
            var metadataName = name;
            while (true)
            {
                if (context.Compilation.GetTypeByMetadataName(metadataName) is { } type)
                {
                    return type;
                }

                var dot = metadataName.LastIndexOf('.');
                if (dot < 0 || metadataName.IndexOf('<') >= 0)
                {
                    return null;
                }

                metadataName = metadataName.Substring(0, dot) + "+" + metadataName.Substring(dot + 1);
            }
        }

        private static string Capitalize(string text) => char.ToUpperInvariant(text[0]) + text.Substring(1);
    }
}
