using System;
using System.Collections.Generic;
using System.Globalization;
using System.Text;
using Microsoft.CodeAnalysis.Text;
using TypedJobs.Generators.Model;
using TypedJobs.Generators.Rules;

namespace TypedJobs.Analyzers;

/// <summary>
/// A committed contract baseline (<c>TypedJobs.contract.json</c>) as read back: the tasks and the object and enum types it
/// records, with where each task is written (for diagnostics in the file). The format is the one
/// <see cref="ContractShapes.Write"/> writes.
/// </summary>
internal sealed class ContractBaseline
{
    /// <summary>The baseline's file name; a file of this name among the additional files is the baseline.</summary>
    public const string FileName = "TypedJobs.contract.json";

    private ContractBaseline(Dictionary<string, (ContractTask Task, TextSpan Span)> tasks, Dictionary<string, ContractType> types)
    {
        Tasks = tasks;
        Types = types;
    }

    /// <summary>The tasks by name, each with the span of its name in the file.</summary>
    public Dictionary<string, (ContractTask Task, TextSpan Span)> Tasks { get; }

    /// <summary>The object and enum types by name.</summary>
    public Dictionary<string, ContractType> Types { get; }

    /// <summary>Reads a baseline.</summary>
    /// <exception cref="BaselineException">The text is not valid JSON or not a baseline; it says where.</exception>
    public static ContractBaseline Parse(string text)
    {
        var root = new JsonReader(text).ReadDocument();
        if (root is not JsonObject document)
        {
            throw new BaselineException("the file is not a JSON object", 0);
        }

        if (document.Get("format") is { } format && (format is not JsonNumber number || number.Text != ContractShapes.Format.ToString(CultureInfo.InvariantCulture)))
        {
            throw new BaselineException("it has format " + Describe(format) + ", and this version reads format " + ContractShapes.Format.ToString(CultureInfo.InvariantCulture), format.Start);
        }

        var tasks = new Dictionary<string, (ContractTask, TextSpan)>(StringComparer.Ordinal);
        var tasksValue = document.Get("tasks") as JsonObject ?? throw new BaselineException("it has no \"tasks\" object", document.Start);
        foreach (var (name, nameStart, value) in tasksValue.Members)
        {
            var task = value as JsonObject ?? throw new BaselineException("task '" + name + "' is not an object", value.Start);
            var parameters = new List<ContractParameter>();
            if (task.Get("parameters") is { } parametersValue)
            {
                var array = parametersValue as JsonArray ?? throw new BaselineException("the parameters of task '" + name + "' are not an array", parametersValue.Start);
                foreach (var item in array.Items)
                {
                    var parameter = item as JsonObject ?? throw new BaselineException("a parameter of task '" + name + "' is not an object", item.Start);
                    parameters.Add(new ContractParameter(String(parameter, "name", true)!, String(parameter, "type", true)!, Bool(parameter, "default")));
                }
            }

            tasks[name] = (new ContractTask(name, String(task, "queue", false), parameters.ToEquatableArray(), String(task, "result", false), EquatableArray<ContractType>.Empty),
                new TextSpan(nameStart, Math.Max(1, value.Start - nameStart)));
        }

        var types = new Dictionary<string, ContractType>(StringComparer.Ordinal);
        if (document.Get("types") is { } typesValue)
        {
            var typesObject = typesValue as JsonObject ?? throw new BaselineException("\"types\" is not an object", typesValue.Start);
            foreach (var (name, _, value) in typesObject.Members)
            {
                var type = value as JsonObject ?? throw new BaselineException("type '" + name + "' is not an object", value.Start);
                if (type.Get("enum") is { } enumValue)
                {
                    var values = enumValue as JsonObject ?? throw new BaselineException("the enum of type '" + name + "' is not an object", enumValue.Start);
                    var members = new List<ContractEnumValue>();
                    foreach (var (member, _, memberValue) in values.Members)
                    {
                        members.Add(new ContractEnumValue(member, (memberValue as JsonNumber)?.Text ?? throw new BaselineException("enum member '" + member + "' of '" + name + "' is not a number", memberValue.Start)));
                    }

                    types[name] = new ContractType(name, true, EquatableArray<ContractMember>.Empty, members.ToEquatableArray());
                }
                else
                {
                    var members = new List<ContractMember>();
                    if (type.Get("members") is { } membersValue)
                    {
                        var array = membersValue as JsonArray ?? throw new BaselineException("the members of type '" + name + "' are not an array", membersValue.Start);
                        foreach (var item in array.Items)
                        {
                            var member = item as JsonObject ?? throw new BaselineException("a member of type '" + name + "' is not an object", item.Start);
                            members.Add(new ContractMember(String(member, "name", true)!, String(member, "type", true)!, Bool(member, "optional")));
                        }
                    }

                    types[name] = new ContractType(name, false, members.ToEquatableArray(), EquatableArray<ContractEnumValue>.Empty);
                }
            }
        }

        return new ContractBaseline(tasks, types);
    }

