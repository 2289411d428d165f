using System;
using System.Collections.Generic;
using System.Linq;
using Microsoft.CodeAnalysis;
using TypedJobs.Generators.Model;

namespace TypedJobs.Generators.Parsing;

/// <summary>
/// Builds the serialization shapes of the types a task uses, recursively. Shapes are keyed by type so that a
/// recursive type ends up as two shapes that name each other rather than as an infinite tree.
/// </summary>
internal sealed class TypeShapeBuilder
{
    private readonly Dictionary<string, TypeShape?> shapes = new(StringComparer.Ordinal);
    private readonly List<string> order = [];
    private readonly IAssemblySymbol assembly;

    public TypeShapeBuilder(IAssemblySymbol assembly)
    {
        this.assembly = assembly;
    }

    public EquatableArray<TypeShape> Shapes => order.Select(k => shapes[k]!).ToEquatableArray();

    /// <summary>Adds the shape of <paramref name="type"/> (and everything it contains) and returns its key.</summary>
    public string Add(ITypeSymbol type)
    {
        var key = type.ToKey();
        if (shapes.ContainsKey(key))
        {
            return key;
        }

        shapes[key] = null; // placeholder: breaks cycles
        order.Add(key);
        shapes[key] = Build(type, key);
        return key;
    }

    private TypeShape Build(ITypeSymbol type, string key)
    {
        var contextName = type.ToPlain();
        var name = ReadableName(type);

        TypeShape Shape(ShapeKind kind, PrimitiveKind primitive = PrimitiveKind.None, string? elementKey = null,
            string? elementType = null, EquatableArray<MemberShape> members = default, string? reason = null) =>
            new(key, key, name, kind, type.IsValueType, primitive, elementKey, elementType, members, contextName, reason);

        var primitiveKind = Primitive(type);
        if (primitiveKind != PrimitiveKind.None)
        {
            return Shape(ShapeKind.Primitive, primitiveKind);
        }

        if (type.TypeKind == TypeKind.Enum && type is INamedTypeSymbol { EnumUnderlyingType: { } underlying })
        {
            return IsAccessible(type)
                ? Shape(ShapeKind.Enum, elementKey: underlying.ToDisplayString(SymbolNames.Plain))
                : Shape(ShapeKind.Unsupported, reason: "it is not accessible from generated code");
        }

        if (type is INamedTypeSymbol { OriginalDefinition.SpecialType: SpecialType.System_Nullable_T } nullable)
        {
            var inner = nullable.TypeArguments[0];
            return Shape(ShapeKind.Nullable, elementKey: Add(inner), elementType: inner.ToAnnotated());
        }

        if (type is IArrayTypeSymbol array)
        {
            if (array.Rank != 1)
            {
                return Shape(ShapeKind.Unsupported, reason: "multi-dimensional arrays are not supported");
            }

            return Shape(ShapeKind.Array, elementKey: Add(array.ElementType), elementType: array.ElementType.ToAnnotated());
        }

        if (type is INamedTypeSymbol { IsGenericType: true } generic)
        {
            switch (generic.MetadataName())
            {
                case "System.Collections.Generic.List`1":
                case "System.Collections.Generic.IList`1":
                case "System.Collections.Generic.ICollection`1":
                case "System.Collections.Generic.IEnumerable`1":
                case "System.Collections.Generic.IReadOnlyList`1":
                case "System.Collections.Generic.IReadOnlyCollection`1":
                    var element = generic.TypeArguments[0];
                    return Shape(ShapeKind.List, elementKey: Add(element), elementType: element.ToAnnotated());
                case "System.Collections.Generic.Dictionary`2":
                case "System.Collections.Generic.IDictionary`2":
                case "System.Collections.Generic.IReadOnlyDictionary`2":
                    if (generic.TypeArguments[0].SpecialType != SpecialType.System_String)
                    {
                        return Shape(ShapeKind.Unsupported, reason: "only dictionaries with string keys are supported");
                    }

                    var value = generic.TypeArguments[1];
                    return Shape(ShapeKind.Dictionary, elementKey: Add(value), elementType: value.ToAnnotated());
            }
        }

        return BuildObject(type, Shape);
    }

