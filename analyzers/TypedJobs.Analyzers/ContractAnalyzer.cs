using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Operations;
using TypedJobs.Generators.Diagnostics;
using TypedJobs.Generators.Parsing;
using TypedJobs.Generators.Rules;

namespace TypedJobs.Analyzers;

/// <summary>
/// The rules of task contracts on the worker side: an implementation must match its contract (TJ1012) and may set only
/// run-time settings in its own <c>[Task]</c> (TJ1013); it must be creatable (TJ1003-TJ1005) and, when the contract comes
/// from another assembly, its payload types need serializers here too (TJ1007). A host that runs a worker must implement,
/// or reference an implementation of, every contract it knows (TJ2002).
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class ContractAnalyzer : DiagnosticAnalyzer
{
    /// <summary>The TJ1012 property saying what differs: <see cref="SignatureKind"/>, <see cref="NameKind"/>, <see cref="DefaultKind"/> or <see cref="SourceKind"/>.</summary>
    public const string KindProperty = "Kind";

    /// <summary>The TJ1012 property with the documentation ID of the contract's method.</summary>
    public const string ContractMethodProperty = "ContractMethod";

    /// <summary>The TJ1012 property with the contract's name of a parameter (<see cref="NameKind"/>).</summary>
    public const string ContractNameProperty = "ContractName";

    /// <summary>The TJ1013 property naming the setting.</summary>
    public const string SettingProperty = "Setting";

    /// <summary>No method implements the contract's; one of the same name has another signature.</summary>
    public const string SignatureKind = "Signature";

    /// <summary>A parameter's name differs from the contract's.</summary>
    public const string NameKind = "Name";

    /// <summary>A parameter's default value differs from the contract's.</summary>
    public const string DefaultKind = "Default";

    /// <summary>A parameter is a service in one and payload in the other.</summary>
    public const string SourceKind = "Source";

    private const string BuilderName = "Microsoft.Extensions.DependencyInjection.TypedJobsBuilder";

    /// <inheritdoc />
    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics { get; } =
    [
        DiagnosticDescriptors.ContractMismatch, DiagnosticDescriptors.ContractSettingOnImplementation, DiagnosticDescriptors.UnimplementedContract,
        DiagnosticDescriptors.GenericTask, DiagnosticDescriptors.InaccessibleTask, DiagnosticDescriptors.NoConstructor, DiagnosticDescriptors.NoSerializer,
    ];

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

            var serializers = new SerializerCheck(start.Compilation);
            var contracts = new ConcurrentDictionary<string, ImmutableArray<string>>(StringComparer.Ordinal);
            var implemented = new ConcurrentDictionary<string, byte>(StringComparer.Ordinal);
            var workers = new ConcurrentBag<Location>();
            start.RegisterSymbolAction(symbol => AnalyzeType(symbol, serializers, contracts, implemented), SymbolKind.NamedType);
            start.RegisterSymbolAction(symbol => AnalyzeMethod(symbol, taskAttribute), SymbolKind.Method);
            if (start.Compilation.GetTypeByMetadataName(BuilderName) is { } builder)
            {
                start.RegisterOperationAction(operation =>
                {
                    var invocation = (IInvocationOperation)operation.Operation;
                    if (invocation.TargetMethod.Name == "AddWorker" && SymbolEqualityComparer.Default.Equals(invocation.TargetMethod.ContainingType, builder))
                    {
                        workers.Add(invocation.Syntax.GetLocation());
                    }
                }, OperationKind.Invocation);
            }

            start.RegisterCompilationEndAction(end => ReportUnimplemented(end, contracts, implemented, workers));
        });
    }

    private static void AnalyzeType(SymbolAnalysisContext context, SerializerCheck serializers,
        ConcurrentDictionary<string, ImmutableArray<string>> contracts, ConcurrentDictionary<string, byte> implemented)
    {
        var type = (INamedTypeSymbol)context.Symbol;
        if (ContractRules.IsContract(type))
        {
            contracts.TryAdd(type.ToDisplayString(SymbolDisplayFormat.CSharpErrorMessageFormat),
                [.. ContractRules.Tasks(type).Select(static t => TaskRules.TaskName(t.Method, t.Attribute))]);
        }

        var implementedContracts = ContractRules.ImplementedContracts(type);
        if (implementedContracts.Count == 0)
        {
            return;
        }

        var location = type.Locations.FirstOrDefault() ?? Location.None;
        var first = implementedContracts.SelectMany(ContractRules.Tasks).Select(t => type.FindImplementationForInterfaceMember(t.Method)).OfType<IMethodSymbol>().FirstOrDefault();
        var display = first is null ? type.ToDisplayString(SymbolDisplayFormat.CSharpErrorMessageFormat) : TaskRules.Display(first);
        if (TaskRules.IsInGenericType(type))
        {
            context.ReportDiagnostic(Diagnostic.Create(DiagnosticDescriptors.GenericTask, location, display));
            return;
        }

        for (var named = type; named is not null; named = named.ContainingType)
        {
            if (named.IsFileLocal || named.DeclaredAccessibility is not (Accessibility.Public or Accessibility.Internal or Accessibility.ProtectedOrInternal))
            {
                var accessibility = named.IsFileLocal ? "file-local" : named.DeclaredAccessibility switch
                {
                    Accessibility.Private => "private",
                    Accessibility.Protected => "protected",
                    Accessibility.ProtectedAndInternal => "private protected",
                    _ => "not accessible",
                };
                context.ReportDiagnostic(Diagnostic.Create(DiagnosticDescriptors.InaccessibleTask, location, display, "containing type '" + named.Name + "'", accessibility));
                return;
            }
        }

        if (TaskRules.ConstructorProblem(type, out _) is { } why)
        {
            context.ReportDiagnostic(Diagnostic.Create(DiagnosticDescriptors.NoConstructor, location, display,
                type.ToDisplayString(SymbolDisplayFormat.CSharpErrorMessageFormat), why));
            return;
        }

        foreach (var contract in implementedContracts)
        {
            var external = !SymbolEqualityComparer.Default.Equals(contract.ContainingAssembly, context.Compilation.Assembly);
            foreach (var (method, attribute) in ContractRules.Tasks(contract))
            {
                context.CancellationToken.ThrowIfCancellationRequested();
                var name = TaskRules.TaskName(method, attribute);
                if (type.FindImplementationForInterfaceMember(method) is not IMethodSymbol implementation)
                {
                    ReportSignature(context, type, method);
                    continue;
                }

                implemented.TryAdd(name, 0);
                CompareParameters(context, implementation, method);
                if (external)
                {
                    // The worker generates its own serializers for the contract's types: they need a serializer here too.
                    var problems = new List<TaskProblem>();
                    serializers.Check(method, problems, context.CancellationToken);
                    var at = implementation.Locations.FirstOrDefault(static l => l.IsInSource) ?? location;
                    foreach (var problem in problems)
                    {
                        context.ReportDiagnostic(Diagnostic.Create(problem.Descriptor, problem.Location is { IsInSource: true } l ? l : at,
                            problem.Properties, problem.Arguments.Cast<object>().ToArray()));
                    }
                }
            }
        }
    }

    /// <summary>TJ1012 on each method of the type named like a contract task that it does not implement.</summary>
    private static void ReportSignature(SymbolAnalysisContext context, INamedTypeSymbol type, IMethodSymbol contractMethod)
    {
        foreach (var candidate in type.GetMembers(contractMethod.Name).OfType<IMethodSymbol>())
        {
            if (candidate.IsStatic || candidate.MethodKind != MethodKind.Ordinary || candidate.Locations.FirstOrDefault() is not { IsInSource: true } location)
            {
                continue;
            }

            var why = candidate.Parameters.Length != contractMethod.Parameters.Length
                || candidate.Parameters.Zip(contractMethod.Parameters, static (a, b) => !SymbolEqualityComparer.Default.Equals(a.Type, b.Type) || a.RefKind != b.RefKind).Any(static x => x)
                    ? "its parameters are (" + Signature(candidate) + "), the contract's are (" + Signature(contractMethod) + ")"
                    : "it returns '" + candidate.ReturnType.ToDisplayString(SymbolDisplayFormat.CSharpErrorMessageFormat) + "', the contract '"
                        + contractMethod.ReturnType.ToDisplayString(SymbolDisplayFormat.CSharpErrorMessageFormat) + "'";
            context.ReportDiagnostic(Diagnostic.Create(DiagnosticDescriptors.ContractMismatch, location,
                Properties(SignatureKind, contractMethod), TaskRules.Display(candidate), TaskRules.Display(contractMethod), why));
        }
    }

    private static string Signature(IMethodSymbol method) =>
        string.Join(", ", method.Parameters.Select(static p => p.Type.ToDisplayString(SymbolDisplayFormat.CSharpErrorMessageFormat) + " " + p.Name));

    /// <summary>TJ1012 on each parameter whose name, default value or role (payload or service) differs from the contract's.</summary>
    private static void CompareParameters(SymbolAnalysisContext context, IMethodSymbol implementation, IMethodSymbol contractMethod)
    {
        if (implementation.Parameters.Length != contractMethod.Parameters.Length)
        {
            return;
        }

        for (var i = 0; i < implementation.Parameters.Length; i++)
        {
            var own = implementation.Parameters[i];
            var contract = contractMethod.Parameters[i];
            if (own.Locations.FirstOrDefault() is not { IsInSource: true } location)
            {
                continue;
            }

            string? why = null;
            var kind = NameKind;
            var payload = TaskRules.IsPayload(contract);
            if (payload != TaskRules.IsPayload(own))
            {
                kind = SourceKind;
                why = payload
                    ? "its parameter '" + own.Name + "' is a service here, but part of the payload in the contract; the job passes the payload's value"
                    : "its parameter '" + own.Name + "' is part of the payload here, but not in the contract, which decides where the job takes it from";
            }
            else if (own.Name != contract.Name && payload)
            {
                why = "its parameter '" + own.Name + "' is '" + contract.Name + "' in the contract, the name payloads store it under";
            }
            else if (payload && DefaultText(own) != DefaultText(contract))
            {
                kind = DefaultKind;
                why = "its parameter '" + own.Name + "' " + (own.HasExplicitDefaultValue ? "has the default value " + DefaultText(own) : "has no default value")
                    + ", the contract's " + (contract.HasExplicitDefaultValue ? DefaultText(contract) : "none") + "; enqueued jobs get the contract's";
            }

            if (why is not null)
            {
                var properties = Properties(kind, contractMethod).Add(ContractNameProperty, contract.Name);
                context.ReportDiagnostic(Diagnostic.Create(DiagnosticDescriptors.ContractMismatch, location, properties,
                    TaskRules.Display(implementation), TaskRules.Display(contractMethod), why));
            }
        }
    }

    private static string? DefaultText(IParameterSymbol parameter) =>
        parameter.HasExplicitDefaultValue ? ConstantFormatter.Format(parameter.Type, parameter.ExplicitDefaultValue) : null;

    private static ImmutableDictionary<string, string?> Properties(string kind, IMethodSymbol contractMethod) =>
        ImmutableDictionary<string, string?>.Empty.Add(KindProperty, kind).Add(ContractMethodProperty, contractMethod.GetDocumentationCommentId());

    /// <summary>TJ1013: a <c>[Task]</c> on an implementing method with a setting other than Timeout and MaxConcurrency.</summary>
    private static void AnalyzeMethod(SymbolAnalysisContext context, INamedTypeSymbol taskAttribute)
    {
        var method = (IMethodSymbol)context.Symbol;
        if (TaskSymbols.TaskAttribute(method, taskAttribute) is not { } attribute || attribute.NamedArguments.Length == 0
            || ContractRules.ImplementedContractTask(method) is not { } contractMethod || ContractRules.TaskAttribute(contractMethod) is not { } contractAttribute)
        {
            return;
        }

        foreach (var pair in attribute.NamedArguments)
        {
            if (Array.IndexOf(ContractRules.RuntimeSettings, pair.Key) >= 0)
            {
                continue;
            }

            var location = TaskRules.ArgumentLocation(attribute, pair.Key, context.CancellationToken) ?? method.Locations.FirstOrDefault() ?? Location.None;
            context.ReportDiagnostic(Diagnostic.Create(DiagnosticDescriptors.ContractSettingOnImplementation, location,
                ImmutableDictionary<string, string?>.Empty.Add(SettingProperty, pair.Key),
                pair.Key, TaskRules.Display(method), TaskRules.TaskName(contractMethod, contractAttribute)));
        }
    }

    /// <summary>TJ2002, at the first <c>AddWorker</c> call: the contracts the host knows that nothing it compiles or references implements.</summary>
    private static void ReportUnimplemented(CompilationAnalysisContext context, ConcurrentDictionary<string, ImmutableArray<string>> localContracts,
        ConcurrentDictionary<string, byte> localImplemented, ConcurrentBag<Location> workers)
    {
        if (workers.IsEmpty)
        {
            return;
        }

        var contracts = localContracts.ToDictionary(static p => p.Key, static p => p.Value.ToList(), StringComparer.Ordinal);
        var implemented = new HashSet<string>(localImplemented.Keys, StringComparer.Ordinal);
        foreach (var assembly in context.Compilation.SourceModule.ReferencedAssemblySymbols)
        {
            foreach (var attribute in assembly.GetAttributes())
            {
                if (attribute.AttributeClass is not { Name: "AssemblyMetadataAttribute" } || attribute.ConstructorArguments.Length != 2
                    || attribute.ConstructorArguments[0].Value is not string key || attribute.ConstructorArguments[1].Value is not string value)
                {
                    continue;
                }

                if (key == ContractRules.ContractTaskMetadataKey && value.IndexOf('|') is var bar and > 0)
                {
                    var contract = value.Substring(0, bar);
                    if (!contracts.TryGetValue(contract, out var names))
                    {
                        contracts.Add(contract, names = []);
                    }

                    names.Add(value.Substring(bar + 1));
                }
                else if (key is ContractRules.ImplementsMetadataKey or TaskRules.TaskNameMetadataKey)
                {
                    implemented.Add(value);
                }
            }
        }

        var location = workers.OrderBy(static l => l.SourceTree?.FilePath, StringComparer.Ordinal).ThenBy(static l => l.SourceSpan.Start).First();
        foreach (var contract in contracts.OrderBy(static c => c.Key, StringComparer.Ordinal))
        {
            var missing = contract.Value.Where(n => !implemented.Contains(n)).Distinct(StringComparer.Ordinal).OrderBy(static n => n, StringComparer.Ordinal).ToList();
            if (missing.Count == 0)
            {
                continue;
            }

            var tasks = (missing.Count == 1 ? "task " : "tasks ") + string.Join(", ", missing.Select(static n => "'" + n + "'"));
            context.ReportDiagnostic(Diagnostic.Create(DiagnosticDescriptors.UnimplementedContract, location, contract.Key, tasks));
        }
    }
}
