using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;
using TypedJobs.Generators.Diagnostics;
using TypedJobs.Generators.Rules;
using TypedJobs.Scheduling;

namespace TypedJobs.Analyzers;

/// <summary>
/// The rules of one <c>[Task]</c> declaration: its signature (TJ1001-TJ1005, TJ1008), its types' serializers (TJ1007)
/// and its settings (TJ3001-TJ3007, with cron expressions checked by the runtime's own parser).
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class TaskAnalyzer : DiagnosticAnalyzer
{
    /// <summary>
    /// The diagnostic property naming the type (<c>global::</c>-qualified) that a TJ1007 is about; set only when adding the
    /// type to a <c>JsonSerializerContext</c> can fix it.
    /// </summary>
    public const string TypeNameProperty = "TypeName";

    /// <inheritdoc />
    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics { get; } =
    [
        DiagnosticDescriptors.UnsupportedReturnType, DiagnosticDescriptors.UnsupportedParameter, DiagnosticDescriptors.GenericTask,
        DiagnosticDescriptors.InaccessibleTask, DiagnosticDescriptors.NoConstructor, DiagnosticDescriptors.NoSerializer,
        DiagnosticDescriptors.RecurringTaskParameter, DiagnosticDescriptors.InvalidTimeSpan, DiagnosticDescriptors.InvalidUnique,
        DiagnosticDescriptors.InvalidNumber, DiagnosticDescriptors.InvalidCron, DiagnosticDescriptors.InvalidTimeZone,
        DiagnosticDescriptors.InvalidQueueName, DiagnosticDescriptors.InvalidSchedule, DiagnosticDescriptors.AsyncVoidTask,
    ];

    /// <inheritdoc />
    public override void Initialize(AnalysisContext context)
    {
        context.ConfigureGeneratedCodeAnalysis(GeneratedCodeAnalysisFlags.None);
        context.EnableConcurrentExecution();
        context.RegisterCompilationStartAction(static start =>
        {
            if (start.Compilation.GetTypeByMetadataName(TaskRules.TaskAttributeName) is not { } taskAttribute)
            {
                return;
            }

            var serializers = new SerializerCheck(start.Compilation);
            start.RegisterSymbolAction(symbol => Analyze(symbol, taskAttribute, serializers), SymbolKind.Method);
        });
    }

    private static void Analyze(SymbolAnalysisContext context, INamedTypeSymbol taskAttribute, SerializerCheck serializers)
    {
        var method = (IMethodSymbol)context.Symbol;
        if (TaskSymbols.TaskAttribute(method, taskAttribute) is not { } attribute)
        {
            return;
        }

        var problems = new List<TaskProblem>();
        if (ContractRules.ImplementedContractTask(method) is not null)
        {
            // An implementation of a contract task: the contract is the declaration; only the run-time settings of this
            // [Task] are its own (ContractAnalyzer reports the others and checks the implementation).
            TaskRules.ReadSettings(method, attribute, problems, context.CancellationToken);
        }
        else
        {
            TaskRules.CheckDeclaration(method, attribute, problems, context.CancellationToken);
            TaskRules.ReadSettings(method, attribute, problems, context.CancellationToken);
            CheckSchedule(method, attribute, problems, context.CancellationToken);
            if (!problems.Any(static p => p.SkipsTask))
            {
                serializers.Check(method, problems, context.CancellationToken);
            }
        }

        var fallback = method.Locations.FirstOrDefault() ?? Location.None;
        foreach (var problem in problems)
        {
            context.ReportDiagnostic(problem.ToDiagnostic(fallback));
        }
    }

    /// <summary>
    /// TJ3004 and TJ3005: the cron expression, parsed exactly as the scheduler will parse it (Cronos), and the time
    /// zone, looked up in the IANA list compiled into the analyzer, so the result does not depend on the tz data of the
    /// machine that builds.
    /// </summary>
    private static void CheckSchedule(IMethodSymbol method, AttributeData attribute, List<TaskProblem> problems, CancellationToken cancellationToken)
    {
        foreach (var pair in attribute.NamedArguments)
        {
            if (pair.Value.Value is not string text)
            {
                continue;
            }

            string? error = null;
            var descriptor = DiagnosticDescriptors.InvalidCron;
            if (pair.Key == "Cron")
            {
                CronParser.TryParse(text, out error);
            }
            else if (pair.Key == "TimeZone")
            {
                descriptor = DiagnosticDescriptors.InvalidTimeZone;
                CronParser.IsKnownTimeZone(text, out error);
            }

            if (error is not null)
            {
                problems.Add(new TaskProblem(descriptor, TaskRules.ArgumentLocation(attribute, pair.Key, cancellationToken), false,
                    text, TaskRules.Display(method), error));
            }
        }
    }
}
