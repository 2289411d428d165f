using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Security.Cryptography;
using System.Text;
using System.Threading;
using Microsoft.CodeAnalysis;
using TypedJobs.Generators.Model;
using TypedJobs.Generators.Parsing;

namespace TypedJobs.Generators.Rules;

/// <summary>
/// Builds the contract shape of a task (<see cref="ContractTask"/>) from its method and writes contract shapes as the
/// canonical JSON of a contract baseline. The generator embeds that text in the assembly (for the <c>UpdateTaskContract</c>
/// build target) and registers each task's shape and hash at run time; the drift analyzer compares it with the committed
/// baseline. One builder and one writer, compiled into both (linked), so the two never disagree.
/// </summary>
internal static class ContractShapes
{
    /// <summary>The version of the baseline format.</summary>
    public const int Format = 1;

    /// <summary>The contract of a <c>[Task]</c> method or contract task, under the name and queue its attribute declares.</summary>
    public static ContractTask Build(IMethodSymbol method, AttributeData attribute, IAssemblySymbol assembly, CancellationToken cancellationToken) =>
        Build(method, TaskRules.TaskName(method, attribute), TaskRules.ReadSettings(method, attribute, problems: null, cancellationToken).Queue, assembly);

    /// <summary>The contract of a task whose payload and result are those of <paramref name="method"/>.</summary>
    public static ContractTask Build(IMethodSymbol method, string name, string? queue, IAssemblySymbol assembly)
    {
        var shapes = new TypeShapeBuilder(assembly);
        var parameters = new List<ContractParameter>();
        foreach (var parameter in method.Parameters)
        {
            if (TaskRules.ParameterProblem(parameter) is not null || !TaskRules.IsPayload(parameter))
            {
                continue;
            }

            shapes.Add(parameter.Type);
            parameters.Add(new ContractParameter(parameter.Name, TypeName(parameter.Type), parameter.HasExplicitDefaultValue || parameter.IsParams));
        }

        string? result = null;
        if (TaskRules.ClassifyReturn(method).Result is { } resultType)
        {
            shapes.Add(resultType);
            result = TypeName(resultType);
        }

        var all = shapes.Shapes;
        var byKey = new Dictionary<string, TypeShape>(StringComparer.Ordinal);
        foreach (var shape in all)
        {
            byKey[shape.Key] = shape;
        }

        var types = new SortedDictionary<string, ContractType>(StringComparer.Ordinal);
        foreach (var shape in all)
        {
            var typeName = Clean(shape.ContextName);
            if (types.ContainsKey(typeName))
            {
                continue;
            }

            if (shape.Kind == ShapeKind.Enum)
            {
                types.Add(typeName, new ContractType(typeName, true, EquatableArray<ContractMember>.Empty, shape.EnumValues));
            }
            else if (shape.Kind == ShapeKind.Object)
            {
                var members = shape.Members
                    .Select(m => new ContractMember(m.Name, byKey.TryGetValue(m.TypeKey, out var memberShape) ? Clean(memberShape.ContextName) : Clean(m.Type), IsOptional(m)))
                    .ToEquatableArray();
                types.Add(typeName, new ContractType(typeName, false, members, EquatableArray<ContractEnumValue>.Empty));
            }
        }

        return new ContractTask(name, queue, parameters.ToEquatableArray(), result, types.Values.ToEquatableArray());
    }

    /// <summary>A type as contracts write it: fully qualified without <c>global::</c>, without nullable reference annotations.</summary>
    public static string TypeName(ITypeSymbol type) => Clean(type.ToPlain());

    private static string Clean(string type) => type.Replace("global::", string.Empty);

    /// <summary>
    /// Whether the generated reader accepts an object without the member's key: all but <c>required</c> members and
    /// constructor parameters of non-nullable reference types without a default.
    /// </summary>
    private static bool IsOptional(MemberShape member) =>
        !(member.IsRequired || (member.ConstructorIndex >= 0 && member.DefaultValue is null && member.RejectsNull));

