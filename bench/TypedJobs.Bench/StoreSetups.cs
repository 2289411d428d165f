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
    public static string ExtraNames => ", sqlite, sqlite-normal, postgres, mysql, redis, or label=url";

    /// <summary>
    /// The servers started by <c>eng/servers/postgres.sh</c>, <c>mysql.sh</c> and <c>redis.sh</c>, found through the
    /// variables those scripts export; every store the bench opens gets a fresh schema, table prefix or key prefix.
    /// </summary>
    internal static string? ServerUrl(string name)
    {
        var variable = name switch
        {
            "postgres" => "TYPEDJOBS_TEST_POSTGRES",
            "mysql" => "TYPEDJOBS_TEST_MYSQL",
            "redis" => "TYPEDJOBS_TEST_REDIS",
            _ => null,
        };
        if (variable is null)
        {
            return null;
        }

        var value = Environment.GetEnvironmentVariable(variable);
        if (string.IsNullOrWhiteSpace(value))
        {
            throw new ArgumentException(
                $"--stores {name} needs the server in {variable}, which is not set: run `source eng/servers/{name}.sh; start_{name}` in this shell first (or give {name}=URL)");
        }

        if (name == "redis")
        {
            return "redis://" + value.Trim();
        }

        var settings = value.Split(';', StringSplitOptions.RemoveEmptyEntries)
            .Select(part => part.Split('=', 2))
            .Where(kv => kv.Length == 2)
            .ToDictionary(kv => kv[0].Trim(), kv => kv[1].Trim(), StringComparer.OrdinalIgnoreCase);
        string Get(params string[] keys) => keys.Select(k => settings.GetValueOrDefault(k)).FirstOrDefault(v => v is not null)
            ?? throw new ArgumentException($"{variable} has no {keys[0]}: '{value}'");
        return name == "postgres"
            ? $"postgres://{Get("Username", "User ID")}@{Get("Host", "Server")}:{Get("Port")}/{Get("Database")}?schema={{run}}&sslmode=disable"
            : $"mysql://{Get("User ID", "Username")}:{Get("Password")}@{Get("Server", "Host")}:{Get("Port")}/{Get("Database")}?table_prefix={{run}}&ssl_mode=none";
    }


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
        if (ServerUrl(name) is { } serverUrl)
        {
            name = name + "=" + serverUrl;
        }

        var eq = name.IndexOf('=', StringComparison.Ordinal);
        if (eq > 0)
        {
            var url = name[(eq + 1)..];
            return new StoreSetup(name[..eq], (o, path) => o.UseStorage(PerRun(url.Replace("{run}", "run_" + Guid.NewGuid().ToString("N")[..12], StringComparison.Ordinal), path)));
        }

        return name switch
        {
            "sqlite" => new StoreSetup("sqlite (file)", (o, path) => o.UseSqlite(path), "sqlite"),
            "sqlite-normal" => new StoreSetup("sqlite sync=NORMAL", (o, path) => o.UseSqlite(path, s => s.Synchronous = Storage.Sqlite.SqliteSynchronous.Normal)),
            _ => null,
        };
    }
}
