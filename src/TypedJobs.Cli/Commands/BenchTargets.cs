using System.Security.Cryptography;
using System.Text;
using TypedJobs.Cli.Infrastructure;
using TypedJobs.Storage;

namespace TypedJobs.Cli.Commands;

/// <summary>
/// Where <c>bench</c> runs: never among an application's jobs. Each storage scheme gets a throwaway area of its own kind —
/// a temporary file for SQLite, a fresh table prefix for the SQL servers, a fresh key prefix for Redis — and a scheme
/// with no rule here is refused rather than benchmarked in place. A store package added to the tool adds its rule here.
/// </summary>
internal static class BenchTargets
{
    /// <summary>A throwaway place to benchmark and how to tidy up after it.</summary>
    /// <param name="Url">The URL the bench opens.</param>
    /// <param name="Description">Where that is, for the report.</param>
    /// <param name="Leftover">What stays behind after the jobs are deleted, if anything (printed for the operator).</param>
    /// <param name="Cleanup">Removes what can be removed.</param>
    internal sealed record Target(string Url, string Description, string? Leftover, Action Cleanup);

    public static Target Isolate(string text)
    {
        var url = StorageUrl.TryParse(text, out var why) ?? throw CliException.Usage($"--storage: '{StorageUrl.RedactText(text)}' is not a storage URL: {why}");
        var tag = "tjbench_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4)) + "_";
        switch (url.Scheme)
        {
            case "memory":
                return new Target(url.Original, "memory: (this process)", null, static () => { });
            case "sqlite":
                var directory = Directory.CreateTempSubdirectory("typedjobs-bench-").FullName;
                var path = Path.Combine(directory, "bench.db");
                var query = url.Query.Where(static q => q.Key != "table_prefix").ToList();
                return new Target("sqlite://" + path + Query(query), $"a temporary SQLite file ({path}) with the settings of {url.Redacted}", null,
                    () => Directory.Delete(directory, recursive: true));
            case "postgres" or "postgresql" or "mysql":
                return Prefixed(url, "table_prefix", tag, $"tables prefixed {tag}");
            case "redis" or "rediss":
                return Prefixed(url, "prefix", tag, $"keys prefixed {tag}");
            default:
                throw CliException.Error($"bench does not know how to make a throwaway area on '{url.Scheme}' storage, so it does not run there");
        }
    }

    private static Target Prefixed(StorageUrl url, string setting, string tag, string what)
    {
        var query = url.Query.Where(q => q.Key != setting).Append(new KeyValuePair<string, string>(setting, tag)).ToList();
        var head = url.Original.Split('?', 2)[0];
        var redacted = StorageUrl.RedactText(head + Query(query));
        return new Target(head + Query(query), $"{redacted} ({what}, a throwaway area)",
            $"the bench's jobs were deleted; its empty {what} remain: drop them when done", static () => { });
    }

    private static string Query(IReadOnlyList<KeyValuePair<string, string>> query)
    {
        if (query.Count == 0)
        {
            return "";
        }

        var text = new StringBuilder();
        foreach (var (key, value) in query)
        {
            text.Append(text.Length == 0 ? '?' : '&').Append(Uri.EscapeDataString(key)).Append('=').Append(Uri.EscapeDataString(value));
        }

        return text.ToString();
    }
}
