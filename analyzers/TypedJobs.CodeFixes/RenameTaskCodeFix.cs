using System.Collections.Immutable;
using System.Composition;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeActions;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using TypedJobs.Analyzers;
using TypedJobs.Generators.Rules;

namespace TypedJobs.CodeFixes;

/// <summary>
/// TJ1006: gives the task a free name with <c>[Task(Name = "…")]</c>. TJ4001 (a method renamed without a pinned name):
/// pins the name the contract baseline records, so stored jobs still find the task.
/// </summary>
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(RenameTaskCodeFix)), Shared]
public sealed class RenameTaskCodeFix : CodeFixProvider
{
    /// <inheritdoc />
    public override ImmutableArray<string> FixableDiagnosticIds { get; } = ["TJ1006", "TJ4001"];

    /// <inheritdoc />
    public override FixAllProvider? GetFixAllProvider() => null;

    /// <inheritdoc />
    public override async Task RegisterCodeFixesAsync(CodeFixContext context)
    {
        var diagnostic = context.Diagnostics[0];
        if (!diagnostic.Properties.TryGetValue(DuplicateTaskNameAnalyzer.SuggestedNameProperty, out var name) || name is null)
        {
            return;
        }

        var root = await context.Document.GetSyntaxRootAsync(context.CancellationToken).ConfigureAwait(false);
        var model = await context.Document.GetSemanticModelAsync(context.CancellationToken).ConfigureAwait(false);
        if (root?.FindNode(context.Span).FirstAncestorOrSelf<MethodDeclarationSyntax>() is not { } method || model is null
            || FindTaskAttribute(method, model, context.CancellationToken) is not { } attribute)
        {
            return;
        }

        var pin = diagnostic.Id == "TJ4001";
        context.RegisterCodeFix(CodeAction.Create(
            (pin ? "Pin the task name '" : "Name the task '") + name + "'",
            _ => Task.FromResult(context.Document.WithSyntaxRoot(root.ReplaceNode(attribute, WithName(attribute, name)))),
            pin ? "TJ4001.Pin" : "TJ1006.Rename"), diagnostic);
    }

    private static AttributeSyntax? FindTaskAttribute(MethodDeclarationSyntax method, SemanticModel model, CancellationToken cancellationToken) =>
        method.AttributeLists.SelectMany(static l => l.Attributes).FirstOrDefault(a =>
            model.GetSymbolInfo(a, cancellationToken).Symbol?.ContainingType?.ToDisplayString() == TaskRules.TaskAttributeName);

    private static AttributeSyntax WithName(AttributeSyntax attribute, string name)
    {
        var literal = SyntaxFactory.LiteralExpression(SyntaxKind.StringLiteralExpression, SyntaxFactory.Literal(name));
        var arguments = attribute.ArgumentList?.Arguments ?? default;
        var existing = arguments.FirstOrDefault(static a => a.NameEquals?.Name.Identifier.ValueText == "Name");
        if (existing is not null)
        {
            return attribute.ReplaceNode(existing.Expression, literal.WithTriviaFrom(existing.Expression));
        }

        var argument = SyntaxFactory.AttributeArgument(
            SyntaxFactory.NameEquals(SyntaxFactory.IdentifierName("Name"), SyntaxFactory.Token(SyntaxKind.EqualsToken).WithLeadingTrivia(SyntaxFactory.Space).WithTrailingTrivia(SyntaxFactory.Space)),
            null,
            literal);
        var list = attribute.ArgumentList ?? SyntaxFactory.AttributeArgumentList();
        var separators = Enumerable.Repeat(SyntaxFactory.Token(SyntaxKind.CommaToken).WithTrailingTrivia(SyntaxFactory.Space), arguments.Count);
        var updated = SyntaxFactory.SeparatedList(arguments.Insert(0, argument), separators);
        return attribute.WithArgumentList(list.WithArguments(updated));
    }
}
