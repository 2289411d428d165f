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
using Microsoft.CodeAnalysis.Formatting;
using Microsoft.CodeAnalysis.Simplification;
using TypedJobs.Analyzers;
using TypedJobs.Generators.Parsing;

namespace TypedJobs.CodeFixes;

/// <summary>
/// TJ1007: adds <c>[JsonSerializable(typeof(T))]</c> to a <c>JsonSerializerContext</c> of the project, or creates
/// <c>TypedJobsJsonContext</c> when the project has none.
/// </summary>
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(AddJsonSerializableCodeFix)), Shared]
public sealed class AddJsonSerializableCodeFix : CodeFixProvider
{
    private const string NewContextName = "TypedJobsJsonContext";

    /// <inheritdoc />
    public override ImmutableArray<string> FixableDiagnosticIds { get; } = ["TJ1007"];

    /// <inheritdoc />
    public override FixAllProvider? GetFixAllProvider() => null;

    /// <inheritdoc />
    public override async Task RegisterCodeFixesAsync(CodeFixContext context)
    {
        var diagnostic = context.Diagnostics[0];
        if (!diagnostic.Properties.TryGetValue(TaskAnalyzer.TypeNameProperty, out var typeName) || typeName is null)
        {
            return;
        }

        var compilation = await context.Document.Project.GetCompilationAsync(context.CancellationToken).ConfigureAwait(false);
        if (compilation is null)
        {
            return;
        }

        var display = typeName.Replace("global::", string.Empty);
        var existing = FindContext(compilation, context.CancellationToken);
        if (existing is not null)
        {
            context.RegisterCodeFix(CodeAction.Create(
                "Add [JsonSerializable(typeof(" + display + "))] to " + existing.Name,
                ct => AddToContextAsync(context.Document.Project.Solution, existing, typeName, ct),
                "TJ1007.AddToContext"), diagnostic);
        }
        else
        {
            context.RegisterCodeFix(CodeAction.Create(
                "Create " + NewContextName + " with [JsonSerializable(typeof(" + display + "))]",
                ct => CreateContextAsync(context.Document, diagnostic, typeName, ct),
                "TJ1007.CreateContext"), diagnostic);
        }
    }

    private static INamedTypeSymbol? FindContext(Compilation compilation, CancellationToken cancellationToken) =>
        SerializerCheck.FindContexts(compilation, cancellationToken).Values
            .Distinct()
            .OrderBy(static n => n, System.StringComparer.Ordinal)
            .Select(name => compilation.GetTypeByMetadataName(name.Replace("global::", string.Empty)))
            .FirstOrDefault(static t => t is not null && t.DeclaringSyntaxReferences.Length > 0)
        ?? AllSourceContexts(compilation.Assembly.GlobalNamespace).FirstOrDefault();

    private static System.Collections.Generic.IEnumerable<INamedTypeSymbol> AllSourceContexts(INamespaceOrTypeSymbol container)
    {
        foreach (var member in container.GetMembers())
        {
            if (member is INamespaceOrTypeSymbol inner)
            {
                if (inner is INamedTypeSymbol { TypeKind: TypeKind.Class } type && JsonContextParser.IsContext(type) && type.DeclaringSyntaxReferences.Length > 0)
                {
                    yield return type;
                }

                foreach (var nested in AllSourceContexts(inner))
                {
                    yield return nested;
                }
            }
        }
    }

    private static AttributeListSyntax Attribute(string typeName)
    {
        var type = SyntaxFactory.ParseTypeName(typeName).WithAdditionalAnnotations(Simplifier.Annotation);
        var argument = SyntaxFactory.AttributeArgument(SyntaxFactory.TypeOfExpression(type));
        var attribute = SyntaxFactory.Attribute(
            SyntaxFactory.ParseName("global::System.Text.Json.Serialization.JsonSerializable").WithAdditionalAnnotations(Simplifier.Annotation),
            SyntaxFactory.AttributeArgumentList(SyntaxFactory.SingletonSeparatedList(argument)));
        return SyntaxFactory.AttributeList(SyntaxFactory.SingletonSeparatedList(attribute)).WithAdditionalAnnotations(Formatter.Annotation);
    }

    private static async Task<Solution> AddToContextAsync(Solution solution, INamedTypeSymbol contextType, string typeName, CancellationToken cancellationToken)
    {
        var reference = contextType.DeclaringSyntaxReferences[0];
        var declaration = (TypeDeclarationSyntax)await reference.GetSyntaxAsync(cancellationToken).ConfigureAwait(false);
        var document = solution.GetDocument(reference.SyntaxTree);
        if (document is null)
        {
            return solution;
        }

        var root = await document.GetSyntaxRootAsync(cancellationToken).ConfigureAwait(false);
        var lists = declaration.AttributeLists;
        var index = lists.Count;
        for (var i = 0; i < lists.Count; i++)
        {
            if (lists[i].Attributes.Any(static a => a.Name.ToString().Contains("JsonSerializable")))
            {
                index = i + 1;
            }
        }

        var updated = declaration.WithAttributeLists(lists.Insert(index, Attribute(typeName)));
        return solution.WithDocumentSyntaxRoot(document.Id, root!.ReplaceNode(declaration, updated));
    }

    private static async Task<Solution> CreateContextAsync(Document document, Diagnostic diagnostic, string typeName, CancellationToken cancellationToken)
    {
        var root = await document.GetSyntaxRootAsync(cancellationToken).ConfigureAwait(false);
        var ns = root?.FindNode(diagnostic.Location.SourceSpan).AncestorsAndSelf().OfType<BaseNamespaceDeclarationSyntax>().FirstOrDefault()?.Name.ToString();
        var indent = ns is null ? string.Empty : "    ";
        var source = "using System.Text.Json.Serialization;\n\n"
            + (ns is null ? string.Empty : "namespace " + ns + "\n{\n")
            + indent + "/// <summary>The System.Text.Json context for task payload types without a built-in TypedJobs serializer.</summary>\n"
            + indent + "[JsonSerializable(typeof(" + typeName + "))]\n"
            + indent + "internal sealed partial class " + NewContextName + " : JsonSerializerContext\n"
            + indent + "{\n"
            + indent + "}\n"
            + (ns is null ? string.Empty : "}\n");
        var tree = CSharpSyntaxTree.ParseText(source, (CSharpParseOptions?)document.Project.ParseOptions, cancellationToken: cancellationToken);
        var newRoot = await tree.GetRootAsync(cancellationToken).ConfigureAwait(false);
        var typeOf = newRoot.DescendantNodes().OfType<TypeOfExpressionSyntax>().First();
        newRoot = newRoot.ReplaceNode(typeOf.Type, typeOf.Type.WithAdditionalAnnotations(Simplifier.Annotation));
        var added = document.Project.AddDocument(NewContextName + ".cs", newRoot, document.Folders);
        added = await Simplifier.ReduceAsync(added, Simplifier.Annotation, cancellationToken: cancellationToken).ConfigureAwait(false);
        return added.Project.Solution;
    }
}
