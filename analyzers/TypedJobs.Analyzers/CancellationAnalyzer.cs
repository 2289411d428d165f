using System.Collections.Immutable;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Operations;
using TypedJobs.Generators.Diagnostics;
using TypedJobs.Generators.Rules;

namespace TypedJobs.Analyzers;

/// <summary>
/// TJ1009: a task's <c>CancellationToken</c> parameter is never used. TJ1010: a task without one calls something that
/// accepts a token. Either way a timeout, a cancel or a shutdown cannot stop the job.
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class CancellationAnalyzer : DiagnosticAnalyzer
{
    /// <inheritdoc />
    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics { get; } =
        [DiagnosticDescriptors.UnobservedCancellationToken, DiagnosticDescriptors.MissingCancellationToken];

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

            start.RegisterOperationBlockAction(block => Analyze(block, taskAttribute));
        });
    }

    private static void Analyze(OperationBlockAnalysisContext context, INamedTypeSymbol taskAttribute)
    {
        // An abstract method (a task of a [TaskContract] interface) has no body: its implementation is checked instead.
        if (context.OwningSymbol is not IMethodSymbol { MethodKind: MethodKind.Ordinary, IsAbstract: false } method
            || TaskSymbols.TaskAttribute(method, taskAttribute) is null)
        {
            return;
        }

        var token = method.Parameters.FirstOrDefault(static p => TaskSymbols.IsCancellationToken(p.Type));
        if (token is not null)
        {
            var used = context.OperationBlocks
                .SelectMany(static b => b.DescendantsAndSelf())
                .OfType<IParameterReferenceOperation>()
                .Any(r => SymbolEqualityComparer.Default.Equals(r.Parameter, token));
            if (!used)
            {
                context.ReportDiagnostic(Diagnostic.Create(DiagnosticDescriptors.UnobservedCancellationToken,
                    token.Locations.FirstOrDefault(), TaskRules.Display(method), token.Name));
            }

            return;
        }

        var calls = CancellableCalls.Find(context.OperationBlocks);
        if (calls.Count > 0)
        {
            var target = calls[0].Invocation.TargetMethod;
            context.ReportDiagnostic(Diagnostic.Create(DiagnosticDescriptors.MissingCancellationToken,
                method.Locations.FirstOrDefault(), TaskRules.Display(method), target.ContainingType.Name + "." + target.Name));
        }
    }
}
