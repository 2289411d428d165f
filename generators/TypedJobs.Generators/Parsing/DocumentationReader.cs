using System;
using System.Collections.Generic;
using System.Linq;
using System.Text;
using System.Xml.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace TypedJobs.Generators.Parsing;

/// <summary>
/// Reads a method's <c>&lt;summary&gt;</c> and <c>&lt;param&gt;</c> documentation, from the compiler's
/// documentation XML when the project parses doc comments, else from the comment text itself.
/// </summary>
internal sealed class DocumentationReader
{
    private readonly Dictionary<string, string> parameters = new(StringComparer.Ordinal);

    private DocumentationReader(string? summary)
    {
        Summary = summary;
    }

    public string? Summary { get; }

    public string? Parameter(string name) => parameters.TryGetValue(name, out var text) ? text : null;

    public static DocumentationReader Read(IMethodSymbol method, SyntaxNode? syntax)
    {
        var xml = method.GetDocumentationCommentXml(expandIncludes: false);
        var resolved = !string.IsNullOrWhiteSpace(xml);
        if (!resolved && syntax is MethodDeclarationSyntax declaration)
        {
            xml = FromTrivia(declaration);
        }

        if (string.IsNullOrWhiteSpace(xml))
        {
            return new DocumentationReader(null);
        }

        XElement root;
        try
        {
            root = XElement.Parse(resolved ? xml! : "<member>" + xml + "</member>", LoadOptions.PreserveWhitespace);
        }
        catch (System.Xml.XmlException)
        {
            return new DocumentationReader(null);
        }

        if (!resolved)
        {
            // Unresolved crefs could fail to bind where the generated code lives: show them as code instead.
            foreach (var element in root.Descendants().Where(static e => e.Attribute("cref") is not null).ToList())
            {
                element.ReplaceWith(new XElement("c", element.Attribute("cref")!.Value));
            }
        }

        var reader = new DocumentationReader(Inner(root.Element("summary")));
        foreach (var param in root.Elements("param"))
        {
            if (param.Attribute("name")?.Value is { } name)
            {
                reader.parameters[name] = Inner(param) ?? string.Empty;
            }
        }

        return reader;
    }

    private static string? FromTrivia(MethodDeclarationSyntax declaration)
    {
        var builder = new StringBuilder();
        foreach (var trivia in declaration.GetLeadingTrivia())
        {
            if (trivia.IsKind(SyntaxKind.SingleLineDocumentationCommentTrivia) || trivia.IsKind(SyntaxKind.SingleLineCommentTrivia))
            {
                foreach (var line in trivia.ToFullString().Split('\n'))
                {
                    var text = line.Trim();
                    if (text.StartsWith("///", StringComparison.Ordinal))
                    {
                        builder.Append(text.Substring(3)).Append('\n');
                    }
                }
            }
        }

        return builder.Length == 0 ? null : builder.ToString();
    }

    private static string? Inner(XElement? element)
    {
        if (element is null)
        {
            return null;
        }

        var text = string.Concat(element.Nodes().Select(static n => n.ToString(SaveOptions.DisableFormatting)));
        var lines = text.Split('\n').Select(static l => l.Trim()).Where(static l => l.Length > 0);
        var joined = string.Join(" ", lines);
        return joined.Length == 0 ? null : joined;
    }
}
