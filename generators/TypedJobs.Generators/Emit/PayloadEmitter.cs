using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using TypedJobs.Generators.Model;

namespace TypedJobs.Generators.Emit;

/// <summary>
/// Emits, inside a task's nested class, the task definition with its settings, the payload class (one field per
/// payload parameter), the batch helper, the payload serializer (a JSON object keyed by parameter name) and the
/// result serializer.
/// </summary>
internal static class PayloadEmitter
{
    private const string Registration = "global::TypedJobs.Registration";
    private const string Json = JsonCode.Json;

    public static IEnumerable<ParameterModel> Payload(TaskModel task) => task.Parameters.Where(static p => p.Source == ArgumentSource.Payload);

    /// <summary>The payload class's name: <c>Payload</c>, unless a payload parameter is called that.</summary>
    private static string PayloadClass(TaskModel task) =>
        Names.Unique("Payload", new HashSet<string>(Payload(task).Select(static p => p.Name), System.StringComparer.Ordinal));

    /// <summary>The payload type as named from outside the task's nested class <paramref name="jobClass"/> (<c>NoPayload</c> without parameters).</summary>
    public static string PayloadType(TaskModel task, string jobClass) =>
        Payload(task).Any() ? jobClass + "." + PayloadClass(task) : Registration + ".NoPayload";

    /// <summary>The payload type as named inside the task's nested class.</summary>
    public static string LocalPayloadType(TaskModel task) => Payload(task).Any() ? PayloadClass(task) : Registration + ".NoPayload";

    /// <summary>The handler's parameter type and its generic arguments.</summary>
    public static string Generics(TaskModel task) => "<" + LocalPayloadType(task) + (task.HasResult ? ", " + task.ResultType : string.Empty) + ">";

    public static void EmitDefinition(CodeWriter w, TaskModel task)
    {
        var payload = Payload(task).ToList();
        var serializer = payload.Count == 0 ? Registration + ".JobSerializer.Empty" : "new PayloadSerializer()";
        w.Line("internal static readonly " + Registration + ".JobTask" + Generics(task) + " Definition = " + Registration + ".JobTask.Create" + Generics(task) + "(");
        w.Line("    " + Names.Literal(task.TaskName) + ",");
        w.Line("    " + serializer + ",");
        if (task.HasResult)
        {
            w.Line("    new ResultSerializer(),");
        }

        w.Line("    Handler,");
        EmitSettings(w, task.Settings);
    }

    internal static void EmitSettings(CodeWriter w, SettingsModel s)
    {
        var lines = new List<string>();
        void Add(string name, string? value)
        {
            if (value is not null)
            {
                lines.Add(name + " = " + value + ",");
            }
        }

        static string? Span(long? ticks) => ticks is { } t
            ? "global::System.TimeSpan.FromTicks(" + t.ToString(CultureInfo.InvariantCulture) + "L) /* " + new System.TimeSpan(t).ToString("c", CultureInfo.InvariantCulture) + " */"
            : null;

        Add("Queue", s.Queue is null ? null : Names.Literal(s.Queue));
        Add("Priority", s.Priority);
        Add("MaxRetries", s.MaxRetries?.ToString(CultureInfo.InvariantCulture));
        Add("RetryDelay", Span(s.RetryDelayTicks));
        Add("MaxRetryDelay", Span(s.MaxRetryDelayTicks));
        Add("Timeout", Span(s.TimeoutTicks));
        Add("UniqueByPayload", s.UniqueByPayload ? "true" : null);
        Add("UniqueWindow", Span(s.UniqueWindowTicks));
        Add("MaxConcurrency", s.MaxConcurrency > 0 ? s.MaxConcurrency.ToString(CultureInfo.InvariantCulture) : null);
        Add("Cron", s.Cron is null ? null : Names.Literal(s.Cron));
        Add("TimeZone", s.TimeZone is null ? null : Names.Literal(s.TimeZone));
        Add("Interval", Span(s.IntervalTicks));
        if (lines.Count == 0)
        {
            w.Line("    " + Registration + ".TaskSettings.Default);");
            return;
        }

        w.Line("    new " + Registration + ".TaskSettings");
        w.Line("    {");
        foreach (var line in lines)
        {
            w.Line("        " + line);
        }

        w.Line("    });");
    }

