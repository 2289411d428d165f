using System.Collections.Generic;
using System.Linq;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using TypedJobs.Generators.Model;
using TypedJobs.Generators.Rules;

namespace TypedJobs.Generators.Parsing;

/// <summary>
/// Parses task contracts: the tasks of <c>[TaskContract]</c> interfaces (stubs, payloads and identities, no handlers), the
/// classes that implement them (handlers whose identity, payload and settings come from the contract, plus the run-time
/// settings of the implementing method's own <c>[Task]</c>), and the contract shape of every plain <c>[Task]</c> method.
/// Problems are left to the analyzers: a task or implementation that breaks a rule is skipped.
/// </summary>
internal static class ContractParser
{
    /// <summary>The task of a contract interface, or <see langword="null"/> for any other <c>[Task]</c> method and for a broken one.</summary>
    public static ContractTaskModel? ParseContractTask(GeneratorAttributeSyntaxContext context, CancellationToken cancellationToken)
    {
        if (context.TargetSymbol is not IMethodSymbol method || context.Attributes.Length == 0 || !ContractRules.IsContractTask(method))
        {
            return null;
        }

        var attribute = context.Attributes[0];
        var problems = new List<TaskProblem>();
        TaskRules.CheckDeclaration(method, attribute, problems, cancellationToken);
        if (problems.Any(static p => p.SkipsTask))
        {
            return null;
        }

        var assembly = context.SemanticModel.Compilation.Assembly;
        var task = TaskParser.Build(assembly, context.TargetNode, method, attribute, cancellationToken);
        var contract = method.ContainingType.ToDisplayString(SymbolDisplayFormat.CSharpErrorMessageFormat);
        return new ContractTaskModel(task, new ContractDeclaration(contract, ContractShapes.Build(method, attribute, assembly, cancellationToken)));
    }

    /// <summary>The contract shape of a plain <c>[Task]</c> method (not a contract's task or an implementation), or <see langword="null"/> for a broken one.</summary>
    public static ContractTask? ParseTaskShape(GeneratorAttributeSyntaxContext context, CancellationToken cancellationToken)
    {
        if (context.TargetSymbol is not IMethodSymbol method || context.Attributes.Length == 0
            || ContractRules.IsContractTask(method) || ContractRules.ImplementedContractTask(method) is not null)
        {
            return null;
        }

        var attribute = context.Attributes[0];
        var problems = new List<TaskProblem>();
        TaskRules.CheckDeclaration(method, attribute, problems, cancellationToken);
        return problems.Any(static p => p.SkipsTask)
            ? null
            : ContractShapes.Build(method, attribute, context.SemanticModel.Compilation.Assembly, cancellationToken);
    }

    /// <summary>A candidate for <see cref="ParseImplementation"/>: a class, record or struct declaration with a base list.</summary>
    public static bool IsCandidate(SyntaxNode node) => node is ClassDeclarationSyntax { BaseList: not null } or StructDeclarationSyntax { BaseList: not null } or RecordDeclarationSyntax { BaseList: not null };

    /// <summary>The contract tasks a class or struct handles, or <see langword="null"/> when it handles none or cannot be created.</summary>
    public static ImplementationModel? ParseImplementation(GeneratorSyntaxContext context, CancellationToken cancellationToken)
    {
        if (context.SemanticModel.GetDeclaredSymbol(context.Node, cancellationToken) is not INamedTypeSymbol type || !IsFirstDeclaration(type, context.Node, cancellationToken))
        {
            return null;
        }

        var contracts = ContractRules.ImplementedContracts(type);
        if (contracts.Count == 0 || TaskRules.IsInGenericType(type) || !SymbolNames.IsAccessibleFromAssembly(type) || TaskRules.ConstructorProblem(type, out _) is not null)
        {
            return null; // the analyzers report a contract implementation that cannot be created
        }

        var assembly = context.SemanticModel.Compilation.Assembly;
        var (constructor, dispose) = TaskParser.Instance(type);
        var ns = type.ContainingNamespace is { IsGlobalNamespace: false } n ? n.ToDisplayString() : string.Empty;
        var path = new List<string>();
        for (var current = type; current is not null; current = current.ContainingType)
        {
            path.Insert(0, current.Name);
        }

        var typeName = type.ToDisplayString(SymbolNames.Plain);
        var tasks = new List<TaskModel>();
        var shapes = new List<ContractTask>();
        foreach (var contract in contracts)
        {
            foreach (var (method, attribute) in ContractRules.Tasks(contract))
            {
                cancellationToken.ThrowIfCancellationRequested();
                if (type.FindImplementationForInterfaceMember(method) is not IMethodSymbol implementation)
                {
                    continue; // the compiler reports the missing member
                }

                var problems = new List<TaskProblem>();
                TaskRules.CheckDeclaration(method, attribute, problems, cancellationToken);
                if (problems.Any(static p => p.SkipsTask))
                {
                    continue; // reported where the contract is compiled
                }

                var task = TaskParser.Build(assembly, syntax: null, method, attribute, cancellationToken);
                var settings = task.Settings;
                if (ContractRules.TaskAttribute(implementation) is { } own)
                {
                    // The implementation adds run-time settings only; the analyzers report any other.
                    var runtime = TaskRules.ReadSettings(implementation, own, problems: null, cancellationToken);
                    settings = settings with
                    {
                        TimeoutTicks = runtime.TimeoutTicks ?? settings.TimeoutTicks,
                        MaxConcurrency = runtime.MaxConcurrency > 0 ? runtime.MaxConcurrency : settings.MaxConcurrency,
                    };
                }

                tasks.Add(task with
                {
                    Namespace = ns,
                    ContainingType = typeName,
                    ContainingTypePath = string.Join(".", path),
                    IsStatic = false,
                    ConstructorParameters = constructor,
                    Dispose = dispose,
                    Settings = settings,
                    Interface = contract.ToDisplayString(SymbolNames.Plain),
                });
                shapes.Add(ContractShapes.Build(method, task.TaskName, task.Settings.Queue, assembly));
            }
        }

        return tasks.Count == 0
            ? null
            : new ImplementationModel(typeName, (ns.Length > 0 ? ns + "." : string.Empty) + string.Join(".", path), tasks.ToEquatableArray(), shapes.ToEquatableArray());
    }

    /// <summary>Whether <paramref name="node"/> is the first declaration of <paramref name="type"/> with a base list, so a partial type is parsed once.</summary>
    private static bool IsFirstDeclaration(INamedTypeSymbol type, SyntaxNode node, CancellationToken cancellationToken)
    {
        foreach (var reference in type.DeclaringSyntaxReferences)
        {
            if (reference.GetSyntax(cancellationToken) is TypeDeclarationSyntax { BaseList: not null } declaration)
            {
                return declaration.SyntaxTree == node.SyntaxTree && declaration.Span == node.Span;
            }
        }

        return false;
    }
}
