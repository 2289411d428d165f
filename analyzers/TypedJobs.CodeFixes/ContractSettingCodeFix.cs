using System.Collections.Immutable;
using System.Composition;
using System.Linq;
using System.Threading.Tasks;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeActions;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using TypedJobs.Analyzers;

namespace TypedJobs.CodeFixes;

/// <summary>
/// TJ1013: removes a contract setting from the <c>[Task]</c> of an implementing method (the contract declares it), and
/// the attribute itself when nothing is left in it.
/// </summary>
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(ContractSettingCodeFix)), Shared]
public sealed class ContractSettingCodeFix : CodeFixProvider
{
    /// <inheritdoc />
    public override ImmutableArray<string> FixableDiagnosticIds { get; } = ["TJ1013"];

    /// <inheritdoc />
    public override FixAllProvider? GetFixAllProvider() => null;

    /// <inheritdoc />
    public override async Task RegisterCodeFixesAsync(CodeFixContext context)
    {
        var diagnostic = context.Diagnostics[0];
        var root = await context.Document.GetSyntaxRootAsync(context.CancellationToken).ConfigureAwait(false);
        if (!diagnostic.Properties.TryGetValue(ContractAnalyzer.SettingProperty, out var setting) || setting is null
            || root?.FindNode(context.Span).FirstAncestorOrSelf<AttributeSyntax>() is not { ArgumentList: { } arguments } attribute
            || arguments.Arguments.FirstOrDefault(a => a.NameEquals?.Name.Identifier.ValueText == setting) is not { } argument)
        {
            return;
        }

        context.RegisterCodeFix(CodeAction.Create(
            "Remove " + setting + " (the contract declares it)",
            _ =>
            {
                SyntaxNode updated;
                if (arguments.Arguments.Count > 1)
                {
                    updated = root.ReplaceNode(arguments, arguments.WithArguments(arguments.Arguments.Remove(argument)));
                }
                else if (attribute.Parent is AttributeListSyntax { Attributes.Count: 1 } list)
                {
                    updated = root.RemoveNode(list, SyntaxRemoveOptions.KeepExteriorTrivia | SyntaxRemoveOptions.KeepLeadingTrivia)!;
                }
                else
                {
                    updated = root.RemoveNode(attribute, SyntaxRemoveOptions.KeepNoTrivia)!;
                }

                return Task.FromResult(context.Document.WithSyntaxRoot(updated));
            },
            "TJ1013.Remove"), diagnostic);
    }
}
