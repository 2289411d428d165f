namespace TypedJobs.Bench;

/// <summary>
/// Stores beyond the in-memory one: by name, or any storage URL as <c>label=url</c> (for example
/// <c>--stores postgres=postgres://postgres@127.0.0.1:5440/bench</c>), opened through the storage providers this
/// project references. Each run gets a fresh store: a file under a fresh directory for SQLite; network stores should be
/// given a throwaway database, schema or prefix in the URL; <c>{run}</c> in a URL becomes a fresh name for every store the
/// bench opens (e.g. <c>postgres://postgres@127.0.0.1:5440/bench?schema={run}</c>), so no round sees another's jobs.
/// </summary>
internal static class StoreSetups
{
    public static string ExtraNames => ", sqlite, sqlite-normal, or label=url";

    /// <summary>
    /// A Redis URL without a key prefix gets a fresh one per run (from the run's directory), so rounds never see each
    /// other's jobs.
    /// </summary>
    private static string PerRun(string url, string path)
    {
        if (!url.StartsWith("redis", StringComparison.OrdinalIgnoreCase) || url.Contains("prefix=", StringComparison.OrdinalIgnoreCase))
        {
            return url;
        }

        var run = Convert.ToHexString(System.Security.Cryptography.SHA1.HashData(System.Text.Encoding.UTF8.GetBytes(path)))[..12];
        return url + (url.Contains('?', StringComparison.Ordinal) ? "&" : "?") + "prefix=bench:" + run + ":";
    }

    /// <summary>SQLite on a file with the durable defaults (WAL, synchronous=FULL, group commit).</summary>
    public static StoreSetup? Extra(string name)
    {
        var eq = name.IndexOf('=', StringComparison.Ordinal);
        if (eq > 0)
        {
            var url = name[(eq + 1)..];
            return new StoreSetup(name[..eq], (o, path) => o.UseStorage(PerRun(url.Replace("{run}", "run_" + Guid.NewGuid().ToString("N")[..12], StringComparison.Ordinal), path)));
        }

        return name switch
        {
            "sqlite" => new StoreSetup("sqlite (file)", (o, path) => o.UseSqlite(path)),
            "sqlite-normal" => new StoreSetup("sqlite sync=NORMAL", (o, path) => o.UseSqlite(path, s => s.Synchronous = Storage.Sqlite.SqliteSynchronous.Normal)),
            _ => null,
        };
    }
}
