using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using TypedJobs.Generators.Model;

namespace TypedJobs.Generators.Emit;

/// <summary>
/// Emits the public face of a task: <c>Enqueue{Name}Async</c> with exactly the payload parameters (names, types,
/// defaults, documentation) and <c>Enqueue{Name}BatchAsync</c>, both extension methods on <c>IJobClient</c>.
/// </summary>
internal static class StubEmitter
{
    private const string Tasks = "global::System.Threading.Tasks";

    public static void Emit(CodeWriter w, TaskModel task, string stubName, string jobClass)
    {
        var payload = PayloadEmitter.Payload(task).ToList();
        var payloadType = PayloadEmitter.PayloadType(task, jobClass);
        var definition = jobClass + ".Definition";
        var names = new HashSet<string>(payload.Select(static p => p.Name), System.StringComparer.Ordinal);
        var client = Names.Unique("client", names);
        names.Add(client);
        var options = Names.Unique("options", names);
        names.Add(options);
        var token = Names.Unique("cancellationToken", names);
        names.Add(token);
        var creation = payload.Count == 0
            ? "default"
            : "new " + payloadType + "(" + string.Join(", ", payload.Select(static p => Names.Escape(p.Name) + (p.IsParams ? " ?? " + PayloadEmitter.EmptyCollection(p) : string.Empty))) + ")";

        var taskRef = "<c>" + Names.Xml(task.TaskName) + "</c>";
        var returns = task.HasResult
            ? Tasks + ".ValueTask<global::TypedJobs.JobHandle<" + task.ResultType + ">>"
            : Tasks + ".ValueTask<global::TypedJobs.JobId>";

        // Single job.
        w.Line();
        w.Line("/// <summary>" + (Docs.ForParameters(task.Summary, names) ?? "Runs <c>" + Names.Xml(task.ContainingTypePath + "." + task.MethodName) + "</c> as a background job.") + "</summary>");
        w.Line("/// <remarks>Enqueues one job of the task " + taskRef + ".</remarks>");
        w.Line("/// <param name=\"" + client + "\">The client that enqueues the job.</param>");
        foreach (var p in payload)
        {
            w.Line("/// <param name=\"" + p.Name + "\">" + (Docs.ForParameters(p.Documentation, names) ?? "The <c>" + p.Name + "</c> argument.") + "</param>");
        }

        w.Line("/// <param name=\"" + options + "\">Per-job settings; <see langword=\"null\"/> keeps the task's declared settings.</param>");
        w.Line("/// <param name=\"" + token + "\">Cancels the enqueue call, not the job.</param>");
        w.Line(task.HasResult
            ? "/// <returns>A handle with the new job's id that awaits the job's result.</returns>"
            : "/// <returns>The new job's id.</returns>");
        var parameters = new List<string> { "this global::TypedJobs.IJobClient " + client };
        // A params parameter cannot stay params (options and the token come last): it becomes optional, null meaning empty.
        parameters.AddRange(payload.Select(static p => p.IsParams
            ? Names.WithoutAnnotation(p.Type) + "? " + Names.Escape(p.Name) + " = null"
            : p.Type + " " + Names.Escape(p.Name) + (p.DefaultValue is null ? string.Empty : " = " + p.DefaultValue)));
        parameters.Add("global::TypedJobs.JobOptions? " + options + " = null");
        parameters.Add("global::System.Threading.CancellationToken " + token + " = default");
        var access = task.IsPublic ? "public" : "internal";
        w.Open(access + " static " + returns + " Enqueue" + stubName + "Async(" + string.Join(", ", parameters) + ")");
        w.Line("global::System.ArgumentNullException.ThrowIfNull(" + client + ");");
        var generics = "<" + payloadType + (task.HasResult ? ", " + task.ResultType : string.Empty) + ">";
        w.Line("return " + client + ".EnqueueAsync" + generics + "(" + definition + ", " + creation + ", " + options + ", " + token + ");");
        w.Close();

        // Batch.
        var jobs = payload.Count == 0 ? "count" : "jobs";
        var itemType = ItemType(payload);
        var batchNames = new HashSet<string>(System.StringComparer.Ordinal) { "client", jobs, "options", "cancellationToken" };
        w.Line();
        w.Line("/// <summary>" + (Docs.ForParameters(task.Summary, batchNames) ?? "Runs <c>" + Names.Xml(task.ContainingTypePath + "." + task.MethodName) + "</c> as background jobs.") + "</summary>");
        w.Line("/// <remarks>Enqueues many jobs of the task " + taskRef + " in one atomic store call.</remarks>");
        w.Line("/// <param name=\"client\">The client that enqueues the jobs.</param>");
        w.Line(payload.Count == 0
            ? "/// <param name=\"count\">How many jobs to enqueue.</param>"
            : "/// <param name=\"jobs\">The arguments of each job" + (payload.Count > 1 ? ", in parameter order" : string.Empty) + ".</param>");
        w.Line("/// <param name=\"options\">Settings for every job; <see langword=\"null\"/> keeps the task's declared settings.</param>");
        w.Line("/// <param name=\"cancellationToken\">Cancels the enqueue call, not the jobs.</param>");
        w.Line("/// <returns>The new jobs' ids, in input order.</returns>");
        w.Open(access + " static " + Tasks + ".ValueTask<global::System.Collections.Generic.IReadOnlyList<global::TypedJobs.JobId>> Enqueue" + stubName
            + "BatchAsync(this global::TypedJobs.IJobClient client, " + itemType + " " + jobs
            + ", global::TypedJobs.JobOptions? options = null, global::System.Threading.CancellationToken cancellationToken = default)");
        w.Line("global::System.ArgumentNullException.ThrowIfNull(client);");
        if (payload.Count == 0)
        {
            w.Line("global::System.ArgumentOutOfRangeException.ThrowIfNegative(count);");
            w.Line("return client.EnqueueBatchAsync(" + definition + ", global::System.Linq.Enumerable.Repeat(default(" + payloadType + "), count), options, cancellationToken);");
        }
        else
        {
            w.Line("global::System.ArgumentNullException.ThrowIfNull(jobs);");
            w.Line("return client.EnqueueBatchAsync(" + definition + ", " + jobClass + ".Payloads(jobs), options, cancellationToken);");
        }

        w.Close();
    }

    /// <summary>The batch stub's item type: <c>int</c> (a count) without payload, the type for one parameter, else a tuple.</summary>
    public static string ItemType(IReadOnlyList<ParameterModel> payload)
    {
        if (payload.Count == 0)
        {
            return "int";
        }

        if (payload.Count == 1)
        {
            return "global::System.Collections.Generic.IEnumerable<" + payload[0].Type + ">";
        }

        var named = TupleNames(payload);
        return "global::System.Collections.Generic.IEnumerable<(" + string.Join(", ", payload.Select(p => p.Type + (named ? " " + Names.Escape(p.Name) : string.Empty))) + ")>";
    }

    /// <summary>How a batch item's element is read: its tuple element name, or <c>ItemN</c> when names cannot be used.</summary>
    public static string TupleElement(IReadOnlyList<ParameterModel> payload, int index) =>
        TupleNames(payload) ? Names.Escape(payload[index].Name) : "Item" + (index + 1).ToString(CultureInfo.InvariantCulture);

    private static bool TupleNames(IReadOnlyList<ParameterModel> payload) => payload.All(static p => IsTupleElementName(p.Name));

    private static bool IsTupleElementName(string name) =>
        !(name.StartsWith("Item", System.StringComparison.Ordinal) || name is "Rest" or "ToString" or "GetHashCode" or "Equals" or "GetType" or "CompareTo" or "Deconstruct");
}
