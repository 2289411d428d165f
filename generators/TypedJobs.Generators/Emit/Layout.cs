using System.Collections.Generic;
using System.Linq;
using TypedJobs.Generators.Model;

namespace TypedJobs.Generators.Emit;

/// <summary>
/// Where generated code goes and what it is called: one extension class and one file per containing type, and the
/// stub names of each task. Every name depends only on the task's own type (never on other types), so adding a task
/// elsewhere never renames an existing stub.
/// </summary>
internal static class Layout
{
    /// <summary>
    /// The generated class of a containing type: the type's path with nested types joined by <c>_</c> (a <c>_</c> in a
    /// name doubled, so <c>A.B_C</c> and <c>A_B.C</c> stay apart) and <c>JobClientExtensions</c>.
    /// </summary>
    public static string ClassName(TaskModel task) =>
        string.Join("_", task.ContainingTypePath.Split('.').Select(static p => p.Replace("_", "__"))) + "JobClientExtensions";

    /// <summary>The stub's name fragment: the method name without a trailing <c>Async</c>.</summary>
    public static string BaseStubName(TaskModel task) =>
        task.MethodName.EndsWith("Async", System.StringComparison.Ordinal) && task.MethodName.Length > 5
            ? task.MethodName.Substring(0, task.MethodName.Length - 5)
            : task.MethodName;

    /// <summary>Groups the tasks by containing type, in a stable order, with unique file names and stub names.</summary>
    public static IEnumerable<TypeTasksModel> Group(EquatableArray<TaskModel> tasks, string jsonClass)
    {
        var hints = new HashSet<string>(System.StringComparer.OrdinalIgnoreCase);
        foreach (var group in tasks.GroupBy(static t => t.ContainingType).OrderBy(static g => g.Key, System.StringComparer.Ordinal))
        {
            var members = group.ToList();
            var first = members[0];
            var className = ClassName(first);
            var hint = Names.Unique((first.Namespace.Length > 0 ? first.Namespace + "." : string.Empty) + className, hints);
            hints.Add(hint);
            yield return new TypeTasksModel(first.Namespace, className, hint + ".g.cs", jsonClass, members.ToEquatableArray(), StubNames(members).ToEquatableArray());
        }
    }

    /// <summary>
    /// Per task (in declaration order), the fragment of its stub names: <c>Enqueue{Method}Async</c> and
    /// <c>Enqueue{Method}BatchAsync</c>, unless an earlier task of the type already has a stub with the same name and
    /// parameter types (overloads that differ only in non-payload parameters, <c>Send</c> and <c>SendAsync</c>): then
    /// the later one is numbered, <c>Enqueue{Method}2Async</c>.
    /// </summary>
    private static List<string> StubNames(List<TaskModel> tasks)
    {
        var signatures = new HashSet<string>(System.StringComparer.Ordinal);
        var names = new List<string>();
        foreach (var task in tasks)
        {
            var payload = task.Parameters.Where(static p => p.Source == ArgumentSource.Payload).Select(static p => p.SignatureType).ToList();
            // Written as SignatureType writes types, so a batch stub and a single-job stub compare equal when they clash.
            var batch = payload.Count switch
            {
                0 => "int",
                1 => "global::System.Collections.Generic.IEnumerable<" + payload[0] + ">",
                _ => "global::System.Collections.Generic.IEnumerable<(" + string.Join(", ", payload) + ")>",
            };
            var baseName = BaseStubName(task);
            for (var n = 1; ; n++)
            {
                var name = n == 1 ? baseName : baseName + n.ToString(System.Globalization.CultureInfo.InvariantCulture);
                var single = "Enqueue" + name + "Async(" + string.Join(", ", payload) + ")";
                var many = "Enqueue" + name + "BatchAsync(" + batch + ")";
                if (!signatures.Contains(single) && !signatures.Contains(many))
                {
                    signatures.Add(single);
                    signatures.Add(many);
                    names.Add(name);
                    break;
                }
            }
        }

        return names;
    }
}