    /// <summary>The canonical baseline text of <paramref name="tasks"/> (one entry per name, by name; types by name).</summary>
    public static string Write(IEnumerable<ContractTask> tasks)
    {
        var ordered = tasks.GroupBy(static t => t.Name, StringComparer.Ordinal).Select(static g => g.First())
            .OrderBy(static t => t.Name, StringComparer.Ordinal).ToList();
        var types = ordered.SelectMany(static t => t.Types).GroupBy(static t => t.Name, StringComparer.Ordinal).Select(static g => g.First())
            .OrderBy(static t => t.Name, StringComparer.Ordinal).ToList();

        var w = new StringBuilder();
        w.Append("{\n  \"format\": ").Append(Format.ToString(CultureInfo.InvariantCulture)).Append(",\n  \"tasks\": {");
        for (var i = 0; i < ordered.Count; i++)
        {
            var task = ordered[i];
            w.Append(i == 0 ? "\n" : ",\n").Append("    ").Append(Quote(task.Name)).Append(": {\n");
            if (task.Queue is not null)
            {
                w.Append("      \"queue\": ").Append(Quote(task.Queue)).Append(",\n");
            }

            w.Append("      \"parameters\": [");
            for (var p = 0; p < task.Parameters.Count; p++)
            {
                var parameter = task.Parameters[p];
                w.Append(p == 0 ? "\n" : ",\n").Append("        { \"name\": ").Append(Quote(parameter.Name)).Append(", \"type\": ").Append(Quote(parameter.Type));
                if (parameter.HasDefault)
                {
                    w.Append(", \"default\": true");
                }

                w.Append(" }");
            }

            w.Append(task.Parameters.Count == 0 ? "]" : "\n      ]");
            if (task.Result is not null)
            {
                w.Append(",\n      \"result\": ").Append(Quote(task.Result));
            }

            w.Append("\n    }");
        }

        w.Append(ordered.Count == 0 ? "},\n" : "\n  },\n").Append("  \"types\": {");
        for (var i = 0; i < types.Count; i++)
        {
            var type = types[i];
            w.Append(i == 0 ? "\n" : ",\n").Append("    ").Append(Quote(type.Name)).Append(": {\n");
            if (type.IsEnum)
            {
                w.Append("      \"enum\": {");
                for (var v = 0; v < type.Values.Count; v++)
                {
                    w.Append(v == 0 ? " " : ", ").Append(Quote(type.Values[v].Name)).Append(": ").Append(type.Values[v].Value);
                }

                w.Append(type.Values.Count == 0 ? "}" : " }");
            }
            else
            {
                w.Append("      \"members\": [");
                for (var m = 0; m < type.Members.Count; m++)
                {
                    var member = type.Members[m];
                    w.Append(m == 0 ? "\n" : ",\n").Append("        { \"name\": ").Append(Quote(member.Name)).Append(", \"type\": ").Append(Quote(member.Type));
                    if (member.Optional)
                    {
                        w.Append(", \"optional\": true");
                    }

                    w.Append(" }");
                }

                w.Append(type.Members.Count == 0 ? "]" : "\n      ]");
            }

            w.Append("\n    }");
        }

        w.Append(types.Count == 0 ? "}\n}\n" : "\n  }\n}\n");
        return w.ToString();
    }

    /// <summary>The shape hash of a text: the first 8 bytes of its UTF-8 SHA-256, as 16 lowercase hexadecimal digits.</summary>
    public static string Hash(string text)
    {
        using var sha = SHA256.Create();
        var bytes = sha.ComputeHash(Encoding.UTF8.GetBytes(text));
        var hex = new StringBuilder(16);
        for (var i = 0; i < 8; i++)
        {
            hex.Append(bytes[i].ToString("x2", CultureInfo.InvariantCulture));
        }

        return hex.ToString();
    }

    /// <summary>A JSON string literal.</summary>
    public static string Quote(string text)
    {
        var builder = new StringBuilder(text.Length + 2).Append('"');
        foreach (var c in text)
        {
            switch (c)
            {
                case '"':
                    builder.Append("\\\"");
                    break;
                case '\\':
                    builder.Append("\\\\");
                    break;
                case '\n':
                    builder.Append("\\n");
                    break;
                case '\r':
                    builder.Append("\\r");
                    break;
                case '\t':
                    builder.Append("\\t");
                    break;
                default:
                    if (c < ' ')
                    {
                        builder.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
                    }
                    else
                    {
                        builder.Append(c);
                    }

                    break;
            }
        }

        return builder.Append('"').ToString();
    }
}
