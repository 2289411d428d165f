using Microsoft.CodeAnalysis;

namespace TypedJobs.Analyzers;

/// <summary>Symbol helpers shared by the analyzers and the code fixes.</summary>
internal static class TaskSymbols
{
    /// <summary>The <c>[Task]</c> attribute of <paramref name="method"/>, or <see langword="null"/>.</summary>
    public static AttributeData? TaskAttribute(IMethodSymbol method, INamedTypeSymbol taskAttribute)
    {
        foreach (var attribute in method.GetAttributes())
        {
            if (SymbolEqualityComparer.Default.Equals(attribute.AttributeClass, taskAttribute))
            {
                return attribute;
            }
        }

        return null;
    }

    /// <summary>Whether <paramref name="type"/> is <c>System.Threading.CancellationToken</c>.</summary>
    public static bool IsCancellationToken(ITypeSymbol? type) =>
        type is { Name: "CancellationToken", ContainingNamespace: { Name: "Threading", ContainingNamespace: { Name: "System", ContainingNamespace.IsGlobalNamespace: true } } };
}
