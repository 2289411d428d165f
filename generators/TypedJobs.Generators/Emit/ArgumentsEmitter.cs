using System.Collections.Generic;
using System.Linq;
using TypedJobs.Generators.Model;

namespace TypedJobs.Generators.Emit;

/// <summary>
/// Emits a task's public arguments record, <c>{Method}Arguments</c>: one positional member per payload parameter
/// (named in PascalCase, with the parameter's type, default and documentation) that implements
/// <c>ITaskArguments&lt;TSelf&gt;</c> by converting to and from the task's private payload class, so stored payloads
/// are read and written only by the task's own serializer.
/// </summary>
internal static class ArgumentsEmitter
{
    private const string Registration = "global::TypedJobs.Registration";

    /// <summary>Members every record has, and the ones the interface adds: a payload member never takes these names.</summary>
    private static readonly string[] Reserved =
    [
        "TaskName", "FromPayload", "ToPayload", "EqualityContract", "Equals", "GetHashCode", "ToString", "PrintMembers",
        "Deconstruct", "GetType", "MemberwiseClone", "Finalize",
    ];

    /// <summary>The record's member name for each payload parameter, in order.</summary>
    public static IReadOnlyList<string> MemberNames(IReadOnlyList<ParameterModel> payload, string recordName)
    {
        var taken = new HashSet<string>(Reserved, System.StringComparer.Ordinal) { recordName };
        var names = new List<string>(payload.Count);
        foreach (var p in payload)
        {
            var preferred = p.Name.Length > 0 && char.IsLower(p.Name[0]) ? char.ToUpperInvariant(p.Name[0]) + p.Name.Substring(1) : p.Name;
            var name = Names.Unique(preferred, taken);
            taken.Add(name);
            names.Add(name);
        }

        return names;
    }

    public static void Emit(CodeWriter w, TaskModel task, string recordName, string jobClass)
    {
        var payload = PayloadEmitter.Payload(task).ToList();
        var members = MemberNames(payload, recordName);
        var memberSet = new HashSet<string>(members, System.StringComparer.Ordinal);
        var access = task.IsPublic ? "public" : "internal";
        var self = recordName;
        var serializer = jobClass + ".Definition.PayloadSerializer";

        w.Line();
        w.Line("/// <summary>The arguments of one job of the task <c>" + Names.Xml(task.TaskName) + "</c>, read and written with the task's own serializer.</summary>");
        for (var i = 0; i < payload.Count; i++)
        {
            // The method's parameter documentation names the method's parameters; here they are the record's members.
            var doc = Docs.ForParameters(payload[i].Documentation, memberSet) ?? "The <c>" + payload[i].Name + "</c> argument.";
            w.Line("/// <param name=\"" + members[i] + "\">" + doc + "</param>");
        }

        // Defaults are kept only where C# allows them: after the last parameter without one (a params parameter, which
        // follows optional ones in the method, has none here).
        var firstDefault = payload.Count;
        while (firstDefault > 0 && payload[firstDefault - 1].DefaultValue is not null)
        {
            firstDefault--;
        }

        var header = access + " sealed record " + self;
        if (payload.Count > 0)
        {
            header += "(" + string.Join(", ", payload.Select((p, i) =>
                p.Type + " " + Names.Escape(members[i]) + (i >= firstDefault ? " = " + p.DefaultValue : string.Empty))) + ")";
        }

        w.Open(header + " : " + Registration + ".ITaskArguments<" + self + ">");
        w.Line("/// <inheritdoc/>");
        w.Line("public static string TaskName => " + Names.Literal(task.TaskName) + ";");
        w.Line();
        w.Line("/// <inheritdoc/>");
        w.Open("public static " + self + " FromPayload(global::System.ReadOnlySpan<byte> payload)");
        if (payload.Count == 0)
        {
            w.Line(serializer + ".Deserialize(payload);");
            w.Line("return new " + self + "();");
        }
        else
        {
            w.Line("var value = " + serializer + ".Deserialize(payload);");
            w.Line("return new " + self + "(" + string.Join(", ", payload.Select(static p => "value." + Names.Escape(p.Name))) + ");");
        }

        w.Close();
        w.Line();
        w.Line("/// <inheritdoc/>");
        var creation = payload.Count == 0
            ? "default"
            : "new " + PayloadEmitter.PayloadType(task, jobClass) + "(" + string.Join(", ", members.Select(static m => Names.Escape(m))) + ")";
        w.Line("public byte[] ToPayload() => " + Registration + ".JobSerializer.ToBytes(" + serializer + ", " + creation + ");");
        w.Close();
    }
}
