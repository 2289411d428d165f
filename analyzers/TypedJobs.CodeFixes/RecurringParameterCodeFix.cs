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

namespace TypedJobs.CodeFixes;

/// <summary>
/// TJ1008: gives a recurring task's parameter a default value (and every later parameter without one, as C# requires),
/// or removes the parameter when the body does not use it.
/// </summary>
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(RecurringParameterCodeFix)), Shared]
public sealed class RecurringParameterCodeFix : CodeFixProvider
{
    /// <inheritdoc />
    public override ImmutableArray<string> FixableDiagnosticIds { get; } = ["TJ1008"];

    /// <inheritdoc />
    public override FixAllProvider? GetFixAllProvider() => null;

    /// <inheritdoc />
    public override async Task RegisterCodeFixesAsync(CodeFixContext context)
    {
        var root = await context.Document.GetSyntaxRootAsync(context.CancellationToken).ConfigureAwait(false);
        var model = await context.Document.GetSemanticModelAsync(context.CancellationToken).ConfigureAwait(false);
        if (root?.FindNode(context.Span).FirstAncestorOrSelf<ParameterSyntax>() is not { } parameter
            || parameter.Parent is not ParameterListSyntax { Parent: MethodDeclarationSyntax method } || model is null)
        {
            return;
        }

        var diagnostic = context.Diagnostics[0];
        var name = parameter.Identifier.ValueText;
        var index = method.ParameterList.Parameters.IndexOf(parameter);
        var later = method.ParameterList.Parameters.Skip(index).Where(static p => p.Default is null).ToList();
        if (!later.Any(static p => p.AttributeLists.SelectMany(static l => l.Attributes).Any(static a => a.Name.ToString().Contains("FromServices"))))
        {
            context.RegisterCodeFix(CodeAction.Create(
                later.Count == 1 ? "Give '" + name + "' a default value" : "Give '" + name + "' and the parameters after it default values",
                ct => Task.FromResult(context.Document.WithSyntaxRoot(root.ReplaceNode(method.ParameterList, AddDefaults(method.ParameterList, index, model, ct)))),
                "TJ1008.AddDefault"), diagnostic);
        }

        var symbol = model.GetDeclaredSymbol(parameter, context.CancellationToken);
        var body = (SyntaxNode?)method.Body ?? method.ExpressionBody;
        var used = body is not null && body.DescendantNodes().OfType<IdentifierNameSyntax>()
            .Any(n => n.Identifier.ValueText == name && SymbolEqualityComparer.Default.Equals(model.GetSymbolInfo(n, context.CancellationToken).Symbol, symbol));
        if (!used)
        {
            context.RegisterCodeFix(CodeAction.Create(
                "Remove parameter '" + name + "'",
                ct => Task.FromResult(context.Document.WithSyntaxRoot(root.ReplaceNode(method.ParameterList,
                    method.ParameterList.WithParameters(method.ParameterList.Parameters.RemoveAt(index))))),
                "TJ1008.Remove"), diagnostic);
        }
    }

    private static ParameterListSyntax AddDefaults(ParameterListSyntax list, int from, SemanticModel model, CancellationToken cancellationToken)
    {
        var original = list.Parameters;
        var parameters = original;
        for (var i = from; i < original.Count; i++)
        {
            var parameter = original[i];
            if (parameter.Default is not null || parameter.Type is null || model.GetDeclaredSymbol(parameter, cancellationToken) is not { } symbol)
            {
                continue;
            }

            var type = parameter.Type;
            ExpressionSyntax value;
            if (symbol.Type.IsReferenceType)
            {
                var annotations = model.GetNullableContext(parameter.SpanStart).AnnotationsEnabled();
                if (annotations && type is not NullableTypeSyntax)
                {
                    type = SyntaxFactory.NullableType(type.WithoutTrivia()).WithTriviaFrom(type);
                }

                value = SyntaxFactory.LiteralExpression(SyntaxKind.NullLiteralExpression);
            }
            else
            {
                value = SyntaxFactory.LiteralExpression(SyntaxKind.DefaultLiteralExpression, SyntaxFactory.Token(SyntaxKind.DefaultKeyword));
            }

            parameters = parameters.Replace(parameters[i], parameter
                .WithType(type)
                .WithIdentifier(parameter.Identifier.WithTrailingTrivia(SyntaxFactory.Space))
                .WithDefault(SyntaxFactory.EqualsValueClause(SyntaxFactory.Token(SyntaxKind.EqualsToken).WithTrailingTrivia(SyntaxFactory.Space), value)));
        }

        return list.WithParameters(parameters);
    }
}
