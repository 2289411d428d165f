using System.Collections.Generic;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Operations;

namespace TypedJobs.Analyzers;

/// <summary>A call in a task body that could take a cancellation token but is not given one.</summary>
/// <param name="Invocation">The call.</param>
/// <param name="ParameterName">The name of the <c>CancellationToken</c> parameter to pass the token to.</param>
/// <param name="ViaOverload">
/// <see langword="false"/>: the target's optional token parameter was left to its default; <see langword="true"/>: an
/// overload of the target takes a token as an extra last parameter.
/// </param>
internal sealed record CancellableCall(IInvocationOperation Invocation, string ParameterName, bool ViaOverload);

/// <summary>Finds calls that accept a <c>CancellationToken</c> (as a defaulted parameter or through an overload) but get none.</summary>
internal static class CancellableCalls
{
    public static List<CancellableCall> Find(IEnumerable<IOperation> blocks)
    {
        var result = new List<CancellableCall>();
        foreach (var block in blocks)
        {
            foreach (var operation in block.DescendantsAndSelf())
            {
                if (operation is IInvocationOperation invocation && Classify(invocation) is { } call)
                {
                    result.Add(call);
                }
            }
        }

        return result;
    }

    private static CancellableCall? Classify(IInvocationOperation invocation)
    {
        var target = invocation.TargetMethod;
        foreach (var argument in invocation.Arguments)
        {
            if (argument.Parameter is { } parameter && TaskSymbols.IsCancellationToken(parameter.Type))
            {
                return argument.ArgumentKind == ArgumentKind.DefaultValue ? new CancellableCall(invocation, parameter.Name, ViaOverload: false) : null;
            }
        }

        // An overload with the same parameters plus a trailing token, e.g. Task.Delay(int) and Task.Delay(int, CancellationToken).
        var parameters = target.OriginalDefinition.Parameters;
        foreach (var member in target.ContainingType.GetMembers(target.Name))
        {
            if (member is IMethodSymbol overload
                && overload.IsStatic == target.IsStatic
                && overload.Parameters.Length == parameters.Length + 1
                && overload.TypeParameters.Length == target.TypeParameters.Length
                && TaskSymbols.IsCancellationToken(overload.Parameters[parameters.Length].Type)
                && overload.DeclaredAccessibility == Accessibility.Public
                && !overload.GetAttributes().Any(static a => a.AttributeClass?.Name == "ObsoleteAttribute")
                && parameters.Select(static p => p.RefKind + " " + p.Type.ToDisplayString()).SequenceEqual(
                    overload.Parameters.Take(parameters.Length).Select(static p => p.RefKind + " " + p.Type.ToDisplayString())))
            {
                return new CancellableCall(invocation, overload.Parameters[parameters.Length].Name, ViaOverload: true);
            }
        }

        return null;
    }
}
