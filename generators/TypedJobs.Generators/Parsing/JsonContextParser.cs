using System.Collections.Generic;
using System.Threading;
using Microsoft.CodeAnalysis;
using TypedJobs.Generators.Model;

namespace TypedJobs.Generators.Parsing;

/// <summary>Reads the types a user <c>JsonSerializerContext</c> declares with <c>[JsonSerializable(typeof(T))]</c>.</summary>
internal static class JsonContextParser
{
    public const string AttributeName = "System.Text.Json.Serialization.JsonSerializableAttribute";

    public static EquatableArray<JsonContextEntry> Parse(GeneratorAttributeSyntaxContext context, CancellationToken cancellationToken) =>
        context.TargetSymbol is INamedTypeSymbol contextType
            ? Read(contextType, context.Attributes, cancellationToken).ToEquatableArray()
            : EquatableArray<JsonContextEntry>.Empty;

    /// <summary>
    /// The types <paramref name="contextType"/> declares, when it is a non-generic <c>JsonSerializerContext</c> that
    /// generated code can name; <paramref name="attributes"/> are its <c>[JsonSerializable]</c> attributes.
    /// </summary>
    public static List<JsonContextEntry> Read(INamedTypeSymbol contextType, IEnumerable<AttributeData> attributes, CancellationToken cancellationToken)
    {
        var entries = new List<JsonContextEntry>();
        if (!IsContext(contextType))
        {
            return entries;
        }

        var contextName = contextType.ToDisplayString(SymbolNames.Plain);
        foreach (var attribute in attributes)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (attribute.ConstructorArguments.Length > 0 && attribute.ConstructorArguments[0].Value is ITypeSymbol type)
            {
                entries.Add(new JsonContextEntry(type.ToPlain(), contextName));
            }
        }

        return entries;
    }

    /// <summary>Whether <paramref name="type"/> is a non-generic <c>JsonSerializerContext</c> that generated code in its assembly can name.</summary>
    public static bool IsContext(INamedTypeSymbol type)
    {
        if (!SymbolNames.IsAccessibleFromAssembly(type) || type.IsGenericType)
        {
            return false;
        }

        for (var baseType = type.BaseType; baseType is not null; baseType = baseType.BaseType)
        {
            if (baseType.MetadataName() == "System.Text.Json.Serialization.JsonSerializerContext")
            {
                return true;
            }
        }

        return false;
    }
}