    private static string? String(JsonObject value, string key, bool required) => value.Get(key) switch
    {
        JsonString text => text.Value,
        null when !required => null,
        null => throw new BaselineException("a \"" + key + "\" is missing", value.Start),
        var other => throw new BaselineException("\"" + key + "\" is not a string", other.Start),
    };

    private static bool Bool(JsonObject value, string key) => value.Get(key) switch
    {
        JsonLiteral { Text: "true" } => true,
        null or JsonLiteral { Text: "false" } => false,
        var other => throw new BaselineException("\"" + key + "\" is not true or false", other.Start),
    };

    private static string Describe(JsonValue value) => value switch
    {
        JsonNumber number => number.Text,
        JsonString text => "\"" + text.Value + "\"",
        _ => "of another kind",
    };

    private abstract class JsonValue(int start)
    {
        public int Start { get; } = start;
    }

    private sealed class JsonObject(int start, List<(string Name, int NameStart, JsonValue Value)> members) : JsonValue(start)
    {
        public List<(string Name, int NameStart, JsonValue Value)> Members { get; } = members;

        public JsonValue? Get(string name)
        {
            foreach (var member in Members)
            {
                if (member.Name == name)
                {
                    return member.Value;
                }
            }

            return null;
        }
    }

    private sealed class JsonArray(int start, List<JsonValue> items) : JsonValue(start)
    {
        public List<JsonValue> Items { get; } = items;
    }

    private sealed class JsonString(int start, string value) : JsonValue(start)
    {
        public string Value { get; } = value;
    }

    private sealed class JsonNumber(int start, string text) : JsonValue(start)
    {
        public string Text { get; } = text;
    }

    private sealed class JsonLiteral(int start, string text) : JsonValue(start)
    {
        public string Text { get; } = text;
    }

    /// <summary>A small strict JSON reader (RFC 8259) that keeps the position of every value.</summary>
    private sealed class JsonReader(string text)
    {
        private int position;

        public JsonValue ReadDocument()
        {
            var value = ReadValue(0);
            SkipWhitespace();
            if (position < text.Length)
            {
                throw new BaselineException("unexpected text after the JSON value", position);
            }

            return value;
        }

