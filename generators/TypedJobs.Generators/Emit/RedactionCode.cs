using System.Collections.Generic;
using System.Linq;
using TypedJobs.Generators.Model;

namespace TypedJobs.Generators.Emit;

/// <summary>
/// Emits the redaction code of payloads with members marked <c>[Sensitive]</c>: it copies the stored JSON and replaces
/// the value of every sensitive member with <c>"***"</c>, walking only into the types that hold one. Which shapes need a
/// redactor depends only on the shapes themselves (never on the user's JSON contexts), so a task file and the
/// assembly's JSON helper class always agree on which <c>RedactXxx</c> helpers exist.
/// </summary>
internal static class RedactionCode
{
    private const string Json = JsonCode.Json;
    private const string Copy = "global::TypedJobs.Registration.JobSerializer.CopyJsonValue(ref reader, writer);";

    /// <summary>The keys of the shapes whose values hold a sensitive member, directly or nested.</summary>
    public static HashSet<string> SensitiveShapes(IEnumerable<TypeShape> shapes)
    {
        var all = new Dictionary<string, TypeShape>(System.StringComparer.Ordinal);
        foreach (var shape in shapes)
        {
            if (!all.ContainsKey(shape.Key))
            {
                all.Add(shape.Key, shape);
            }
        }

        var sensitive = new HashSet<string>(System.StringComparer.Ordinal);
        bool changed;
        do
        {
            changed = false;
            foreach (var shape in all.Values)
            {
                if (sensitive.Contains(shape.Key))
                {
                    continue;
                }

                var holds = shape.Kind switch
                {
                    ShapeKind.Object => shape.Members.Any(m => m.IsSensitive || sensitive.Contains(m.TypeKey)),
                    ShapeKind.Array or ShapeKind.List or ShapeKind.Dictionary or ShapeKind.Nullable => shape.ElementKey is { } e && sensitive.Contains(e),
                    _ => false,
                };
                if (holds)
                {
                    sensitive.Add(shape.Key);
                    changed = true;
                }
            }
        }
        while (changed);

        return sensitive;
    }

    /// <summary>Whether a payload needs a redactor: a sensitive parameter, or one whose type holds a sensitive member.</summary>
    public static bool IsSensitive(IEnumerable<ParameterModel> payload, HashSet<string> sensitiveShapes) =>
        payload.Any(p => p.IsSensitive || sensitiveShapes.Contains(p.TypeKey));

    /// <summary>The helper that replaces a value whose shape is not the expected one, emitted once when any redactor exists.</summary>
    public static void EmitSupport(CodeWriter w)
    {
        w.Line();
        w.Line("/// <summary>Redacts a whole value: <c>null</c> stays <c>null</c>, anything else becomes <c>\"***\"</c>.</summary>");
        w.Open("internal static void RedactWhole(ref " + Json + ".Utf8JsonReader reader, " + Json + ".Utf8JsonWriter writer)");
        w.Open("if (reader.TokenType == " + Json + ".JsonTokenType.Null)");
        w.Line("writer.WriteNullValue();");
        w.Line("return;");
        w.Close();
        w.Line();
        w.Line("reader.Skip();");
        w.Line("writer.WriteStringValue(\"***\");");
        w.Close();
    }

