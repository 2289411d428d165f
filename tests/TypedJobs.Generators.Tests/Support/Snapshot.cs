using System.Runtime.CompilerServices;
using System.Text;
using System.Text.RegularExpressions;

namespace TypedJobs.Generators.Tests.Support;

/// <summary>
/// Compares text with a committed <c>Snapshots/{name}.verified.cs</c>. A mismatch writes <c>{name}.received.cs</c>
/// next to it and fails with a diff; <c>TYPEDJOBS_ACCEPT_SNAPSHOTS=1</c> accepts the new text instead.
/// </summary>
internal static partial class Snapshot
{
    public static void Verify(string actual, string name, [CallerFilePath] string callerFile = "")
    {
        var directory = Path.Combine(Path.GetDirectoryName(callerFile)!, "Snapshots");
        var verified = Path.Combine(directory, name + ".verified.cs");
        var received = Path.Combine(directory, name + ".received.cs");
        actual = Scrub(actual);

        if (Environment.GetEnvironmentVariable("TYPEDJOBS_ACCEPT_SNAPSHOTS") == "1")
        {
            Directory.CreateDirectory(directory);
            File.WriteAllText(verified, actual);
            File.Delete(received);
            return;
        }

        var expected = File.Exists(verified) ? File.ReadAllText(verified).Replace("\r\n", "\n") : null;
        if (expected == actual)
        {
            File.Delete(received);
            return;
        }

        Directory.CreateDirectory(directory);
        File.WriteAllText(received, actual);
        Assert.Fail(expected is null
            ? $"No snapshot {verified}. The output was written to {received}; review it and rename it, or run with TYPEDJOBS_ACCEPT_SNAPSHOTS=1."
            : $"Snapshot {name} differs (received written to {received}; TYPEDJOBS_ACCEPT_SNAPSHOTS=1 accepts):\n{Diff(expected, actual)}");
    }

    public static string Scrub(string text) =>
        VersionPattern().Replace(text.Replace("\r\n", "\n"), "GeneratedCode(\"TypedJobs.Generators\", \"{version}\")");

    /// <summary>A line diff (longest common subsequence), with <c>-</c> for expected and <c>+</c> for actual lines.</summary>
    public static string Diff(string expected, string actual)
    {
        var a = expected.Split('\n');
        var b = actual.Split('\n');
        var lcs = new int[a.Length + 1, b.Length + 1];
        for (var i = a.Length - 1; i >= 0; i--)
        {
            for (var j = b.Length - 1; j >= 0; j--)
            {
                lcs[i, j] = a[i] == b[j] ? lcs[i + 1, j + 1] + 1 : Math.Max(lcs[i + 1, j], lcs[i, j + 1]);
            }
        }

        var output = new StringBuilder();
        int x = 0, y = 0, shown = 0;
        while ((x < a.Length || y < b.Length) && shown < 200)
        {
            if (x < a.Length && y < b.Length && a[x] == b[y])
            {
                x++;
                y++;
            }
            else if (y < b.Length && (x == a.Length || lcs[x, y + 1] >= lcs[x + 1, y]))
            {
                output.Append($"+{y + 1,5}: ").AppendLine(b[y++]);
                shown++;
            }
            else
            {
                output.Append($"-{x + 1,5}: ").AppendLine(a[x++]);
                shown++;
            }
        }

        return output.ToString();
    }

    [GeneratedRegex("GeneratedCode\\(\"TypedJobs\\.Generators\", \"[^\"]*\"\\)")]
    private static partial Regex VersionPattern();
}
