namespace TypedJobs.Generators.Model;

/// <summary>How values of a type are written to and read from JSON.</summary>
internal enum ShapeKind
{
    Primitive,
    Enum,
    Nullable,
    Array,
    List,
    Dictionary,
    Object,
    Unsupported,
}

/// <summary>The built-in scalar types.</summary>
internal enum PrimitiveKind
{
    None,
    Boolean,
    Byte,
    SByte,
    Int16,
    UInt16,
    Int32,
    UInt32,
    Int64,
    UInt64,
    Single,
    Double,
    Decimal,
    Char,
    String,
    Guid,
    DateTime,
    DateTimeOffset,
    DateOnly,
    TimeOnly,
    TimeSpan,
    Uri,
    ByteArray,
}

/// <summary>
/// The serialization shape of one type. Shapes refer to each other by <see cref="Key"/>, so recursive types
/// are plain data.
/// </summary>
/// <param name="Key">The type with nullable annotations, except a top-level one on a reference type.</param>
/// <param name="Type">The type as written in generated code (same as the key).</param>
/// <param name="Name">A readable identifier fragment for helper method names.</param>
/// <param name="Kind">The shape.</param>
/// <param name="IsValueType">Whether the type is a value type.</param>
/// <param name="Primitive">The scalar kind for <see cref="ShapeKind.Primitive"/>.</param>
/// <param name="ElementKey">The element (list), value (dictionary) or underlying (nullable) shape's key; for enums the underlying type keyword.</param>
/// <param name="ElementType">The element or value type as written, with annotations.</param>
/// <param name="Members">The serialized members of an object shape.</param>
/// <param name="ContextName">The type without annotations, to match <c>[JsonSerializable]</c> entries.</param>
/// <param name="Reason">Why the type is unsupported.</param>
/// <param name="ElementRejectsNull">Whether a JSON <c>null</c> element or value is refused (non-nullable reference type).</param>
/// <param name="SupportsWith">Whether the type is a record or a struct, so <c>with</c> can set an <c>init</c> member later.</param>
/// <param name="Fixable">For an unsupported type: whether declaring it on a <c>JsonSerializerContext</c> can help.</param>
/// <param name="EnumValues">For an enum: its members and their values, in declaration order (recorded by task contracts).</param>
internal sealed record TypeShape(
    string Key,
    string Type,
    string Name,
    ShapeKind Kind,
    bool IsValueType,
    PrimitiveKind Primitive,
    string? ElementKey,
    string? ElementType,
    EquatableArray<MemberShape> Members,
    string ContextName,
    string? Reason,
    bool ElementRejectsNull = false,
    bool SupportsWith = false,
    bool Fixable = true,
    EquatableArray<ContractEnumValue> EnumValues = default);

/// <summary>A serialized property or field of an object shape.</summary>
/// <param name="Name">The member name, also the JSON key.</param>
/// <param name="Type">The member type as written, with annotations.</param>
/// <param name="TypeKey">The key of the member type's shape.</param>
/// <param name="IsValueType">Whether the member type is a value type.</param>
/// <param name="ConstructorIndex">The position of the matching constructor parameter, or -1.</param>
/// <param name="Setter">How the member is set when it is not a constructor argument.</param>
/// <param name="DefaultValue">The matching constructor parameter's default value as a C# expression, used when the key is missing.</param>
/// <param name="RejectsNull">Whether JSON <c>null</c> is refused (a non-nullable reference type in nullable-aware code).</param>
/// <param name="IsRequired">Whether the member is <c>required</c> (its key must be present).</param>
/// <param name="IsSensitive">Whether the member (or its constructor parameter) is marked <c>[Sensitive]</c>.</param>
internal sealed record MemberShape(
    string Name,
    string Type,
    string TypeKey,
    bool IsValueType,
    int ConstructorIndex,
    SetterKind Setter,
    string? DefaultValue = null,
    bool RejectsNull = false,
    bool IsRequired = false,
    bool IsSensitive = false);

/// <summary>How a property is assigned when it is not passed to the constructor.</summary>
internal enum SetterKind
{
    None,
    Set,
    Init,
}