    /// <summary>The <c>RedactXxx</c> helper of one shape in the assembly's JSON helper class.</summary>
    public static void EmitShape(CodeWriter w, TypeShape shape, HashSet<string> sensitive, JsonCode code, bool serializedByContext)
    {
        var signature = "internal static void Redact" + JsonCode.HelperName(shape) + "(ref " + Json + ".Utf8JsonReader reader, " + Json + ".Utf8JsonWriter writer)";
        w.Line();
        if (serializedByContext)
        {
            // A JsonSerializerContext may rename members or use converters: hide the whole value rather than guess.
            w.Line("/// <summary>Redacts a value of a type serialized by a JsonSerializerContext that has sensitive members: the whole value is hidden.</summary>");
            w.Line(signature + " =>");
            w.Line("    RedactWhole(ref reader, writer);");
            return;
        }

        w.Open(signature);
        switch (shape.Kind)
        {
            case ShapeKind.Nullable:
                w.Line(Call(code, shape.ElementKey!, string.Empty));
                break;
            case ShapeKind.Array:
            case ShapeKind.List:
                Guard(w, "StartArray");
                w.Line("writer.WriteStartArray();");
                w.Open("while (reader.Read() && reader.TokenType != " + Json + ".JsonTokenType.EndArray)");
                w.Line(Call(code, shape.ElementKey!, string.Empty));
                w.Close();
                w.Line("writer.WriteEndArray();");
                break;
            case ShapeKind.Dictionary:
                Guard(w, "StartObject");
                w.Line("writer.WriteStartObject();");
                w.Open("while (reader.Read() && reader.TokenType != " + Json + ".JsonTokenType.EndObject)");
                w.Line("writer.WritePropertyName(reader.GetString()!);");
                w.Line("reader.Read();");
                w.Line(Call(code, shape.ElementKey!, string.Empty));
                w.Close();
                w.Line("writer.WriteEndObject();");
                break;
            default:
                Guard(w, "StartObject");
                EmitMembers(w, shape.Members.Select(m => (m.Name, m.IsSensitive, sensitive.Contains(m.TypeKey) ? m.TypeKey : null)), code, string.Empty);
                break;
        }

        w.Close();
    }

    /// <summary>The payload serializer's overrides: <c>HasSensitiveMembers</c> and <c>Redact</c>.</summary>
    public static void EmitPayload(CodeWriter w, IReadOnlyList<ParameterModel> payload, HashSet<string> sensitive, JsonCode json)
    {
        w.Line();
        w.Line("public override bool HasSensitiveMembers => true;");
        w.Line();
        w.Open("public override void Redact(global::System.ReadOnlySpan<byte> data, " + Json + ".Utf8JsonWriter writer)");
        w.Line("global::System.ArgumentNullException.ThrowIfNull(writer);");
        w.Line("var reader = new " + Json + ".Utf8JsonReader(data, " + json.HelperPrefix + "ReaderOptions);");
        w.Open("if (!reader.Read() || reader.TokenType != " + Json + ".JsonTokenType.StartObject)");
        w.Line("throw new " + Json + ".JsonException(\"The payload is not a JSON object.\");");
        w.Close();
        w.Line();
        EmitMembers(w, payload.Select(p => (p.Name, p.IsSensitive, sensitive.Contains(p.TypeKey) ? p.TypeKey : null)), json, json.HelperPrefix);
        w.Close();
    }

    private static void Guard(CodeWriter w, string token)
    {
        w.Open("if (reader.TokenType != " + Json + ".JsonTokenType." + token + ")");
        w.Line("RedactWhole(ref reader, writer);");
        w.Line("return;");
        w.Close();
        w.Line();
    }

    private static string Call(JsonCode code, string key, string prefix) =>
        prefix + "Redact" + JsonCode.HelperName(code.Shape(key)) + "(ref reader, writer);";

    /// <summary>Copies an object member by member: sensitive members become "***", members holding one are walked into.</summary>
    private static void EmitMembers(CodeWriter w, IEnumerable<(string Name, bool Sensitive, string? Nested)> members, JsonCode code, string prefix)
    {
        w.Line("writer.WriteStartObject();");
        w.Open("while (reader.Read() && reader.TokenType != " + Json + ".JsonTokenType.EndObject)");
        var first = true;
        foreach (var (name, isSensitive, nested) in members)
        {
            if (!isSensitive && nested is null)
            {
                continue;
            }

            w.Open((first ? "if" : "else if") + " (reader.ValueTextEquals(" + Names.Utf8Literal(name) + "))");
            first = false;
            w.Line("writer.WritePropertyName(" + Names.Utf8Literal(name) + ");");
            w.Line("reader.Read();");
            if (isSensitive)
            {
                w.Line("reader.Skip();");
                w.Line("writer.WriteStringValue(\"***\");");
            }
            else
            {
                w.Line(Call(code, nested!, prefix));
            }

            w.Close();
        }

        w.Open("else");
        w.Line("writer.WritePropertyName(reader.GetString()!);");
        w.Line("reader.Read();");
        w.Line(Copy);
        w.Close();
        w.Close();
        w.Line("writer.WriteEndObject();");
    }
}
