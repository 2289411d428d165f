using System.Linq;
using TypedJobs.Generators.Model;

namespace TypedJobs.Generators.Emit;

/// <summary>
/// Emits a task's handler: resolve the arguments (payload fields, the job's token and context, services from the job's
/// scope), create the instance for an instance task (a direct constructor call) and dispose it afterwards, call the
/// method and hand back its result. The handler is <c>async</c> only when it awaits something.
/// </summary>
internal static class HandlerEmitter
{
    private const string Tasks = "global::System.Threading.Tasks";
    private const string Di = "global::Microsoft.Extensions.DependencyInjection";

    private static string Argument(ParameterModel p)
    {
        var type = p.IsValueType ? p.Type : Names.WithoutAnnotation(p.Type);
        return p.Source switch
        {
            ArgumentSource.Payload => "payload." + Names.Escape(p.Name),
            ArgumentSource.CancellationToken => "context.CancellationToken",
            ArgumentSource.Context => "context",
            ArgumentSource.ServiceProvider => "context.Services",
            ArgumentSource.Service => Di + ".ServiceProviderServiceExtensions.GetRequiredService<" + type + ">(context.Services)",
            ArgumentSource.OptionalService => Di + ".ServiceProviderServiceExtensions.GetService<" + type + ">(context.Services)",
            ArgumentSource.KeyedService => Di + ".ServiceProviderKeyedServiceExtensions.GetRequiredKeyedService<" + type + ">(context.Services, " + p.ServiceKey + ")",
            _ => Di + ".ServiceProviderKeyedServiceExtensions.GetKeyedService<" + type + ">(context.Services, " + p.ServiceKey + ")",
        };
    }

    public static void Emit(CodeWriter w, TaskModel task)
    {
        var returns = task.HasResult ? Tasks + ".ValueTask<" + task.ResultType + ">" : Tasks + ".ValueTask";
        var awaitsResult = task.ReturnKind is ReturnKind.Task or ReturnKind.ValueTask or ReturnKind.TaskOfT or ReturnKind.ValueTaskOfT;

        // An instance must be disposed after the call: with "await using" (always async), or with "using" around an
        // awaited call. A synchronous method on an IDisposable type gets a plain "using" and no async (CS1998).
        var async = !task.IsStatic && (task.Dispose == DisposeKind.AsyncDisposable || (task.Dispose == DisposeKind.Disposable && awaitsResult));
        // A contract task is called through its interface, so an explicit implementation works too.
        var target = task.IsStatic ? task.ContainingType : task.Interface is { } contract ? "((" + contract + ")instance)" : "instance";
        var call = target + "." + Names.Escape(task.MethodName)
            + "(" + string.Join(", ", task.Parameters.Select(Argument)) + ")";
        var payloadType = PayloadEmitter.LocalPayloadType(task);

        w.Line();
        w.Open("private static " + (async ? "async " : string.Empty) + returns + " Handler(" + payloadType + " payload, global::TypedJobs.JobContext context)");
        if (!task.IsStatic)
        {
            var creation = "new " + task.ContainingType + "(" + string.Join(", ", task.ConstructorParameters.Select(Argument)) + ")";
            w.Line(task.Dispose switch
            {
                DisposeKind.AsyncDisposable => "await using var instance = " + creation + ";",
                DisposeKind.Disposable => "using var instance = " + creation + ";",
                _ => "var instance = " + creation + ";",
            });
        }

        if (!task.Parameters.Any(static p => p.Source == ArgumentSource.Payload))
        {
            w.Line("_ = payload;");
        }

        if (async)
        {
            switch (task.ReturnKind)
            {
                case ReturnKind.Void:
                    w.Line(call + ";");
                    break;
                case ReturnKind.Task:
                case ReturnKind.ValueTask:
                    w.Line("await " + call + ".ConfigureAwait(false);");
                    break;
                case ReturnKind.TaskOfT:
                case ReturnKind.ValueTaskOfT:
                    w.Line("return await " + call + ".ConfigureAwait(false);");
                    break;
                default:
                    w.Line("return " + call + ";");
                    break;
            }
        }
        else
        {
            switch (task.ReturnKind)
            {
                case ReturnKind.Void:
                    w.Line(call + ";");
                    w.Line("return default;");
                    break;
                case ReturnKind.Task:
                    w.Line("return new " + Tasks + ".ValueTask(" + call + ");");
                    break;
                case ReturnKind.TaskOfT:
                case ReturnKind.Value:
                    w.Line("return new " + returns + "(" + call + ");");
                    break;
                default:
                    w.Line("return " + call + ";");
                    break;
            }
        }

        w.Close();
    }
}
