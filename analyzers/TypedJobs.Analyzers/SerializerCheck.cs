using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using TypedJobs.Generators.Diagnostics;
using TypedJobs.Generators.Model;
using TypedJobs.Generators.Parsing;
using TypedJobs.Generators.Rules;

namespace TypedJobs.Analyzers;

/// <summary>
/// TJ1007: every payload and result type of a task, walked recursively with the generator's own shape builder, must
/// have a built-in shape or be declared on a <c>JsonSerializerContext</c> of the assembly.
/// </summary>
internal sealed class SerializerCheck
{
    private readonly Compilation compilation;
    private readonly Lazy<Dictionary<string, string>> contexts;

    public SerializerCheck(Compilation compilation)
    {
        this.compilation = compilation;
        contexts = new Lazy<Dictionary<string, string>>(() => FindContexts(compilation, CancellationToken.None), LazyThreadSafetyMode.ExecutionAndPublication);
    }

    public void Check(IMethodSymbol method, List<TaskProblem> problems, CancellationToken cancellationToken)
    {
        var display = TaskRules.DefaultTaskName(method);
        foreach (var parameter in method.Parameters)
        {
            if (TaskRules.IsPayload(parameter))
            {
                CheckRoot(parameter.Type, parameter.Locations.FirstOrDefault(), display, problems, cancellationToken);
            }
        }

        if (TaskRules.ClassifyReturn(method).Result is { } result)
        {
            var location = method.DeclaringSyntaxReferences.FirstOrDefault()?.GetSyntax(cancellationToken) is MethodDeclarationSyntax syntax
                ? ResultSyntax(syntax.ReturnType).GetLocation()
                : method.Locations.FirstOrDefault();
            CheckRoot(result, location, display, problems, cancellationToken);
        }
    }

    /// <summary>The <c>T</c> of a <c>Task&lt;T&gt;</c> or <c>ValueTask&lt;T&gt;</c> return type, else the return type itself.</summary>
    private static TypeSyntax ResultSyntax(TypeSyntax returnType)
    {
        var name = returnType is QualifiedNameSyntax qualified ? qualified.Right : returnType;
        return name is GenericNameSyntax { Identifier.ValueText: "Task" or "ValueTask", TypeArgumentList.Arguments.Count: 1 } generic
            ? generic.TypeArgumentList.Arguments[0]
            : returnType;
    }

    private void CheckRoot(ITypeSymbol type, Location? location, string task, List<TaskProblem> problems, CancellationToken cancellationToken)
    {
        var reported = new HashSet<string>(StringComparer.Ordinal);
        var builder = new TypeShapeBuilder(compilation.Assembly);
        var root = builder.Add(type);
        var shapes = builder.Shapes.ToDictionary(static s => s.Key, StringComparer.Ordinal);
        var visited = new HashSet<string>(StringComparer.Ordinal);
        var pending = new Stack<string>();
        pending.Push(root);
        while (pending.Count > 0)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var key = pending.Pop();
            if (!visited.Add(key) || !shapes.TryGetValue(key, out var shape))
            {
                continue;
            }

            if (shape.Kind is ShapeKind.Object or ShapeKind.Unsupported && contexts.Value.ContainsKey(shape.ContextName))
            {
                continue; // the user's context serializes it, with everything it contains
            }

            if (shape.Kind == ShapeKind.Unsupported && reported.Add(shape.ContextName))
            {
                problems.Add(new TaskProblem(DiagnosticDescriptors.NoSerializer, location, false,
                    shape.ContextName.Replace("global::", string.Empty), task, shape.Reason ?? "it is not supported")
                {
                    // Only a type a JsonSerializerContext of the assembly could serialize gets the code fix's property.
                    Properties = shape.Fixable
                        ? ImmutableDictionary<string, string?>.Empty.Add(TaskAnalyzer.TypeNameProperty, shape.ContextName)
                        : ImmutableDictionary<string, string?>.Empty,
                });
            }

            if (shape.ElementKey is not null && shape.Kind != ShapeKind.Enum)
            {
                pending.Push(shape.ElementKey);
            }

            foreach (var member in shape.Members)
            {
                pending.Push(member.TypeKey);
            }
        }
    }

    /// <summary>The types declared by the assembly's own <c>JsonSerializerContext</c> classes.</summary>
    internal static Dictionary<string, string> FindContexts(Compilation compilation, CancellationToken cancellationToken)
    {
        var entries = new List<JsonContextEntry>();
        var pending = new Stack<INamespaceOrTypeSymbol>();
        pending.Push(compilation.Assembly.GlobalNamespace);
        while (pending.Count > 0)
        {
            cancellationToken.ThrowIfCancellationRequested();
            foreach (var member in pending.Pop().GetMembers())
            {
                if (member is INamespaceSymbol ns)
                {
                    pending.Push(ns);
                }
                else if (member is INamedTypeSymbol type)
                {
                    pending.Push(type);
                    if (type.TypeKind == TypeKind.Class && JsonContextParser.IsContext(type))
                    {
                        var attributes = type.GetAttributes().Where(static a => a.AttributeClass?.ToDisplayString() == JsonContextParser.AttributeName);
                        entries.AddRange(JsonContextParser.Read(type, attributes, cancellationToken));
                    }
                }
            }
        }

        var map = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var entry in entries)
        {
            if (!map.ContainsKey(entry.TypeName))
            {
                map.Add(entry.TypeName, entry.Context);
            }
        }

        return map;
    }
}
