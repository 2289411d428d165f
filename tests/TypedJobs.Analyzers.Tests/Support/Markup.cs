using System.Text;
using Microsoft.CodeAnalysis.Text;

namespace TypedJobs.Analyzers.Tests.Support;

/// <summary>An expected diagnostic: its ID and the exact source span it covers.</summary>
internal readonly record struct Expected(string Id, TextSpan Span)
{
    public override string ToString() => Id + "@" + Span;
}

/// <summary>
/// Test sources mark expected diagnostics inline as <c>{|TJ1001:text|}</c>: the markers are removed and the text
/// between them is the span the diagnostic must cover. Markers may nest.
/// </summary>
internal static class Markup
{
    public static (string Source, IReadOnlyList<Expected> Expected) Parse(string markup)
    {
        var text = new StringBuilder(markup.Length);
        var open = new Stack<(string Id, int Start)>();
        var expected = new List<Expected>();
        for (var i = 0; i < markup.Length; i++)
        {
            if (markup[i] == '{' && i + 1 < markup.Length && markup[i + 1] == '|')
            {
                var colon = markup.IndexOf(':', i + 2);
                open.Push((markup.Substring(i + 2, colon - i - 2), text.Length));
                i = colon;
            }
            else if (markup[i] == '|' && i + 1 < markup.Length && markup[i + 1] == '}' && open.Count > 0)
            {
                var (id, start) = open.Pop();
                expected.Add(new Expected(id, TextSpan.FromBounds(start, text.Length)));
                i++;
            }
            else
            {
                text.Append(markup[i]);
            }
        }

        Assert.Empty(open);
        return (text.ToString(), expected);
    }
}
