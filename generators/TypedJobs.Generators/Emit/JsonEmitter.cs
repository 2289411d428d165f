using System.Collections.Generic;
using System.Linq;
using TypedJobs.Generators.Model;

namespace TypedJobs.Generators.Emit;

/// <summary>
/// Emits reflection-free JSON code on <c>Utf8JsonWriter</c>/<c>Utf8JsonReader</c> for a set of type shapes:
/// scalars inline, everything else as a pair of private <c>WriteXxx</c>/<c>ReadXxx</c> helpers.
/// A reader helper starts on the value's first token and ends on its last one, like <c>Utf8JsonReader.Skip</c>.
/// </summary>
internal sealed class JsonEmitter
{
    private const string Json = "global::System.Text.Json";
    private const string Invariant = "global::System.Globalization.CultureInfo.InvariantCulture";

    private readonly Dictionary<string, TypeShape> shapes = new(System.StringComparer.Ordinal);
    private readonly Dictionary<string, string> helperNames = new(System.StringComparer.Ordinal);
    private readonly IReadOnlyDictionary<string, string> contexts;

    public JsonEmitter(IEnumerable<TypeShape> allShapes, IReadOnlyDictionary<string, string> contexts, ICollection<string> takenNames)
    {
        this.contexts = contexts;
        foreach (var shape in allShapes)
        {
            if (shapes.ContainsKey(shape.Key))
            {
                continue;
            }

            shapes.Add(shape.Key, shape);
            if (NeedsHelper(shape))
            {
                var name = Names.Unique(shape.Name, takenNames);
                takenNames.Add(name);
                helperNames.Add(shape.Key, name);
            }
        }
    }

    /// <summary>The user's contexts by the type they declare (the first context wins when several declare one type).</summary>
    public static Dictionary<string, string> ContextMap(IEnumerable<JsonContextEntry> contexts)
    {
        var map = new Dictionary<string, string>(System.StringComparer.Ordinal);
        foreach (var entry in contexts)
        {
            if (!map.ContainsKey(entry.TypeName))
            {
                map.Add(entry.TypeName, entry.Context);
            }
        }

        return map;
    }

    /// <summary>The context type that serializes <paramref name="shape"/>, if a user context covers it.</summary>
    public static string? ContextFor(TypeShape shape, IReadOnlyDictionary<string, string> contexts) =>
        shape.Kind is ShapeKind.Object or ShapeKind.Unsupported && contexts.TryGetValue(shape.ContextName, out var context) ? context : null;

    private bool NeedsHelper(TypeShape shape) => shape.Kind != ShapeKind.Primitive;