        private JsonValue ReadValue(int depth)
        {
            if (depth > 64)
            {
                throw new BaselineException("the JSON is nested too deeply", position);
            }

            SkipWhitespace();
            if (position >= text.Length)
            {
                throw new BaselineException("the JSON ends unexpectedly", position);
            }

            var start = position;
            switch (text[position])
            {
                case '{':
                {
                    position++;
                    var members = new List<(string, int, JsonValue)>();
                    SkipWhitespace();
                    if (Peek('}'))
                    {
                        position++;
                        return new JsonObject(start, members);
                    }

                    while (true)
                    {
                        SkipWhitespace();
                        var nameStart = position;
                        var name = ReadString();
                        SkipWhitespace();
                        Expect(':');
                        members.Add((name, nameStart, ReadValue(depth + 1)));
                        SkipWhitespace();
                        if (Peek(','))
                        {
                            position++;
                            continue;
                        }

                        Expect('}');
                        return new JsonObject(start, members);
                    }
                }

                case '[':
                {
                    position++;
                    var items = new List<JsonValue>();
                    SkipWhitespace();
                    if (Peek(']'))
                    {
                        position++;
                        return new JsonArray(start, items);
                    }

                    while (true)
                    {
                        items.Add(ReadValue(depth + 1));
                        SkipWhitespace();
                        if (Peek(','))
                        {
                            position++;
                            continue;
                        }

                        Expect(']');
                        return new JsonArray(start, items);
                    }
                }

                case '"':
                    return new JsonString(start, ReadString());
                case 't':
                    return Literal(start, "true");
                case 'f':
                    return Literal(start, "false");
                case 'n':
                    return Literal(start, "null");
                default:
                    return ReadNumber(start);
            }
        }

        private JsonLiteral Literal(int start, string literal)
        {
            if (string.CompareOrdinal(text, position, literal, 0, literal.Length) != 0)
            {
                throw new BaselineException("unexpected character '" + text[position] + "'", position);
            }

            position += literal.Length;
            return new JsonLiteral(start, literal);
        }

        private JsonNumber ReadNumber(int start)
        {
            while (position < text.Length && (char.IsDigit(text[position]) || text[position] is '-' or '+' or '.' or 'e' or 'E'))
            {
                position++;
            }

            var number = text.Substring(start, position - start);
            if (number.Length == 0 || !double.TryParse(number, NumberStyles.Float, CultureInfo.InvariantCulture, out _))
            {
                throw new BaselineException("unexpected character '" + (start < text.Length ? text[start] : ' ') + "'", start);
            }

            return new JsonNumber(start, number);
        }

        private string ReadString()
        {
            Expect('"');
            var builder = new StringBuilder();
            while (true)
            {
                if (position >= text.Length)
                {
                    throw new BaselineException("a string is not closed", position);
                }

                var c = text[position++];
                if (c == '"')
                {
                    return builder.ToString();
                }

                if (c < ' ')
                {
                    throw new BaselineException("a string holds a control character", position - 1);
                }

                if (c != '\\')
                {
                    builder.Append(c);
                    continue;
                }

                if (position >= text.Length)
                {
                    throw new BaselineException("a string is not closed", position);
                }

                var escape = text[position++];
                switch (escape)
                {
                    case '"': builder.Append('"'); break;
                    case '\\': builder.Append('\\'); break;
                    case '/': builder.Append('/'); break;
                    case 'b': builder.Append('\b'); break;
                    case 'f': builder.Append('\f'); break;
                    case 'n': builder.Append('\n'); break;
                    case 'r': builder.Append('\r'); break;
                    case 't': builder.Append('\t'); break;
                    case 'u' when position + 4 <= text.Length
                        && int.TryParse(text.Substring(position, 4), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var code):
                        builder.Append((char)code);
                        position += 4;
                        break;
                    default:
                        throw new BaselineException("a string holds an invalid escape", position - 2);
                }
            }
        }

        private void SkipWhitespace()
        {
            while (position < text.Length && text[position] is ' ' or '\t' or '\r' or '\n' or '\uFEFF')
            {
                position++;
            }
        }

        private bool Peek(char c) => position < text.Length && text[position] == c;

        private void Expect(char c)
        {
            if (!Peek(c))
            {
                throw new BaselineException(position < text.Length ? "expected '" + c + "' but found '" + text[position] + "'" : "expected '" + c + "' but the JSON ends", position);
            }

            position++;
        }
    }
}

/// <summary>A contract baseline that cannot be read, with the position of the problem.</summary>
internal sealed class BaselineException(string message, int position) : Exception(message)
{
    public int Position { get; } = position;
}
