using System.Text;

namespace TypedJobs.Generators.Emit;

/// <summary>A string builder that keeps track of indentation and braces.</summary>
internal sealed class CodeWriter
{
    private readonly StringBuilder builder = new();
    private int indent;
    private bool afterOpen;

    /// <summary>Writes a line; a blank line right after an opening brace is dropped.</summary>
    public CodeWriter Line(string text = "")
    {
        if (text.Length == 0 && afterOpen)
        {
            return this;
        }

        if (text.Length > 0)
        {
            builder.Append(' ', indent * 4);
        }

        builder.Append(text).Append('\n');
        afterOpen = text == "{";
        return this;
    }

    public CodeWriter Open(string text)
    {
        Line(text);
        Line("{");
        indent++;
        return this;
    }

    public CodeWriter Close(string suffix = "")
    {
        indent--;
        return Line("}" + suffix);
    }

    public override string ToString() => builder.ToString();
}
