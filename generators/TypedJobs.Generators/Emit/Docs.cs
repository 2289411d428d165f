using System.Collections.Generic;
using System.Text.RegularExpressions;

namespace TypedJobs.Generators.Emit;

/// <summary>Adapts documentation copied from a task method to the generated member it documents.</summary>
internal static class Docs
{
    private static readonly Regex ParamRef = new("<paramref\\s+name\\s*=\\s*\"([^\"]*)\"\\s*/>", RegexOptions.CultureInvariant);

    /// <summary>
    /// <paramref name="text"/> with every <c>&lt;paramref&gt;</c> to a name that is not a parameter of the generated
    /// member (a service, a token, or any parameter in a batch stub) turned into <c>&lt;c&gt;name&lt;/c&gt;</c>, so
    /// the copied documentation never refers to a parameter that is not there (CS1734).
    /// </summary>
    public static string? ForParameters(string? text, ICollection<string> parameters) =>
        text is null
            ? null
            : ParamRef.Replace(text, match => parameters.Contains(match.Groups[1].Value) ? match.Value : "<c>" + match.Groups[1].Value + "</c>");
}