    /// <summary>A statement writing <paramref name="value"/> of the type <paramref name="key"/>.</summary>
    public string Write(string key, string value)
    {
        var shape = shapes[key];
        if (helperNames.TryGetValue(key, out var helper))
        {
            return "Write" + helper + "(writer, " + value + ");";
        }

        return shape.Primitive switch
        {
            PrimitiveKind.Boolean => "writer.WriteBooleanValue(" + value + ");",
            PrimitiveKind.Byte or PrimitiveKind.SByte or PrimitiveKind.Int16 or PrimitiveKind.UInt16 => "writer.WriteNumberValue((int)" + value + ");",
            PrimitiveKind.Int32 or PrimitiveKind.UInt32 or PrimitiveKind.Int64 or PrimitiveKind.UInt64
                or PrimitiveKind.Single or PrimitiveKind.Double or PrimitiveKind.Decimal => "writer.WriteNumberValue(" + value + ");",
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
        if (helperNames.TryGetValue(key, out var helper))
        {
            return "Read" + helper + "(ref reader)";
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
            PrimitiveKind.Single => "reader.GetSingle()",
            PrimitiveKind.Double => "reader.GetDouble()",
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

    /// <summary>Emits every helper method.</summary>
    public void EmitHelpers(CodeWriter w)
    {
        foreach (var pair in helperNames)
        {
            var shape = shapes[pair.Key];
            var name = pair.Value;
            var type = shape.Type;
            var inType = shape.IsValueType ? type : type + "?";
            w.Line();
            var context = ContextFor(shape, contexts);
            if (context is not null)
            {
                EmitContext(w, name, type, inType, context);
                continue;
            }

            switch (shape.Kind)
            {
                case ShapeKind.Enum:
                    EmitEnum(w, name, type, shape.ElementKey!);
                    break;
                case ShapeKind.Nullable:
                    EmitNullable(w, name, type, shape.ElementKey!);
                    break;
                case ShapeKind.Array:
                case ShapeKind.List:
                    EmitList(w, shape, name, inType);
                    break;
                case ShapeKind.Dictionary:
                    EmitDictionary(w, shape, name, inType);
                    break;
                case ShapeKind.Object:
                    EmitObject(w, shape, name, inType);
                    break;
                default:
                    var message = Names.Literal("No serializer exists for " + shape.ContextName.Replace("global::", string.Empty) + ": " + shape.Reason + ".");
                    w.Line("private static void Write" + name + "(" + Json + ".Utf8JsonWriter writer, " + inType + " value) =>");
                    w.Line("    throw new global::System.NotSupportedException(" + message + ");");
                    w.Line();
                    w.Line("private static " + type + " Read" + name + "(ref " + Json + ".Utf8JsonReader reader) =>");
                    w.Line("    throw new global::System.NotSupportedException(" + message + ");");
                    break;
            }
        }
    }

    private static void EmitContext(CodeWriter w, string name, string type, string inType, string context)
    {
        var typeInfo = "(" + Json + ".Serialization.Metadata.JsonTypeInfo<" + type + ">)global::" + context.Replace("global::", string.Empty)
            + ".Default.GetTypeInfo(typeof(" + type + "))!";
        w.Line("private static void Write" + name + "(" + Json + ".Utf8JsonWriter writer, " + inType + " value) =>");
        w.Line("    " + Json + ".JsonSerializer.Serialize(writer, value!, " + typeInfo + ");");
        w.Line();
        w.Line("private static " + type + " Read" + name + "(ref " + Json + ".Utf8JsonReader reader) =>");
        w.Line("    " + Json + ".JsonSerializer.Deserialize(ref reader, " + typeInfo + ")!;");
    }

    private static void EmitEnum(CodeWriter w, string name, string type, string underlying)
    {
        var unsigned = underlying is "ulong";
        w.Line("private static void Write" + name + "(" + Json + ".Utf8JsonWriter writer, " + type + " value) =>");
        w.Line("    writer.WriteNumberValue((" + (unsigned ? "ulong" : "long") + ")value);");
        w.Line();
        w.Line("private static " + type + " Read" + name + "(ref " + Json + ".Utf8JsonReader reader) =>");
        w.Line("    reader.TokenType == " + Json + ".JsonTokenType.String");
        w.Line("        ? global::System.Enum.Parse<" + type + ">(reader.GetString()!)");
        w.Line("        : (" + type + ")reader.Get" + (unsigned ? "UInt64" : "Int64") + "();");
    }

    private void EmitNullable(CodeWriter w, string name, string type, string inner)
    {
        w.Open("private static void Write" + name + "(" + Json + ".Utf8JsonWriter writer, " + type + " value)");
        w.Open("if (value.HasValue)");
        w.Line("var inner = value.GetValueOrDefault();");
        w.Line(Write(inner, "inner"));
        w.Close();
        w.Open("else");
        w.Line("writer.WriteNullValue();");
        w.Close();
        w.Close();
        w.Line();
        w.Open("private static " + type + " Read" + name + "(ref " + Json + ".Utf8JsonReader reader)");
        w.Open("if (reader.TokenType == " + Json + ".JsonTokenType.Null)");
        w.Line("return null;");
        w.Close();
        w.Line();
        w.Line("return " + Read(inner) + ";");
        w.Close();
    }

    /// <summary>Opens <c>WriteXxx(writer, value)</c>, writing <c>null</c> for a null reference first.</summary>
    private static void OpenWriter(CodeWriter w, string name, string inType, bool nullable)
    {
        w.Open("private static void Write" + name + "(" + Json + ".Utf8JsonWriter writer, " + inType + " value)");
        if (nullable)
        {
            w.Open("if (value is null)");
            w.Line("writer.WriteNullValue();");
            w.Line("return;");
            w.Close();
            w.Line();
        }
    }

    /// <summary>Opens <c>ReadXxx(ref reader)</c>: a JSON null reads as null, any token but <paramref name="startToken"/> is an error.</summary>
    private void OpenReader(CodeWriter w, TypeShape shape, string name, bool nullable, string startToken, string jsonKind)
    {
        w.Open("private static " + shape.Type + " Read" + name + "(ref " + Json + ".Utf8JsonReader reader)");
        if (nullable)
        {
            w.Open("if (reader.TokenType == " + Json + ".JsonTokenType.Null)");
            w.Line("return null!;");
            w.Close();
            w.Line();
        }

        w.Open("if (reader.TokenType != " + Json + ".JsonTokenType." + startToken + ")");
        w.Line("throw new " + Json + ".JsonException(" + Names.Literal("Expected a JSON " + jsonKind + " for " + Display(shape) + ".") + ");");
        w.Close();
        w.Line();
    }

    private void EmitList(CodeWriter w, TypeShape shape, string name, string inType)
    {
        var element = shape.ElementType!;
        OpenWriter(w, name, inType, nullable: true);
        w.Line("writer.WriteStartArray();");
        w.Open("foreach (var item in value)");
        w.Line(Write(shape.ElementKey!, "item"));
        w.Close();
        w.Line();
        w.Line("writer.WriteEndArray();");
        w.Close();
        w.Line();
        OpenReader(w, shape, name, nullable: true, "StartArray", "array");
        w.Line("var items = new global::System.Collections.Generic.List<" + element + ">();");
        w.Open("while (reader.Read() && reader.TokenType != " + Json + ".JsonTokenType.EndArray)");
        w.Line("items.Add(" + Read(shape.ElementKey!) + ");");
        w.Close();
        w.Line();
        w.Line(shape.Kind == ShapeKind.Array ? "return items.ToArray();" : "return items;");
        w.Close();
    }

    private void EmitDictionary(CodeWriter w, TypeShape shape, string name, string inType)
    {
        var element = shape.ElementType!;
        OpenWriter(w, name, inType, nullable: true);
        w.Line("writer.WriteStartObject();");
        w.Open("foreach (var pair in value)");
        w.Line("writer.WritePropertyName(pair.Key);");
        w.Line(Write(shape.ElementKey!, "pair.Value"));
        w.Close();
        w.Line();
        w.Line("writer.WriteEndObject();");
        w.Close();
        w.Line();
        OpenReader(w, shape, name, nullable: true, "StartObject", "object");
        w.Line("var items = new global::System.Collections.Generic.Dictionary<string, " + element + ">(global::System.StringComparer.Ordinal);");
        w.Open("while (reader.Read() && reader.TokenType != " + Json + ".JsonTokenType.EndObject)");
        w.Line("var key = reader.GetString()!;");
        w.Line("reader.Read();");
        w.Line("items[key] = " + Read(shape.ElementKey!) + ";");
        w.Close();
        w.Line();
        w.Line("return items;");
        w.Close();
    }

    private void EmitObject(CodeWriter w, TypeShape shape, string name, string inType)
    {
        var members = shape.Members;
        OpenWriter(w, name, inType, nullable: !shape.IsValueType);

        w.Line("writer.WriteStartObject();");
        foreach (var member in members)
        {
            w.Line("writer.WritePropertyName(" + Names.Utf8Literal(member.Name) + ");");
            w.Line(Write(member.TypeKey, "value." + Names.Escape(member.Name)));
        }

        w.Line("writer.WriteEndObject();");
        w.Close();
        w.Line();

        OpenReader(w, shape, name, nullable: !shape.IsValueType, "StartObject", "object");
        for (var i = 0; i < members.Count; i++)
        {
            var member = members[i];
            w.Line(member.Type + " p" + i + " = default" + (member.IsValueType ? string.Empty : "!") + ";");
            if (member.Setter == SetterKind.Set)
            {
                w.Line("var has" + i + " = false;");
            }
        }

        w.Open("while (reader.Read() && reader.TokenType != " + Json + ".JsonTokenType.EndObject)");
        for (var i = 0; i < members.Count; i++)
        {
            var member = members[i];
            w.Open((i == 0 ? "if" : "else if") + " (reader.ValueTextEquals(" + Names.Utf8Literal(member.Name) + "))");
            w.Line("reader.Read();");
            w.Line("p" + i + " = " + Read(member.TypeKey) + ";");
            if (member.Setter == SetterKind.Set)
            {
                w.Line("has" + i + " = true;");
            }

            w.Close();
        }

        if (members.Count == 0)
        {
            w.Line("reader.Read();");
            w.Line("reader.Skip();");
        }
        else
        {
            w.Open("else");
            w.Line("reader.Read();");
            w.Line("reader.Skip();");
            w.Close();
        }

        w.Close();
        w.Line();

        var arguments = members.Select((m, i) => (m, i)).Where(static x => x.m.ConstructorIndex >= 0).OrderBy(static x => x.m.ConstructorIndex).Select(static x => "p" + x.i);
        var initializers = members.Select((m, i) => (m, i)).Where(static x => x.m.Setter == SetterKind.Init).Select(static x => Names.Escape(x.m.Name) + " = p" + x.i).ToList();
        var creation = "new " + shape.Type + "(" + string.Join(", ", arguments) + ")";
        if (initializers.Count > 0)
        {
            creation += " { " + string.Join(", ", initializers) + " }";
        }

        var settable = members.Select((m, i) => (m, i)).Where(static x => x.m.Setter == SetterKind.Set).ToList();
        if (settable.Count == 0)
        {
            w.Line("return " + creation + ";");
        }
        else
        {
            w.Line("var result = " + creation + ";");
            foreach (var (member, i) in settable)
            {
                w.Open("if (has" + i + ")");
                w.Line("result." + Names.Escape(member.Name) + " = p" + i + ";");
                w.Close();
            }

            w.Line();
            w.Line("return result;");
        }

        w.Close();
    }

    private static string Display(TypeShape shape) => shape.ContextName.Replace("global::", string.Empty);
}