    private TypeShape BuildObject(ITypeSymbol type, Func<ShapeKind, PrimitiveKind, string?, string?, EquatableArray<MemberShape>, string?, TypeShape> shape)
    {
        TypeShape Unsupported(string reason) => shape(ShapeKind.Unsupported, PrimitiveKind.None, null, null, default, reason);

        if (type is not INamedTypeSymbol named || (named.TypeKind != TypeKind.Class && named.TypeKind != TypeKind.Struct))
        {
            return Unsupported("it is not a class, record or struct");
        }

        if (named.SpecialType != SpecialType.None || named.IsAbstract || named.IsStatic || named.IsUnboundGenericType
            || named.TypeArguments.Any(static t => t.TypeKind == TypeKind.TypeParameter) || named.IsRefLikeType)
        {
            return Unsupported("it is abstract, static, open generic or a built-in type without a JSON form");
        }

        if (!IsAccessible(named))
        {
            return Unsupported("it is not accessible from generated code");
        }

        if (named.ContainingNamespace?.ToDisplayString() is { } ns && (ns == "System" || ns.StartsWith("System.", StringComparison.Ordinal)))
        {
            return Unsupported("it is a framework type without a built-in JSON form");
        }

        // Public readable instance properties, most derived first.
        var properties = new List<IPropertySymbol>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (var current = named; current is not null && current.SpecialType != SpecialType.System_Object; current = current.BaseType)
        {
            foreach (var member in current.GetMembers())
            {
                if (member is IPropertySymbol { IsStatic: false, IsIndexer: false, DeclaredAccessibility: Accessibility.Public, GetMethod.DeclaredAccessibility: Accessibility.Public } property
                    && !property.GetAttributes().Any(static a => a.AttributeClass?.Name == "JsonIgnoreAttribute")
                    && seen.Add(property.Name))
                {
                    properties.Add(property);
                }
            }
        }

        // The public constructor with the most parameters that all match a property by name and type.
        IMethodSymbol? constructor = null;
        foreach (var candidate in named.InstanceConstructors)
        {
            if (candidate.DeclaredAccessibility != Accessibility.Public
                || (candidate.Parameters.Length == 1 && SymbolEqualityComparer.Default.Equals(candidate.Parameters[0].Type, named)))
            {
                continue;
            }

            var matches = candidate.Parameters.All(p => p.RefKind == RefKind.None && properties.Any(pr =>
                string.Equals(pr.Name, p.Name, StringComparison.OrdinalIgnoreCase)
                && SymbolEqualityComparer.Default.Equals(pr.Type.WithNullableAnnotation(NullableAnnotation.None), p.Type.WithNullableAnnotation(NullableAnnotation.None))));
            if (matches && (constructor is null || candidate.Parameters.Length > constructor.Parameters.Length))
            {
                constructor = candidate;
            }
        }

        if (constructor is null)
        {
            return Unsupported("it has no public parameterless constructor and no public constructor whose parameters match its properties");
        }

        var members = new List<MemberShape>();
        foreach (var property in properties)
        {
            var index = -1;
            for (var i = 0; i < constructor.Parameters.Length; i++)
            {
                if (string.Equals(constructor.Parameters[i].Name, property.Name, StringComparison.OrdinalIgnoreCase))
                {
                    index = i;
                    break;
                }
            }

            var setter = SetterKind.None;
            if (index < 0 && property.SetMethod is { DeclaredAccessibility: Accessibility.Public } set)
            {
                setter = set.IsInitOnly || property.IsRequired ? SetterKind.Init : SetterKind.Set;
            }

            if (index < 0 && setter == SetterKind.None)
            {
                continue; // computed or read-only: neither written nor read
            }

            members.Add(new MemberShape(property.Name, property.Type.ToAnnotated(), Add(property.Type), property.Type.IsValueType, index, setter));
        }

        members.Sort(static (a, b) => (a.ConstructorIndex < 0 ? int.MaxValue : a.ConstructorIndex).CompareTo(b.ConstructorIndex < 0 ? int.MaxValue : b.ConstructorIndex));
        return shape(ShapeKind.Object, PrimitiveKind.None, null, null, members.ToEquatableArray(), null);
    }

    private bool IsAccessible(ITypeSymbol type) =>
        SymbolEqualityComparer.Default.Equals(type.ContainingAssembly, assembly)
            ? SymbolNames.IsAccessibleFromAssembly(type)
            : SymbolNames.IsPublicAllTheWay(type);

    private static PrimitiveKind Primitive(ITypeSymbol type)
    {
        switch (type.SpecialType)
        {
            case SpecialType.System_Boolean: return PrimitiveKind.Boolean;
            case SpecialType.System_Byte: return PrimitiveKind.Byte;
            case SpecialType.System_SByte: return PrimitiveKind.SByte;
            case SpecialType.System_Int16: return PrimitiveKind.Int16;
            case SpecialType.System_UInt16: return PrimitiveKind.UInt16;
            case SpecialType.System_Int32: return PrimitiveKind.Int32;
            case SpecialType.System_UInt32: return PrimitiveKind.UInt32;
            case SpecialType.System_Int64: return PrimitiveKind.Int64;
            case SpecialType.System_UInt64: return PrimitiveKind.UInt64;
            case SpecialType.System_Single: return PrimitiveKind.Single;
            case SpecialType.System_Double: return PrimitiveKind.Double;
            case SpecialType.System_Decimal: return PrimitiveKind.Decimal;
            case SpecialType.System_Char: return PrimitiveKind.Char;
            case SpecialType.System_String: return PrimitiveKind.String;
            case SpecialType.System_DateTime: return PrimitiveKind.DateTime;
        }

        if (type is IArrayTypeSymbol { Rank: 1, ElementType.SpecialType: SpecialType.System_Byte })
        {
            return PrimitiveKind.ByteArray;
        }

        return type.MetadataName() switch
        {
            "System.Guid" => PrimitiveKind.Guid,
            "System.DateTimeOffset" => PrimitiveKind.DateTimeOffset,
            "System.DateOnly" => PrimitiveKind.DateOnly,
            "System.TimeOnly" => PrimitiveKind.TimeOnly,
            "System.TimeSpan" => PrimitiveKind.TimeSpan,
            "System.Uri" => PrimitiveKind.Uri,
            _ => PrimitiveKind.None,
        };
    }

    /// <summary>A readable identifier fragment: <c>ListOfCustomer</c>, <c>Int32Array</c>, <c>NullableGuid</c>.</summary>
    private static string ReadableName(ITypeSymbol type)
    {
        switch (type)
        {
            case IArrayTypeSymbol array:
                return ReadableName(array.ElementType) + "Array";
            case INamedTypeSymbol { OriginalDefinition.SpecialType: SpecialType.System_Nullable_T } nullable:
                return "Nullable" + ReadableName(nullable.TypeArguments[0]);
            case INamedTypeSymbol named:
                var prefix = named.ContainingType is { } outer ? ReadableName(outer) : string.Empty;
                var text = prefix + named.Name;
                if (named.IsGenericType)
                {
                    text += "Of" + string.Join("And", named.TypeArguments.Select(ReadableName));
                }

                return text;
            default:
                return "Value";
        }
    }
}