    public static void EmitPayload(CodeWriter w, TaskModel task, JsonCode json)
    {
        var payload = Payload(task).ToList();
        if (payload.Count > 0)
        {
            var payloadType = PayloadClass(task);
            w.Line();
            w.Open("internal sealed class " + payloadType);
            w.Open("public " + payloadType + "(" + string.Join(", ", payload.Select(static p => p.Type + " " + Names.Escape(p.Name))) + ")");
            foreach (var p in payload)
            {
                w.Line("this." + Names.Escape(p.Name) + " = " + Names.Escape(p.Name) + ";");
            }

            w.Close();
            foreach (var p in payload)
            {
                w.Line();
                w.Line("public readonly " + p.Type + " " + Names.Escape(p.Name) + ";");
            }

            w.Close();

            w.Line();
            var itemType = StubEmitter.ItemType(payload);
            w.Open("internal static global::System.Collections.Generic.IEnumerable<" + payloadType + "> Payloads(" + itemType + " jobs)");
            w.Open("foreach (var job in jobs)");
            w.Line(payload.Count == 1
                ? "yield return new " + payloadType + "(job);"
                : "yield return new " + payloadType + "(" + string.Join(", ", payload.Select((_, i) => "job." + StubEmitter.TupleElement(payload, i))) + ");");
            w.Close();
            w.Close();

            EmitSerializer(w, payload, payloadType, json, RedactionCode.SensitiveShapes(task.Types));
        }

        if (task.HasResult)
        {
            w.Line();
            w.Open("private sealed class ResultSerializer : " + Registration + ".JobSerializer<" + task.ResultType + ">");
            w.Open("public override void Serialize(" + task.ResultType + " value, global::System.Buffers.IBufferWriter<byte> destination)");
            w.Line("using var writer = new " + Json + ".Utf8JsonWriter(destination, " + json.HelperPrefix + "WriterOptions);");
            w.Line(json.Write(task.ResultTypeKey!, "value"));
            w.Close();
            w.Line();
            w.Open("public override " + task.ResultType + " Deserialize(global::System.ReadOnlySpan<byte> data)");
            w.Line("var reader = new " + Json + ".Utf8JsonReader(data, " + json.HelperPrefix + "ReaderOptions);");
            w.Line("reader.Read();");
            w.Line("return " + json.Read(task.ResultTypeKey!) + ";");
            w.Close();
            w.Close();
        }
    }

    /// <summary>
    /// The payload serializer: a missing key takes the parameter's default value (an empty collection for
    /// <c>params</c>); a missing key without one, or a JSON null for a non-nullable reference type, is an error.
    /// </summary>
    private static void EmitSerializer(CodeWriter w, List<ParameterModel> payload, string payloadType, JsonCode json, HashSet<string> sensitive)
    {
        w.Line();
        w.Open("private sealed class PayloadSerializer : " + Registration + ".JobSerializer<" + payloadType + ">");
        w.Open("public override void Serialize(" + payloadType + " value, global::System.Buffers.IBufferWriter<byte> destination)");
        w.Line("using var writer = new " + Json + ".Utf8JsonWriter(destination, " + json.HelperPrefix + "WriterOptions);");
        w.Line("writer.WriteStartObject();");
        foreach (var p in payload)
        {
            w.Line("writer.WritePropertyName(" + Names.Utf8Literal(p.Name) + ");");
            w.Line(json.Write(p.TypeKey, "value." + Names.Escape(p.Name)));
        }

        w.Line("writer.WriteEndObject();");
        w.Close();
        w.Line();
        w.Open("public override " + payloadType + " Deserialize(global::System.ReadOnlySpan<byte> data)");
        w.Line("var reader = new " + Json + ".Utf8JsonReader(data, " + json.HelperPrefix + "ReaderOptions);");
        w.Open("if (!reader.Read() || reader.TokenType != " + Json + ".JsonTokenType.StartObject)");
        w.Line("throw new " + Json + ".JsonException(\"The payload is not a JSON object.\");");
        w.Close();
        w.Line();
        var missing = new string?[payload.Count];
        for (var i = 0; i < payload.Count; i++)
        {
            var p = payload[i];
            missing[i] = p.DefaultValue ?? (p.IsParams ? EmptyCollection(p) : null);
            w.Line(p.Type + " p" + i + " = " + (missing[i] ?? "default" + (p.IsValueType ? string.Empty : "!")) + ";");
            if (missing[i] is null)
            {
                w.Line("var has" + i + " = false;");
            }
        }

        w.Open("while (reader.Read() && reader.TokenType != " + Json + ".JsonTokenType.EndObject)");
        for (var i = 0; i < payload.Count; i++)
        {
            var p = payload[i];
            w.Open((i == 0 ? "if" : "else if") + " (reader.ValueTextEquals(" + Names.Utf8Literal(p.Name) + "))");
            w.Line("reader.Read();");
            w.Line("p" + i + " = " + json.Read(p.TypeKey, p.RejectsNull, "parameter '" + p.Name + "'") + ";");
            if (missing[i] is null)
            {
                w.Line("has" + i + " = true;");
            }

            w.Close();
        }

        w.Open("else");
        w.Line("reader.Read();");
        w.Line("reader.Skip();");
        w.Close();
        w.Close();
        for (var i = 0; i < payload.Count; i++)
        {
            if (missing[i] is null)
            {
                w.Line();
                w.Open("if (!has" + i + ")");
                w.Line("throw new " + Json + ".JsonException(" + Names.Literal("The payload has no value for the required parameter '" + payload[i].Name + "'.") + ");");
                w.Close();
            }
        }

        w.Line();
        w.Line("return new " + payloadType + "(" + string.Join(", ", payload.Select(static (p, i) => "p" + i.ToString(CultureInfo.InvariantCulture))) + ");");
        w.Close();
        if (RedactionCode.IsSensitive(payload, sensitive))
        {
            RedactionCode.EmitPayload(w, payload, sensitive, json);
        }

        w.Close();
    }

    /// <summary>The value of a missing <c>params</c> parameter: an empty array, or an empty collection expression.</summary>
    public static string EmptyCollection(ParameterModel parameter)
    {
        var type = Names.WithoutAnnotation(parameter.Type);
        return type.EndsWith("[]", System.StringComparison.Ordinal)
            ? "global::System.Array.Empty<" + type.Substring(0, type.Length - 2) + ">()"
            : "[]";
    }
}
