using System.Collections.Generic;
using System.Globalization;
using TypedJobs.Generators.Model;

namespace TypedJobs.Generators.Emit;

/// <summary>
/// The statements and expressions that write and read one value with <c>Utf8JsonWriter</c>/<c>Utf8JsonReader</c>:
/// most scalars inline, everything else through the assembly's JSON helper class (see <see cref="JsonEmitter"/>),
/// whose helper names depend only on the type, so a file that calls them never depends on other tasks.
/// </summary>
internal sealed class JsonCode
{
    public const string Json = "global::System.Text.Json";
    public const string Invariant = "global::System.Globalization.CultureInfo.InvariantCulture";

    private readonly Dictionary<string, TypeShape> shapes = new(System.StringComparer.Ordinal);

    /// <param name="shapes">The shapes the code refers to (later duplicates of a key are ignored).</param>
    /// <param name="helperPrefix">How helpers are named from where the code goes: empty inside the helper class, else the class's name and a dot.</param>
    public JsonCode(IEnumerable<TypeShape> shapes, string helperPrefix)
    {
        HelperPrefix = helperPrefix;
        foreach (var shape in shapes)
        {
            if (!this.shapes.ContainsKey(shape.Key))
            {
                this.shapes.Add(shape.Key, shape);
            }
        }
    }

    public string HelperPrefix { get; }

    public TypeShape Shape(string key) => shapes[key];

    /// <summary>Whether values of <paramref name="shape"/> go through a pair of <c>WriteXxx</c>/<c>ReadXxx</c> helpers.</summary>
    public static bool NeedsHelper(TypeShape shape) => shape.Kind != ShapeKind.Primitive;

    /// <summary>
    /// The helper name fragment of a shape: its readable name and a hash of its full type, so that it is unique and the
    /// same in every file and every build, whatever other types the assembly has.
    /// </summary>
    public static string HelperName(TypeShape shape)
    {
        var hash = 2166136261u;
        foreach (var c in shape.Key)
        {
            hash = unchecked((hash ^ c) * 16777619u);
        }

        return shape.Name + "_" + hash.ToString("x8", CultureInfo.InvariantCulture);
    }

    /// <summary>A statement writing <paramref name="value"/> of the type <paramref name="key"/>.</summary>
    public string Write(string key, string value)
    {
        var shape = shapes[key];
        if (NeedsHelper(shape))
        {
            return HelperPrefix + "Write" + HelperName(shape) + "(writer, " + value + ");";
        }

        return shape.Primitive switch
        {
            PrimitiveKind.Boolean => "writer.WriteBooleanValue(" + value + ");",
            PrimitiveKind.Byte or PrimitiveKind.SByte or PrimitiveKind.Int16 or PrimitiveKind.UInt16 => "writer.WriteNumberValue((int)" + value + ");",
            PrimitiveKind.Int32 or PrimitiveKind.UInt32 or PrimitiveKind.Int64 or PrimitiveKind.UInt64 or PrimitiveKind.Decimal => "writer.WriteNumberValue(" + value + ");",
            PrimitiveKind.Single => HelperPrefix + "WriteSingle(writer, " + value + ");",
            PrimitiveKind.Double => HelperPrefix + "WriteDouble(writer, " + value + ");",
            PrimitiveKind.Char => "writer.WriteStringValue(global::System.Char.ToString(" + value + "));",
            PrimitiveKind.String => "writer.WriteStringValue(" + value + ");",
            PrimitiveKind.Guid or PrimitiveKind.DateTime or PrimitiveKind.DateTimeOffset => "writer.WriteStringValue(" + value + ");",
            PrimitiveKind.DateOnly => "writer.WriteStringValue(" + value + ".ToString(\"yyyy-MM-dd\", " + Invariant + "));",
            PrimitiveKind.TimeOnly => "writer.WriteStringValue(" + value + ".ToString(\"HH:mm:ss.FFFFFFF\", " + Invariant + "));",
            PrimitiveKind.TimeSpan => "writer.WriteStringValue(" + value + ".ToString(\"c\", " + Invariant + "));",
            PrimitiveKind.Uri => "writer.WriteStringValue(" + value + "?.OriginalString);",
            PrimitiveKind.ByteArray => "if (" + value + " is null) { writer.WriteNullValue(); } else { writer.WriteBase64StringValue(" + value + "); }",
            _ => "throw new global::System.NotSupportedException();",
        };
    }

    /// <summary>An expression reading a value of the type <paramref name="key"/> at the reader's current token.</summary>
    public string Read(string key)
    {
        var shape = shapes[key];
        if (NeedsHelper(shape))
        {
            return HelperPrefix + "Read" + HelperName(shape) + "(ref reader)";
        }

        return shape.Primitive switch
        {
            PrimitiveKind.Boolean => "reader.GetBoolean()",
            PrimitiveKind.Byte => "reader.GetByte()",
            PrimitiveKind.SByte => "reader.GetSByte()",
            PrimitiveKind.Int16 => "reader.GetInt16()",
            PrimitiveKind.UInt16 => "reader.GetUInt16()",
            PrimitiveKind.Int32 => "reader.GetInt32()",
            PrimitiveKind.UInt32 => "reader.GetUInt32()",
            PrimitiveKind.Int64 => "reader.GetInt64()",
            PrimitiveKind.UInt64 => "reader.GetUInt64()",
            PrimitiveKind.Single => HelperPrefix + "ReadSingle(ref reader)",
            PrimitiveKind.Double => HelperPrefix + "ReadDouble(ref reader)",
            PrimitiveKind.Decimal => "reader.GetDecimal()",
            PrimitiveKind.Char => "global::System.Char.Parse(reader.GetString()!)",
            PrimitiveKind.String => "reader.GetString()!",
            PrimitiveKind.Guid => "reader.GetGuid()",
            PrimitiveKind.DateTime => "reader.GetDateTime()",
            PrimitiveKind.DateTimeOffset => "reader.GetDateTimeOffset()",
            PrimitiveKind.DateOnly => "global::System.DateOnly.ParseExact(reader.GetString()!, \"yyyy-MM-dd\", " + Invariant + ")",
            PrimitiveKind.TimeOnly => "global::System.TimeOnly.ParseExact(reader.GetString()!, \"HH:mm:ss.FFFFFFF\", " + Invariant + ")",
            PrimitiveKind.TimeSpan => "global::System.TimeSpan.ParseExact(reader.GetString()!, \"c\", " + Invariant + ")",
            PrimitiveKind.Uri => "(reader.TokenType == " + Json + ".JsonTokenType.Null ? null! : new global::System.Uri(reader.GetString()!, global::System.UriKind.RelativeOrAbsolute))",
            PrimitiveKind.ByteArray => "(reader.TokenType == " + Json + ".JsonTokenType.Null ? null! : reader.GetBytesFromBase64())",
            _ => "throw new global::System.NotSupportedException()",
        };
    }

    /// <summary>
    /// <see cref="Read(string)"/>, refusing a JSON <c>null</c> when <paramref name="rejectsNull"/> (a non-nullable reference type
    /// in nullable-aware code) with a message naming <paramref name="what"/>.
    /// </summary>
    public string Read(string key, bool rejectsNull, string what) =>
        rejectsNull
            ? "(reader.TokenType == " + Json + ".JsonTokenType.Null ? throw " + HelperPrefix + "UnexpectedNull(" + Names.Literal(what) + ") : " + Read(key) + ")"
            : Read(key);
}
