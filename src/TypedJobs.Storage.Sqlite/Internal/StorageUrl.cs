using System.Globalization;

namespace TypedJobs.Storage.Sqlite.Internal;

/// <summary>Parses the storage URLs of <see cref="SqliteTypedJobsOptionsExtensions.UseConnectionUrl"/>.</summary>
internal static class StorageUrl
{
    private const string Key = "TypedJobs:Storage";

    /// <summary>Returns SQLite settings for a <c>sqlite:</c> URL, or <see langword="null"/> for <c>memory:</c>.</summary>
    public static SqliteStorageOptions? Parse(string url)
    {
        var text = url.Trim();
        var colon = text.IndexOf(':', StringComparison.Ordinal);
        var scheme = colon > 0 ? text[..colon].ToLowerInvariant() : "";
        switch (scheme)
        {
            case "memory":
                if (text.Length > colon + 1)
                {
                    throw Invalid(Key, url, "'memory:' takes no path or settings");
                }

                return null;
            case "sqlite":
                return ParseSqlite(url, text[(colon + 1)..]);
            default:
                throw new InvalidOperationException(
                    $"Invalid setting {Key} = '{Redact(url)}': unknown storage. Valid forms are 'sqlite:<path>', 'sqlite:///<absolute path>' and 'memory:'" +
                    (scheme is "postgres" or "postgresql" or "redis" or "rediss"
                        ? $"; '{scheme}:' needs its storage package (TypedJobs.Storage.{(scheme.StartsWith("redis", StringComparison.Ordinal) ? "Redis" : "Postgres")})."
                        : "."));
        }
    }

    private static SqliteStorageOptions ParseSqlite(string url, string rest)
    {
        var query = "";
        var q = rest.IndexOf('?', StringComparison.Ordinal);
        if (q >= 0)
        {
            query = rest[(q + 1)..];
            rest = rest[..q];
        }

        string path;
        if (rest.StartsWith("///", StringComparison.Ordinal))
        {
            path = rest[2..];
        }
        else if (rest.StartsWith("//", StringComparison.Ordinal))
        {
            throw Invalid(Key, url, "use 'sqlite:relative/path.db' or 'sqlite:///absolute/path.db' (a host name is not allowed)");
        }
        else
        {
            path = rest;
        }

        path = Uri.UnescapeDataString(path);
        if (path.Length == 0)
        {
            throw Invalid(Key, url, "give a database file, e.g. 'sqlite:jobs.db' or 'sqlite:///var/lib/app/jobs.db'");
        }

        var options = new SqliteStorageOptions { ConnectionString = path };
        foreach (var pair in query.Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var eq = pair.IndexOf('=', StringComparison.Ordinal);
            var name = Uri.UnescapeDataString(eq < 0 ? pair : pair[..eq]).ToLowerInvariant();
            var value = eq < 0 ? "" : Uri.UnescapeDataString(pair[(eq + 1)..]);
            switch (name)
            {
                case "synchronous":
                    options.Synchronous = value.ToLowerInvariant() switch
                    {
                        "off" => SqliteSynchronous.Off,
                        "normal" => SqliteSynchronous.Normal,
                        "full" => SqliteSynchronous.Full,
                        "extra" => SqliteSynchronous.Extra,
                        _ => throw Invalid("TypedJobs:Sqlite:Synchronous", value, "valid values are off, normal, full, extra"),
                    };
                    break;
                case "busy_timeout":
                    options.BusyTimeout = TimeSpan.FromMilliseconds(Integer("TypedJobs:Sqlite:BusyTimeout", value, "milliseconds between 0 and 3600000"));
                    break;
                case "table_prefix":
                    options.TablePrefix = value;
                    break;
                case "max_write_batch":
                    options.MaxWriteBatch = Integer("TypedJobs:Sqlite:MaxWriteBatch", value, "a whole number between 1 and 10000");
                    break;
                default:
                    throw Invalid($"{Key} (setting '{name}')", value, "valid settings are synchronous, busy_timeout, table_prefix, max_write_batch");
            }
        }

        options.Validate();
        return options;
    }

    private static int Integer(string key, string value, string rule) =>
        int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : throw Invalid(key, value, "use " + rule);

    private static InvalidOperationException Invalid(string key, string value, string rule) =>
        new($"Invalid setting {key} = '{Redact(value)}': {rule}.");

    /// <summary>Hides a password-looking part (<c>user:secret@</c>) of an unknown URL.</summary>
    private static string Redact(string value)
    {
        var at = value.IndexOf('@', StringComparison.Ordinal);
        var start = value.IndexOf("://", StringComparison.Ordinal);
        if (at < 0 || start < 0 || at < start)
        {
            return value;
        }

        return value[..(start + 3)] + "***" + value[at..];
    }
}
