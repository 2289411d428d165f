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
using Microsoft.CodeAnalysis.Rename;
using Microsoft.CodeAnalysis.Simplification;
using TypedJobs.Analyzers;
using TypedJobs.Generators.Parsing;

namespace TypedJobs.CodeFixes;

/// <summary>
/// TJ1012, where the fix is mechanical: renames a parameter to the contract's name (with every use of it), gives the
/// parameters the contract's default values, or gives a method that no longer implements its contract task the
/// contract's parameters and return type (the body may then need changes of its own).
/// </summary>
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(ContractSignatureCodeFix)), Shared]
public sealed class ContractSignatureCodeFix : CodeFixProvider
{
    private static readonly SymbolDisplayFormat TypeFormat = SymbolDisplayFormat.FullyQualifiedFormat
        .AddMiscellaneousOptions(SymbolDisplayMiscellaneousOptions.IncludeNullableReferenceTypeModifier);

    /// <inheritdoc />
    public override ImmutableArray<string> FixableDiagnosticIds { get; } = ["TJ1012"];

    /// <inheritdoc />
    public override FixAllProvider? GetFixAllProvider() => null;

    /// <inheritdoc />
    public override async Task RegisterCodeFixesAsync(CodeFixContext context)
    {
        var diagnostic = context.Diagnostics[0];
        var root = await context.Document.GetSyntaxRootAsync(context.CancellationToken).ConfigureAwait(false);
        var model = await context.Document.GetSemanticModelAsync(context.CancellationToken).ConfigureAwait(false);
        if (root is null || model is null
            || !diagnostic.Properties.TryGetValue(ContractAnalyzer.KindProperty, out var kind)
            || !diagnostic.Properties.TryGetValue(ContractAnalyzer.ContractMethodProperty, out var id) || id is null
            || DocumentationCommentId.GetFirstSymbolForDeclarationId(id, model.Compilation) is not IMethodSymbol contract)
        {
            return;
        }

        var node = root.FindNode(context.Span);
        switch (kind)
        {
            case ContractAnalyzer.NameKind when node.FirstAncestorOrSelf<ParameterSyntax>() is { } parameter
                && model.GetDeclaredSymbol(parameter, context.CancellationToken) is { } symbol
                && diagnostic.Properties.TryGetValue(ContractAnalyzer.ContractNameProperty, out var name) && name is not null:
                context.RegisterCodeFix(CodeAction.Create(
                    "Rename '" + symbol.Name + "' to '" + name + "' as in the contract",
                    ct => Renamer.RenameSymbolAsync(context.Document.Project.Solution, symbol, new SymbolRenameOptions(), name, ct),
                    "TJ1012.Rename"), diagnostic);
                break;
            case ContractAnalyzer.DefaultKind when node.FirstAncestorOrSelf<MethodDeclarationSyntax>() is { } method:
                context.RegisterCodeFix(CodeAction.Create(
                    "Use the contract's default values",
                    ct => Task.FromResult(context.Document.WithSyntaxRoot(root.ReplaceNode(method.ParameterList, WithDefaults(method.ParameterList, contract)))),
                    "TJ1012.Defaults"), diagnostic);
                break;
            case ContractAnalyzer.SignatureKind when node.FirstAncestorOrSelf<MethodDeclarationSyntax>() is { } method:
                context.RegisterCodeFix(CodeAction.Create(
                    "Match the contract's signature",
                    ct => MatchAsync(context.Document, method, contract, ct),
                    "TJ1012.Signature"), diagnostic);
                break;
        }
    }

    private static ParameterListSyntax WithDefaults(ParameterListSyntax list, IMethodSymbol contract)
    {
        var parameters = list.Parameters;
        for (var i = 0; i < parameters.Count && i < contract.Parameters.Length; i++)
        {
            var parameter = parameters[i];
            var expected = Default(contract.Parameters[i]);
            parameters = parameters.Replace(parameter, expected is null
                ? parameter.WithDefault(null).WithIdentifier(parameter.Identifier.WithTrailingTrivia())
                : parameter.WithIdentifier(parameter.Identifier.WithTrailingTrivia(SyntaxFactory.Space)).WithDefault(expected));
        }

        return list.WithParameters(parameters);
    }

    private static EqualsValueClauseSyntax? Default(IParameterSymbol parameter) =>
        parameter.HasExplicitDefaultValue
            ? SyntaxFactory.EqualsValueClause(SyntaxFactory.Token(SyntaxKind.EqualsToken).WithTrailingTrivia(SyntaxFactory.Space),
                SyntaxFactory.ParseExpression(ConstantFormatter.Format(parameter.Type, parameter.ExplicitDefaultValue)).WithAdditionalAnnotations(Simplifier.Annotation))
            : null;

    private static async Task<Document> MatchAsync(Document document, MethodDeclarationSyntax method, IMethodSymbol contract, CancellationToken cancellationToken)
    {
        var editor = await DocumentEditor.CreateAsync(document, cancellationToken).ConfigureAwait(false);
        var generator = editor.Generator;
        var parameters = contract.Parameters.Select(p =>
        {
            var parameter = SyntaxFactory.Parameter(SyntaxFactory.Identifier(p.Name))
                .WithType(SyntaxFactory.ParseTypeName(p.Type.ToDisplayString(TypeFormat)).WithAdditionalAnnotations(Simplifier.Annotation).WithTrailingTrivia(SyntaxFactory.Space))
                .WithDefault(Default(p));
            var attributes = p.GetAttributes().Where(static a => a.AttributeClass?.Name is "FromServicesAttribute" or "FromKeyedServicesAttribute")
                .Select(a => (AttributeListSyntax)generator.Attribute(a)).ToList();
            if (attributes.Count > 0)
            {
                parameter = parameter.WithAttributeLists(SyntaxFactory.List(attributes.Select(static l => l.WithAdditionalAnnotations(Simplifier.Annotation).WithTrailingTrivia(SyntaxFactory.Space))));
            }

            return parameter;
        });
        var returnType = SyntaxFactory.ParseTypeName(contract.ReturnType.ToDisplayString(TypeFormat)).WithAdditionalAnnotations(Simplifier.Annotation);
        editor.ReplaceNode(method, method
            .WithParameterList(method.ParameterList.WithParameters(SyntaxFactory.SeparatedList(parameters)))
            .WithReturnType(returnType.WithTriviaFrom(method.ReturnType)));
        return editor.GetChangedDocument();
    }
}
