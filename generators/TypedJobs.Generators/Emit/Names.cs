using System.Collections.Generic;
using System.Text;
using Microsoft.CodeAnalysis.CSharp;

namespace TypedJobs.Generators.Emit;

/// <summary>Identifier helpers for generated code.</summary>
internal static class Names
{
    /// <summary>An identifier safe in any position: keywords get an <c>@</c>.</summary>
    public static string Escape(string name) =>
        SyntaxFacts.GetKeywordKind(name) != SyntaxKind.None || SyntaxFacts.GetContextualKeywordKind(name) != SyntaxKind.None
            ? "@" + name
            : name;

    /// <summary>Letters, digits and underscores only.</summary>
    public static string Sanitize(string text)
    {
        var builder = new StringBuilder(text.Length);
        foreach (var c in text)
        {
            builder.Append(char.IsLetterOrDigit(c) ? c : '_');
        }

        if (builder.Length == 0 || char.IsDigit(builder[0]))
        {
            builder.Insert(0, '_');
        }

        return builder.ToString();
    }

    /// <summary><paramref name="preferred"/>, or a variant of it not in <paramref name="taken"/>.</summary>
    public static string Unique(string preferred, ICollection<string> taken)
    {
        var name = preferred;
        var i = 1;
        while (taken.Contains(name))
        {
            name = preferred + i++;
        }

        return name;
    }

    /// <summary>Removes a trailing <c>?</c> (a reference type's nullable annotation).</summary>
    public static string WithoutAnnotation(string type) => type.EndsWith("?") ? type.Substring(0, type.Length - 1) : type;

    /// <summary>A C# string literal for <paramref name="text"/>.</summary>
    public static string Literal(string text) => SymbolDisplay.FormatLiteral(text, quote: true);

    /// <summary>A UTF-8 string literal for <paramref name="text"/>.</summary>
    public static string Utf8Literal(string text) => Literal(text) + "u8";

    /// <summary>Text safe inside an XML doc comment.</summary>
    public static string Xml(string text) => text.Replace("&", "&amp;").Replace("<", "&lt;").Replace(">", "&gt;");
}
