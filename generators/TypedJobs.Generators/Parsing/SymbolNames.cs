using System.Linq;
using Microsoft.CodeAnalysis;

namespace TypedJobs.Generators.Parsing;

/// <summary>Display formats and name helpers shared by the parsers.</summary>
internal static class SymbolNames
{
    /// <summary><c>global::</c>-qualified names with nullable reference annotations.</summary>
    public static readonly SymbolDisplayFormat Annotated = SymbolDisplayFormat.FullyQualifiedFormat
        .AddMiscellaneousOptions(SymbolDisplayMiscellaneousOptions.IncludeNullableReferenceTypeModifier);

    /// <summary><c>global::</c>-qualified names without nullable reference annotations.</summary>
    public static readonly SymbolDisplayFormat Plain = SymbolDisplayFormat.FullyQualifiedFormat;

    public static string ToAnnotated(this ITypeSymbol type) => type.ToDisplayString(Annotated);

    /// <summary>The type as written, without a top-level <c>?</c> on a reference type (nested annotations stay).</summary>
    public static string ToKey(this ITypeSymbol type) =>
        (type.IsReferenceType ? type.WithNullableAnnotation(NullableAnnotation.NotAnnotated) : type).ToDisplayString(Annotated);

    /// <summary>Whether JSON <c>null</c> must be refused for a value of <paramref name="type"/>: a non-nullable reference type in nullable-aware code.</summary>
    public static bool RejectsNull(this ITypeSymbol type) =>
        type.IsReferenceType && type.NullableAnnotation == NullableAnnotation.NotAnnotated;

    public static string ToPlain(this ITypeSymbol type) =>
        type.WithNullableAnnotation(NullableAnnotation.None).ToDisplayString(Plain);

    /// <summary>The metadata-style name of a type's definition, e.g. <c>System.Collections.Generic.List`1</c>.</summary>
    public static string MetadataName(this ITypeSymbol type)
    {
        var definition = type.OriginalDefinition;
        var ns = definition.ContainingNamespace is { IsGlobalNamespace: false } n ? n.ToDisplayString() + "." : string.Empty;
        return ns + definition.MetadataName;
    }

    /// <summary>Whether code in the same assembly can name the symbol (public or internal all the way out).</summary>
    public static bool IsAccessibleFromAssembly(ISymbol symbol)
    {
        for (var current = symbol; current is not null and not INamespaceSymbol; current = current.ContainingSymbol)
        {
            if (current is INamedTypeSymbol { IsFileLocal: true })
            {
                return false; // file-local types cannot be named from another file
            }

            switch (current.DeclaredAccessibility)
            {
                case Accessibility.Public:
                case Accessibility.Internal:
                case Accessibility.ProtectedOrInternal:
                    break;
                default:
                    return false;
            }
        }

        return true;
    }

    /// <summary>Whether the symbol and every containing type are public.</summary>
    public static bool IsPublicAllTheWay(ISymbol symbol)
    {
        for (var current = symbol; current is not null and not INamespaceSymbol; current = current.ContainingSymbol)
        {
            if (current.DeclaredAccessibility != Accessibility.Public)
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Whether a parameter, property or field is marked <c>[TypedJobs.Sensitive]</c>.</summary>
    public static bool IsSensitive(ISymbol symbol) =>
        symbol.GetAttributes().Any(static a => a.AttributeClass is { Name: "SensitiveAttribute", ContainingNamespace: { Name: "TypedJobs", ContainingNamespace.IsGlobalNamespace: true } });
}
