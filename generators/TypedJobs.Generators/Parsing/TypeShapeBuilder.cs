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
            string? elementType = null, EquatableArray<MemberShape> members = default, string? reason = null, ITypeSymbol? element = null) =>
            new(key, key, name, kind, type.IsValueType, primitive, elementKey, elementType, members, contextName, reason,
                ElementRejectsNull: element?.RejectsNull() ?? false,
                SupportsWith: type is INamedTypeSymbol { IsRecord: true } || type.IsValueType,
                Fixable: kind != ShapeKind.Unsupported || IsFixable(type));

        var primitiveKind = Primitive(type);
        if (primitiveKind != PrimitiveKind.None)
        {
            return Shape(ShapeKind.Primitive, primitiveKind);
        }

        if (type.TypeKind == TypeKind.Enum && type is INamedTypeSymbol { EnumUnderlyingType: { } underlying })
        {
            return IsAccessible(type)
                ? Shape(ShapeKind.Enum, elementKey: underlying.ToDisplayString(SymbolNames.Plain)) with { EnumValues = EnumValues(type) }
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

            return Shape(ShapeKind.Array, elementKey: Add(array.ElementType), elementType: array.ElementType.ToAnnotated(), element: array.ElementType);
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
                    return Shape(ShapeKind.List, elementKey: Add(element), elementType: element.ToAnnotated(), element: element);
                case "System.Collections.Generic.Dictionary`2":
                case "System.Collections.Generic.IDictionary`2":
                case "System.Collections.Generic.IReadOnlyDictionary`2":
                    if (generic.TypeArguments[0].SpecialType != SpecialType.System_String)
                    {
                        return Shape(ShapeKind.Unsupported, reason: "only dictionaries with string keys are supported");
                    }

                    var value = generic.TypeArguments[1];
                    return Shape(ShapeKind.Dictionary, elementKey: Add(value), elementType: value.ToAnnotated(), element: value);
            }
        }

        return BuildObject(type, (kind, members, reason) => Shape(kind, members: members, reason: reason));
    }

    /// <summary>
    /// Whether a <c>JsonSerializerContext</c> of the assembly could serialize a type the built-in shapes cannot: it must
    /// be nameable there and be something System.Text.Json handles at all.
    /// </summary>
    private bool IsFixable(ITypeSymbol type) =>
        type.TypeKind is not (TypeKind.Pointer or TypeKind.FunctionPointer or TypeKind.TypeParameter or TypeKind.Delegate or TypeKind.Error)
        && !type.IsRefLikeType
        && type is not IArrayTypeSymbol { Rank: > 1 }
        && (type is not INamedTypeSymbol named || (!named.IsUnboundGenericType && !named.TypeArguments.Any(static t => t.TypeKind == TypeKind.TypeParameter)))
        && (type is IArrayTypeSymbol || IsAccessible(type));

    private TypeShape BuildObject(ITypeSymbol type, Func<ShapeKind, EquatableArray<MemberShape>, string?, TypeShape> shape)
    {
        TypeShape Unsupported(string reason) => shape(ShapeKind.Unsupported, default, reason);

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

        // Public readable instance properties and fields, most derived first.
        var candidates = new List<ISymbol>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (var current = named; current is not null && current.SpecialType != SpecialType.System_Object; current = current.BaseType)
        {
            foreach (var member in current.GetMembers())
            {
                var readable = member switch
                {
                    IPropertySymbol { IsStatic: false, IsIndexer: false, DeclaredAccessibility: Accessibility.Public, GetMethod.DeclaredAccessibility: Accessibility.Public } => true,
                    IFieldSymbol { IsStatic: false, IsConst: false, IsImplicitlyDeclared: false, DeclaredAccessibility: Accessibility.Public } => true,
                    _ => false,
                };
                if (readable && !member.GetAttributes().Any(static a => a.AttributeClass?.Name == "JsonIgnoreAttribute") && seen.Add(member.Name))
                {
                    candidates.Add(member);
                }
            }
        }

        static ITypeSymbol TypeOf(ISymbol member) => member is IPropertySymbol property ? property.Type : ((IFieldSymbol)member).Type;

        // The public constructor with the most parameters that all match a member by name and type.
        IMethodSymbol? constructor = null;
        foreach (var candidate in named.InstanceConstructors)
        {
            if (candidate.DeclaredAccessibility != Accessibility.Public
                || (candidate.Parameters.Length == 1 && SymbolEqualityComparer.Default.Equals(candidate.Parameters[0].Type, named)))
            {
                continue;
            }

            var matches = candidate.Parameters.All(p => p.RefKind == RefKind.None && candidates.Any(m =>
                string.Equals(m.Name, p.Name, StringComparison.OrdinalIgnoreCase)
                && SymbolEqualityComparer.Default.Equals(TypeOf(m).WithNullableAnnotation(NullableAnnotation.None), p.Type.WithNullableAnnotation(NullableAnnotation.None))));
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
        foreach (var member in candidates)
        {
            var index = -1;
            for (var i = 0; i < constructor.Parameters.Length; i++)
            {
                if (string.Equals(constructor.Parameters[i].Name, member.Name, StringComparison.OrdinalIgnoreCase))
                {
                    index = i;
                    break;
                }
            }

            var memberType = TypeOf(member);
            var required = member is IPropertySymbol { IsRequired: true } or IFieldSymbol { IsRequired: true };
            var setter = SetterKind.None;
            string? problem = null;
            switch (member)
            {
                case IPropertySymbol { SetMethod: { } set } when CanCall(set):
                    setter = set.IsInitOnly || required ? SetterKind.Init : SetterKind.Set;
                    break;
                case IPropertySymbol { SetMethod: not null }:
                    problem = "property '" + member.Name + "' has a setter generated code cannot call and no matching constructor parameter, so it would not round-trip";
                    break;
                case IFieldSymbol { IsReadOnly: false }:
                    setter = required ? SetterKind.Init : SetterKind.Set;
                    break;
            }

            if (index < 0 && setter == SetterKind.None)
            {
                if (problem is not null)
                {
                    return Unsupported(problem);
                }

                continue; // computed, get-only or readonly: set by the type itself, neither written nor read
            }

            string? defaultValue = null;
            if (index >= 0 && constructor.Parameters[index] is { HasExplicitDefaultValue: true } parameter)
            {
                defaultValue = ConstantFormatter.Format(parameter.Type, parameter.ExplicitDefaultValue);
            }

            var sensitive = SymbolNames.IsSensitive(member) || (index >= 0 && SymbolNames.IsSensitive(constructor.Parameters[index]));
            members.Add(new MemberShape(member.Name, memberType.ToAnnotated(), Add(memberType), memberType.IsValueType, index,
                index >= 0 ? SetterKind.None : setter, defaultValue, memberType.RejectsNull(), required && index < 0, sensitive));
        }

        members.Sort(static (a, b) => (a.ConstructorIndex < 0 ? int.MaxValue : a.ConstructorIndex).CompareTo(b.ConstructorIndex < 0 ? int.MaxValue : b.ConstructorIndex));
        return shape(ShapeKind.Object, members.ToEquatableArray(), null);
    }

    /// <summary>The members of an enum and their values, in declaration order.</summary>
    private static EquatableArray<ContractEnumValue> EnumValues(ITypeSymbol type) =>
        type.GetMembers().OfType<IFieldSymbol>()
            .Where(static f => f.HasConstantValue)
            .Select(static f => new ContractEnumValue(f.Name, Convert.ToString(f.ConstantValue, System.Globalization.CultureInfo.InvariantCulture) ?? "0"))
            .ToEquatableArray();

    /// <summary>Whether generated code in the compilation's assembly can call <paramref name="accessor"/>.</summary>
    private bool CanCall(IMethodSymbol accessor) =>
        accessor.DeclaredAccessibility == Accessibility.Public
        || (accessor.DeclaredAccessibility is Accessibility.Internal or Accessibility.ProtectedOrInternal
            && SymbolEqualityComparer.Default.Equals(accessor.ContainingAssembly, assembly));

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
