using System.Collections.Immutable;
using System.Composition;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeActions;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Editing;
using TypedJobs.Generators.Rules;

namespace TypedJobs.CodeFixes;

/// <summary>TJ1004: makes the task method, and every containing type generated code cannot reach, internal.</summary>
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(MakeTaskAccessibleCodeFix)), Shared]
public sealed class MakeTaskAccessibleCodeFix : CodeFixProvider
{
    /// <inheritdoc />
    public override ImmutableArray<string> FixableDiagnosticIds { get; } = ["TJ1004"];

    /// <inheritdoc />
    public override FixAllProvider? GetFixAllProvider() => null;

    /// <inheritdoc />
    public override async Task RegisterCodeFixesAsync(CodeFixContext context)
    {
        var root = await context.Document.GetSyntaxRootAsync(context.CancellationToken).ConfigureAwait(false);
        var model = await context.Document.GetSemanticModelAsync(context.CancellationToken).ConfigureAwait(false);
        if (root?.FindNode(context.Span).FirstAncestorOrSelf<MethodDeclarationSyntax>() is not { } declaration
            || model?.GetDeclaredSymbol(declaration, context.CancellationToken) is not IMethodSymbol method)
        {
            return;
        }

        context.RegisterCodeFix(CodeAction.Create(
            "Make '" + method.Name + "' and its containing types accessible (internal)",
            ct => FixAsync(context.Document.Project.Solution, method, ct),
            "TJ1004.MakeInternal"), context.Diagnostics[0]);
    }

    private static async Task<Solution> FixAsync(Solution solution, IMethodSymbol method, CancellationToken cancellationToken)
    {
        var editor = new SolutionEditor(solution);
        for (ISymbol? current = method; current is not null and not INamespaceSymbol; current = current.ContainingSymbol)
        {
            if (current.DeclaredAccessibility is Accessibility.Public or Accessibility.Internal or Accessibility.ProtectedOrInternal)
            {
                continue;
            }

            foreach (var reference in current.DeclaringSyntaxReferences)
            {
                var node = await reference.GetSyntaxAsync(cancellationToken).ConfigureAwait(false);
                if (solution.GetDocument(reference.SyntaxTree) is not { } document)
                {
                    continue;
                }

                var documentEditor = await editor.GetDocumentEditorAsync(document.Id, cancellationToken).ConfigureAwait(false);
                documentEditor.SetAccessibility(node, Accessibility.Internal);
            }
        }

        return editor.GetChangedSolution();
    }
}
