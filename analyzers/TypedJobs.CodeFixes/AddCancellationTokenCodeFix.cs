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
using Microsoft.CodeAnalysis.Editing;
using Microsoft.CodeAnalysis.Simplification;
using TypedJobs.Analyzers;

namespace TypedJobs.CodeFixes;

/// <summary>
/// TJ1010: adds a <c>CancellationToken cancellationToken</c> parameter to the task and passes it to every call in the
/// body that accepts a token.
/// </summary>
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(AddCancellationTokenCodeFix)), Shared]
public sealed class AddCancellationTokenCodeFix : CodeFixProvider
{
    /// <inheritdoc />
    public override ImmutableArray<string> FixableDiagnosticIds { get; } = ["TJ1010"];

    /// <inheritdoc />
    public override FixAllProvider GetFixAllProvider() => WellKnownFixAllProviders.BatchFixer;

    /// <inheritdoc />
    public override async Task RegisterCodeFixesAsync(CodeFixContext context)
    {
        var root = await context.Document.GetSyntaxRootAsync(context.CancellationToken).ConfigureAwait(false);
        if (root?.FindNode(context.Span).FirstAncestorOrSelf<MethodDeclarationSyntax>() is not { } method)
        {
            return;
        }

        context.RegisterCodeFix(CodeAction.Create(
            "Add a CancellationToken parameter and pass it on",
            ct => FixAsync(context.Document, method, ct),
            "TJ1010.AddCancellationToken"), context.Diagnostics[0]);
    }

    private static async Task<Document> FixAsync(Document document, MethodDeclarationSyntax method, CancellationToken cancellationToken)
    {
        var model = await document.GetSemanticModelAsync(cancellationToken).ConfigureAwait(false);
        if (model is null)
        {
            return document;
        }

        var names = method.ParameterList.Parameters.Select(static p => p.Identifier.ValueText).ToImmutableHashSet();
        var name = "cancellationToken";
        for (var i = 1; names.Contains(name); i++)
        {
            name = "cancellationToken" + i.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        var blocks = new[] { (SyntaxNode?)method.Body, method.ExpressionBody }
            .Where(static n => n is not null)
            .Select(n => model.GetOperation(n!, cancellationToken))
            .Where(static o => o is not null)
            .Select(static o => o!);
        var calls = CancellableCalls.Find(blocks);

        var editor = await DocumentEditor.CreateAsync(document, cancellationToken).ConfigureAwait(false);
        foreach (var call in calls)
        {
            if (call.Invocation.Syntax is not InvocationExpressionSyntax invocation)
            {
                continue;
            }

            // Positional when the token goes right after the arguments written so far, else named.
            var written = invocation.ArgumentList.Arguments;
            var ordinal = call.ViaOverload
                ? written.Count
                : call.Invocation.TargetMethod.Parameters.First(p => p.Name == call.ParameterName).Ordinal;
            var positional = ordinal == written.Count && written.All(static a => a.NameColon is null);
            editor.ReplaceNode(invocation.ArgumentList, (current, _) =>
            {
                var list = (ArgumentListSyntax)current;
                var argument = SyntaxFactory.Argument(SyntaxFactory.IdentifierName(name));
                if (!positional)
                {
                    argument = argument.WithNameColon(SyntaxFactory.NameColon(SyntaxFactory.IdentifierName(call.ParameterName)));
                }

                return list.AddArguments(argument);
            });
        }

        var parameters = method.ParameterList.Parameters;
        var index = parameters.Count > 0 && parameters.Last().Modifiers.Any(SyntaxKind.ParamsKeyword) ? parameters.Count - 1 : parameters.Count;
        var parameter = SyntaxFactory.Parameter(SyntaxFactory.Identifier(name))
            .WithType(SyntaxFactory.ParseTypeName("global::System.Threading.CancellationToken").WithAdditionalAnnotations(Simplifier.Annotation, Simplifier.AddImportsAnnotation));
        if (parameters.Take(index).Any(static p => p.Default is not null))
        {
            // After an optional parameter the token must be optional too.
            parameter = parameter.WithDefault(SyntaxFactory.EqualsValueClause(
                SyntaxFactory.LiteralExpression(SyntaxKind.DefaultLiteralExpression, SyntaxFactory.Token(SyntaxKind.DefaultKeyword))));
        }

        editor.ReplaceNode(method.ParameterList, (current, _) =>
        {
            var list = (ParameterListSyntax)current;
            return list.WithParameters(list.Parameters.Insert(index, parameter));
        });

        var changed = await ImportAdder.AddImportsAsync(editor.GetChangedDocument(), Simplifier.AddImportsAnnotation, cancellationToken: cancellationToken).ConfigureAwait(false);
        return await Simplifier.ReduceAsync(changed, Simplifier.Annotation, cancellationToken: cancellationToken).ConfigureAwait(false);
    }
}
