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

        return new ParseResult(Build(context, method, attribute, cancellationToken), EquatableArray<DiagnosticInfo>.Empty);
    }

    private static DiagnosticInfo ToInfo(TaskProblem problem) =>
        new(problem.Descriptor.Id, LocationInfo.From(problem.Location), problem.Arguments.ToEquatableArray());

    private static TaskModel Build(GeneratorAttributeSyntaxContext context, IMethodSymbol method, AttributeData attribute, CancellationToken cancellationToken)
    {
        var type = method.ContainingType;
        var (returnKind, resultType) = TaskRules.ClassifyReturn(method);
        var shapes = new TypeShapeBuilder(context.SemanticModel.Compilation.Assembly);
        var docs = DocumentationReader.Read(method, context.TargetNode);

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
        var constructorParameters = new List<ParameterModel>();
        var dispose = DisposeKind.None;
        if (!method.IsStatic)
        {
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
        }

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
            constructorParameters.ToEquatableArray(),
            dispose,
            settings,
            docs.Summary,
            shapes.Shapes);
    }
}
