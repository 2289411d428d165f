using System.Collections.Generic;
using System.Linq;
using TypedJobs.Generators.Emit;
using TypedJobs.Generators.Model;

namespace TypedJobs.Generators.Diagnostics;

/// <summary>Rules that need every task of the assembly at once: duplicate names and types without a serializer.</summary>
internal static class TaskSetDiagnostics
{
    public static EquatableArray<DiagnosticInfo> Analyze(EquatableArray<TaskModel> tasks, EquatableArray<JsonContextEntry> contexts)
    {
        var result = new List<DiagnosticInfo>();
        var names = new Dictionary<string, TaskModel>(System.StringComparer.Ordinal);
        foreach (var task in tasks)
        {
            if (names.TryGetValue(task.TaskName, out var first))
            {
                result.Add(new DiagnosticInfo(DiagnosticDescriptors.DuplicateTaskName.Id, task.Location,
                    new EquatableArray<string>([task.TaskName, Display(task), Display(first)])));
            }
            else
            {
                names.Add(task.TaskName, task);
            }
        }

        var contextMap = ContextMap(contexts);
        foreach (var task in tasks)
        {
            var shapes = task.Types.ToDictionary(static s => s.Key, System.StringComparer.Ordinal);
            var visited = new HashSet<string>(System.StringComparer.Ordinal);
            var pending = new Stack<string>(task.Parameters.Where(static p => p.Source == ArgumentSource.Payload).Select(static p => p.TypeKey));
            if (task.ResultTypeKey is not null)
            {
                pending.Push(task.ResultTypeKey);
            }

            while (pending.Count > 0)
            {
                var key = pending.Pop();
                if (!visited.Add(key) || !shapes.TryGetValue(key, out var shape) || JsonEmitter.ContextFor(shape, contextMap) is not null)
                {
                    continue;
                }

                if (shape.Kind == ShapeKind.Unsupported)
                {
                    result.Add(new DiagnosticInfo(DiagnosticDescriptors.NoSerializer.Id, task.Location,
                        new EquatableArray<string>([shape.ContextName.Replace("global::", string.Empty), task.TaskName, shape.Reason ?? "it is not supported"])));
                }

                if (shape.ElementKey is not null && shape.Kind != ShapeKind.Enum)
                {
                    pending.Push(shape.ElementKey);
                }

                foreach (var member in shape.Members)
                {
                    pending.Push(member.TypeKey);
                }
            }
        }

        return result.ToEquatableArray();
    }

    public static Dictionary<string, string> ContextMap(EquatableArray<JsonContextEntry> contexts)
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

    private static string Display(TaskModel task) => task.ContainingTypePath + "." + task.MethodName;
}
