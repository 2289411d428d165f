using System.Collections.Generic;
using System.Collections.Immutable;
using System.Composition;
using System.Linq;
using System.Text.RegularExpressions;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeActions;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Editing;
using Microsoft.CodeAnalysis.FindSymbols;
using Microsoft.CodeAnalysis.Operations;
using TypedJobs.Generators.Rules;

namespace TypedJobs.CodeFixes;

/// <summary>
/// TJ1008: gives a recurring task's parameter a default value (and every later parameter without one, as C# requires;
/// a <c>params</c> parameter needs none), or removes the parameter when the body does not use it, together with its
/// <c>&lt;param&gt;</c> documentation and the matching argument at every call of the method and of its generated
/// enqueue stub. Removal is not offered when a batch stub of the task is called (its tuples cannot be rewritten).
/// </summary>
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(RecurringParameterCodeFix)), Shared]
public sealed class RecurringParameterCodeFix : CodeFixProvider
{
    private const string GeneratorName = "TypedJobs.Generators";

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
            || parameter.Parent is not ParameterListSyntax { Parent: MethodDeclarationSyntax method } || model is null
            || model.GetDeclaredSymbol(parameter, context.CancellationToken) is not { } symbol
            || model.GetDeclaredSymbol(method, context.CancellationToken) is not { } methodSymbol)
        {
            return;
        }

        var diagnostic = context.Diagnostics[0];
        var name = parameter.Identifier.ValueText;
        var index = method.ParameterList.Parameters.IndexOf(parameter);
        var later = method.ParameterList.Parameters.Skip(index).Where(static p => p.Default is null && !IsParams(p)).ToList();
        if (!later.Any(static p => p.AttributeLists.SelectMany(static l => l.Attributes).Any(static a => a.Name.ToString().Contains("FromServices") || a.Name.ToString().Contains("FromKeyedServices"))))
        {
            context.RegisterCodeFix(CodeAction.Create(
                later.Count == 1 ? "Give '" + name + "' a default value" : "Give '" + name + "' and the parameters after it default values",
                ct => Task.FromResult(context.Document.WithSyntaxRoot(root.ReplaceNode(method.ParameterList, AddDefaults(method.ParameterList, index, model, ct)))),
                "TJ1008.AddDefault"), diagnostic);
        }

        var body = (SyntaxNode?)method.Body ?? method.ExpressionBody;
        var used = body is not null && body.DescendantNodes().OfType<IdentifierNameSyntax>()
            .Any(n => n.Identifier.ValueText == name && SymbolEqualityComparer.Default.Equals(model.GetSymbolInfo(n, context.CancellationToken).Symbol, symbol));
        if (used)
        {
            return;
        }

        var solution = context.Document.Project.Solution;
        var stubs = await FindStubsAsync(context.Document.Project, methodSymbol, context.CancellationToken).ConfigureAwait(false);
        foreach (var batch in stubs.Where(static s => s.Name.EndsWith("BatchAsync", System.StringComparison.Ordinal)))
        {
            if ((await SymbolFinder.FindReferencesAsync(batch, solution, context.CancellationToken).ConfigureAwait(false)).Any(static r => r.Locations.Any()))
            {
                return;
            }
        }

        context.RegisterCodeFix(CodeAction.Create(
            "Remove parameter '" + name + "'",
            ct => RemoveAsync(context.Document, method, symbol, methodSymbol, stubs, ct),
            "TJ1008.Remove"), diagnostic);
    }

    private static bool IsParams(ParameterSyntax parameter) => parameter.Modifiers.Any(SyntaxKind.ParamsKeyword);

    private static ParameterListSyntax AddDefaults(ParameterListSyntax list, int from, SemanticModel model, CancellationToken cancellationToken)
    {
        var original = list.Parameters;
        var parameters = original;
        for (var i = from; i < original.Count; i++)
        {
            var parameter = original[i];
            if (parameter.Default is not null || IsParams(parameter) || parameter.Type is null || model.GetDeclaredSymbol(parameter, cancellationToken) is not { } symbol)
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

    /// <summary>
    /// The generated enqueue stubs of the task: in the TypedJobs-generated classes of the method's namespace,
    /// <c>Enqueue{Method}[N]Async</c> methods whose payload parameters are the task's (by name, in order), and
    /// <c>Enqueue{Method}[N]BatchAsync</c> methods whose items are the task's payload types.
    /// </summary>
    private static async Task<List<IMethodSymbol>> FindStubsAsync(Project project, IMethodSymbol method, CancellationToken cancellationToken)
    {
        var stubs = new List<IMethodSymbol>();
        var compilation = await project.GetCompilationAsync(cancellationToken).ConfigureAwait(false);
        if (compilation is null)
        {
            return stubs;
        }

        var payload = method.Parameters.Where(TaskRules.IsPayload).ToList();
        var baseName = method.Name.EndsWith("Async", System.StringComparison.Ordinal) && method.Name.Length > 5 ? method.Name.Substring(0, method.Name.Length - 5) : method.Name;
        var pattern = new Regex("^Enqueue" + Regex.Escape(baseName) + "[0-9]*(Batch)?Async$");
        foreach (var type in method.ContainingType.ContainingNamespace.GetTypeMembers())
        {
            if (!type.GetAttributes().Any(static a => a.AttributeClass?.Name == "GeneratedCodeAttribute" && a.ConstructorArguments.Length > 0 && a.ConstructorArguments[0].Value is GeneratorName))
            {
                continue;
            }

            foreach (var member in type.GetMembers().OfType<IMethodSymbol>())
            {
                if (!member.IsExtensionMethod || !pattern.IsMatch(member.Name) || member.Parameters.Length < 2)
                {
                    continue;
                }

                var matches = member.Name.EndsWith("BatchAsync", System.StringComparison.Ordinal)
                    ? IsBatchOf(member.Parameters[1].Type, payload)
                    : member.Parameters.Length == payload.Count + 3
                        && payload.Select(static p => p.Name).SequenceEqual(member.Parameters.Skip(1).Take(payload.Count).Select(static p => p.Name));
                if (matches)
                {
                    stubs.Add(member);
                }
            }
        }

        return stubs;
    }

    private static bool IsBatchOf(ITypeSymbol items, List<IParameterSymbol> payload)
    {
        static bool Same(ITypeSymbol a, ITypeSymbol b) => SymbolEqualityComparer.Default.Equals(
            a.WithNullableAnnotation(NullableAnnotation.None), b.WithNullableAnnotation(NullableAnnotation.None));

        if (payload.Count == 0)
        {
            return items.SpecialType == SpecialType.System_Int32;
        }

        if (items is not INamedTypeSymbol { TypeArguments.Length: 1 } enumerable || enumerable.Name != "IEnumerable")
        {
            return false;
        }

        var item = enumerable.TypeArguments[0];
        return payload.Count == 1
            ? Same(item, payload[0].Type)
            : item is INamedTypeSymbol { IsTupleType: true } tuple && tuple.TupleElements.Length == payload.Count
                && tuple.TupleElements.Select(static e => e.Type).Zip(payload, static (t, p) => (t, p.Type)).All(x => Same(x.t, x.Item2));
    }

    private static async Task<Solution> RemoveAsync(Document document, MethodDeclarationSyntax method, IParameterSymbol parameter, IMethodSymbol methodSymbol,
        List<IMethodSymbol> stubs, CancellationToken cancellationToken)
    {
        var solution = document.Project.Solution;
        var editor = new SolutionEditor(solution);

        // Arguments at the calls of the method, and of the single-job stubs (whose parameter has the same name).
        var targets = new List<(ISymbol Method, string Parameter)> { (methodSymbol, parameter.Name) };
        targets.AddRange(stubs.Where(static s => !s.Name.EndsWith("BatchAsync", System.StringComparison.Ordinal)).Select(s => ((ISymbol)s, parameter.Name)));
        foreach (var (target, parameterName) in targets)
        {
            foreach (var reference in await SymbolFinder.FindReferencesAsync(target, solution, cancellationToken).ConfigureAwait(false))
            {
                foreach (var location in reference.Locations)
                {
                    if (solution.GetDocument(location.Document.Id) is null)
                    {
                        continue; // generated code follows the declaration by itself
                    }

                    var root = await location.Document.GetSyntaxRootAsync(cancellationToken).ConfigureAwait(false);
                    var model = await location.Document.GetSemanticModelAsync(cancellationToken).ConfigureAwait(false);
                    if (root?.FindNode(location.Location.SourceSpan).FirstAncestorOrSelf<InvocationExpressionSyntax>() is not { } invocation
                        || model?.GetOperation(invocation, cancellationToken) is not IInvocationOperation operation)
                    {
                        continue;
                    }

                    var argument = operation.Arguments.FirstOrDefault(a => !a.IsImplicit && a.Parameter?.Name == parameterName)?.Syntax;
                    if (argument is ArgumentSyntax)
                    {
                        var documentEditor = await editor.GetDocumentEditorAsync(location.Document.Id, cancellationToken).ConfigureAwait(false);
                        documentEditor.RemoveNode(argument);
                    }
                }
            }
        }

        var methodEditor = await editor.GetDocumentEditorAsync(document.Id, cancellationToken).ConfigureAwait(false);
        methodEditor.ReplaceNode(method, (current, _) =>
        {
            var declaration = (MethodDeclarationSyntax)current;
            var list = declaration.ParameterList;
            var index = list.Parameters.IndexOf(p => p.Identifier.ValueText == parameter.Name);
            declaration = declaration.WithParameterList(list.WithParameters(list.Parameters.RemoveAt(index)));
            return declaration.WithLeadingTrivia(WithoutParamDoc(declaration.GetLeadingTrivia(), parameter.Name));
        });
        return editor.GetChangedSolution();
    }

    /// <summary>The leading trivia without the <c>&lt;param name="…"&gt;</c> documentation of <paramref name="name"/> (one or more <c>///</c> lines).</summary>
    private static SyntaxTriviaList WithoutParamDoc(SyntaxTriviaList trivia, string name)
    {
        var text = trivia.ToFullString();
        var pattern = "^[ \\t]*///[ \\t]*<param\\s+name\\s*=\\s*\"" + Regex.Escape(name) + "\"\\s*(/>|>.*?</param>)[^\\n]*\\n";
        var updated = Regex.Replace(text, pattern, string.Empty, RegexOptions.Multiline | RegexOptions.Singleline);
        return updated == text ? trivia : SyntaxFactory.ParseLeadingTrivia(updated);
    }
}
