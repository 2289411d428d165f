using System.Collections.Generic;
using System.Linq;
using System.Threading;
using Microsoft.CodeAnalysis;
using TypedJobs.Generators.Model;
using TypedJobs.Generators.Rules;

namespace TypedJobs.Generators.Parsing;

/// <summary>
/// Turns one <c>[Task]</c> method into a <see cref="ParseResult"/>: the <see cref="TaskModel"/> of a valid task, or,
/// for a task that breaks a declaration rule, the problems (with their locations) that skip it. A valid task's result
/// holds no location, so edits that only move code leave it equal.
/// </summary>
internal static class TaskParser
{
    public static ParseResult? Parse(GeneratorAttributeSyntaxContext context, CancellationToken cancellationToken)
    {
        if (context.TargetSymbol is not IMethodSymbol method || context.Attributes.Length == 0)
        {
            return null;
        }

        var attribute = context.Attributes[0];
        var problems = new List<TaskProblem>();
        TaskRules.CheckDeclaration(method, attribute, problems, cancellationToken);
        if (problems.Any(static p => p.SkipsTask))
        {
            // The analyzers report these; the generator reports them only when the analyzers do not run.
            return new ParseResult(null, problems.Select(static p => ToInfo(p)).ToEquatableArray());
        }

        // A contract's tasks and their implementations are parsed with the contract (ContractParser).
        if (ContractRules.IsContractTask(method) || ContractRules.ImplementedContractTask(method) is not null)
        {
            return null;
        }

        return new ParseResult(Build(context, method, attribute, cancellationToken), EquatableArray<DiagnosticInfo>.Empty);
    }

    private static DiagnosticInfo ToInfo(TaskProblem problem) =>
        new(problem.Descriptor.Id, LocationInfo.From(problem.Location), problem.Arguments.ToEquatableArray());

    private static TaskModel Build(GeneratorAttributeSyntaxContext context, IMethodSymbol method, AttributeData attribute, CancellationToken cancellationToken) =>
        Build(context.SemanticModel.Compilation.Assembly, context.TargetNode, method, attribute, cancellationToken);

    /// <summary>
    /// The model of a valid task declared by <paramref name="method"/> in a compilation of <paramref name="assembly"/>;
    /// <paramref name="syntax"/> is its declaration, when in source, for documentation. The task of a contract interface
    /// gets no constructor or disposal: its implementation is created (see <see cref="Instance"/>).
    /// </summary>
    internal static TaskModel Build(IAssemblySymbol assembly, SyntaxNode? syntax, IMethodSymbol method, AttributeData attribute, CancellationToken cancellationToken)
    {
        var type = method.ContainingType;
        var (returnKind, resultType) = TaskRules.ClassifyReturn(method);
        var shapes = new TypeShapeBuilder(assembly);
        var docs = DocumentationReader.Read(method, syntax);

        // Method parameters.
        var parameters = new List<ParameterModel>();
        foreach (var parameter in method.Parameters)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var source = TaskRules.ClassifyArgument(parameter, isConstructor: false);
            var parameterType = parameter.Type;
            if (parameter.HasExplicitDefaultValue && parameter.ExplicitDefaultValue is null && parameterType.IsReferenceType)
            {
                // A null default needs a nullable type where the generated code is compiled with nullable enabled.
                parameterType = parameterType.WithNullableAnnotation(NullableAnnotation.Annotated);
            }

            var key = source == ArgumentSource.Payload ? shapes.Add(parameterType) : string.Empty;
            parameters.Add(new ParameterModel(
                parameter.Name,
                parameterType.ToAnnotated(),
                parameterType.ToDisplayString(SymbolNames.Plain),
                source,
                key,
                parameterType.IsValueType,
                parameter.HasExplicitDefaultValue ? ConstantFormatter.Format(parameterType, parameter.ExplicitDefaultValue) : null,
                docs.Parameter(parameter.Name),
                parameter.IsParams,
                parameterType.RejectsNull(),
                TaskRules.ServiceKey(parameter),
                source == ArgumentSource.Payload && SymbolNames.IsSensitive(parameter)));
        }

        string? resultKey = null;
        if (resultType is not null)
        {
            resultKey = shapes.Add(resultType);
        }

        // Instance tasks: constructor and disposal.
        var (constructorParameters, dispose) = method.IsStatic || type.TypeKind == TypeKind.Interface
            ? (EquatableArray<ParameterModel>.Empty, DisposeKind.None)
            : Instance(type);

        var settings = TaskRules.ReadSettings(method, attribute, problems: null, cancellationToken);
        var ns = type.ContainingNamespace is { IsGlobalNamespace: false } n ? n.ToDisplayString() : string.Empty;
        var path = new List<string>();
        for (var current = type; current is not null; current = current.ContainingType)
        {
            path.Insert(0, current.Name);
        }

        return new TaskModel(
            ns,
            type.ToDisplayString(SymbolNames.Plain),
            string.Join(".", path),
            method.Name,
            TaskRules.TaskName(method, attribute),
            method.IsStatic,
            SymbolNames.IsPublicAllTheWay(method),
            returnKind!.Value,
            resultType?.ToAnnotated(),
            resultKey,
            parameters.ToEquatableArray(),
            constructorParameters,
            dispose,
            settings,
            docs.Summary,
            shapes.Shapes);
    }

    /// <summary>How generated code creates and disposes an instance of <paramref name="type"/>: the parameters of its constructor, and its disposal.</summary>
    internal static (EquatableArray<ParameterModel> Constructor, DisposeKind Dispose) Instance(INamedTypeSymbol type)
    {
        var constructorParameters = new List<ParameterModel>();
        var dispose = DisposeKind.None;
        TaskRules.ConstructorProblem(type, out var constructor);
        foreach (var parameter in constructor!.Parameters)
        {
            var source = TaskRules.ClassifyArgument(parameter, isConstructor: true);
            constructorParameters.Add(new ParameterModel(parameter.Name, parameter.Type.ToAnnotated(), parameter.Type.ToDisplayString(SymbolNames.Plain),
                source, string.Empty, parameter.Type.IsValueType, null, null, ServiceKey: TaskRules.ServiceKey(parameter)));
        }

        if (type.AllInterfaces.Any(static i => i.MetadataName() == "System.IAsyncDisposable"))
        {
            dispose = DisposeKind.AsyncDisposable;
        }
        else if (type.AllInterfaces.Any(static i => i.SpecialType == SpecialType.System_IDisposable))
        {
            dispose = DisposeKind.Disposable;
        }

        return (constructorParameters.ToEquatableArray(), dispose);
    }
}
