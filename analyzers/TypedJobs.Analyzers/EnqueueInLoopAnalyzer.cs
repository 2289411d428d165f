using System.Collections.Immutable;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Operations;
using TypedJobs.Generators.Diagnostics;

namespace TypedJobs.Analyzers;

/// <summary>
/// TJ2001: a generated single-job stub (<c>EnqueueXxxAsync</c>) called in the body of a loop while its batch form
/// (<c>EnqueueXxxBatchAsync</c>) exists: the batch form enqueues every job in one atomic store call.
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class EnqueueInLoopAnalyzer : DiagnosticAnalyzer
{
    private const string GeneratorName = "TypedJobs.Generators";

    /// <inheritdoc />
    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics { get; } = [DiagnosticDescriptors.EnqueueInLoop];

    /// <inheritdoc />
    public override void Initialize(AnalysisContext context)
    {
        context.ConfigureGeneratedCodeAnalysis(GeneratedCodeAnalysisFlags.None);
        context.EnableConcurrentExecution();
        context.RegisterOperationAction(Analyze, OperationKind.Invocation);
    }

    private static void Analyze(OperationAnalysisContext context)
    {
        var invocation = (IInvocationOperation)context.Operation;
        var target = invocation.TargetMethod;
        if (!target.IsExtensionMethod
            || !target.Name.StartsWith("Enqueue", System.StringComparison.Ordinal)
            || !target.Name.EndsWith("Async", System.StringComparison.Ordinal)
            || target.Name.EndsWith("BatchAsync", System.StringComparison.Ordinal)
            || !IsGenerated(target.ContainingType))
        {
            return;
        }

        var batchName = target.Name.Substring(0, target.Name.Length - "Async".Length) + "BatchAsync";
        if (!target.ContainingType.GetMembers(batchName).OfType<IMethodSymbol>().Any() || !InLoopBody(invocation))
        {
            return;
        }

        context.ReportDiagnostic(Diagnostic.Create(DiagnosticDescriptors.EnqueueInLoop, invocation.Syntax.GetLocation(), target.Name, batchName));
    }

    private static bool IsGenerated(INamedTypeSymbol type) =>
        type.GetAttributes().Any(static a => a.AttributeClass is { Name: "GeneratedCodeAttribute" }
            && a.ConstructorArguments.Length > 0
            && a.ConstructorArguments[0].Value is GeneratorName);

    /// <summary>Whether the call runs once per iteration of a loop of the same method (lambdas and local functions end the search).</summary>
    private static bool InLoopBody(IOperation operation)
    {
        var child = operation;
        for (var parent = operation.Parent; parent is not null; child = parent, parent = parent.Parent)
        {
            switch (parent)
            {
                case IAnonymousFunctionOperation or ILocalFunctionOperation:
                    return false;
                case ILoopOperation loop when ReferenceEquals(loop.Body, child):
                    return true;
                case IWhileLoopOperation or IForLoopOperation:
                    return true; // the condition and the increment run once per iteration too
            }
        }

        return false;
    }
}
