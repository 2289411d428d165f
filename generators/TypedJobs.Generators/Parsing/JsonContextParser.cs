using System.Collections.Generic;
using System.Threading;
using Microsoft.CodeAnalysis;
using TypedJobs.Generators.Model;

namespace TypedJobs.Generators.Parsing;

/// <summary>Reads the types a user <c>JsonSerializerContext</c> declares with <c>[JsonSerializable(typeof(T))]</c>.</summary>
internal static class JsonContextParser
{
    public const string AttributeName = "System.Text.Json.Serialization.JsonSerializableAttribute";

    public static EquatableArray<JsonContextEntry> Parse(GeneratorAttributeSyntaxContext context, CancellationToken cancellationToken)
    {
        if (context.TargetSymbol is not INamedTypeSymbol contextType || !SymbolNames.IsAccessibleFromAssembly(contextType) || contextType.IsGenericType)
        {
            return EquatableArray<JsonContextEntry>.Empty;
        }

        var isContext = false;
        for (var baseType = contextType.BaseType; baseType is not null; baseType = baseType.BaseType)
        {
            if (baseType.MetadataName() == "System.Text.Json.Serialization.JsonSerializerContext")
            {
                isContext = true;
                break;
            }
        }

        if (!isContext)
        {
            return EquatableArray<JsonContextEntry>.Empty;
        }

        var entries = new List<JsonContextEntry>();
        var contextName = contextType.ToDisplayString(SymbolNames.Plain);
        foreach (var attribute in context.Attributes)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (attribute.ConstructorArguments.Length > 0 && attribute.ConstructorArguments[0].Value is ITypeSymbol type)
            {
                entries.Add(new JsonContextEntry(type.ToPlain(), contextName));
            }
        }

        return entries.ToEquatableArray();
    }
}
