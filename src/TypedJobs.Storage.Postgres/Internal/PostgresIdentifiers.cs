using System.Security.Cryptography;
using System.Text;

namespace TypedJobs.Storage.Postgres.Internal;

/// <summary>
/// The only names the store splices into SQL text: the schema and the table prefix, validated (letters, digits, '_')
/// and then double-quoted, so they can never carry SQL. Every value is a bound parameter.
/// </summary>
internal static class PostgresIdentifiers
{
    public static bool IsValidSchema(string? schema) => IsName(schema, 63);

    public static bool IsValidPrefix(string? prefix) => IsName(prefix, 32);

    /// <summary>A validated name as a quoted identifier.</summary>
    public static string Quote(string name)
    {
        if (!IsName(name, 63))
        {
            throw new ArgumentException($"'{name}' is not a valid identifier.", nameof(name));
        }

        return "\"" + name + "\"";
    }

    /// <summary>
    /// The notification channel of a schema and prefix: readable when it fits PostgreSQL's 63-byte identifier limit,
    /// otherwise shortened with a hash (both are valid, quoted channel names).
    /// </summary>
    public static string Channel(string schema, string prefix)
    {
        var name = $"typedjobs_{schema}_{prefix}jobs";
        if (name.Length <= 63)
        {
            return name;
        }

        var hash = Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(schema + "." + prefix)))[..16].ToLowerInvariant();
        return "typedjobs_" + hash;
    }

    /// <summary>A stable 64-bit key of the schema and prefix for the migration advisory lock.</summary>
    public static long AdvisoryLockKey(string schema, string prefix)
    {
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes("typedjobs-migrations:" + schema + "." + prefix));
        return BitConverter.ToInt64(hash, 0);
    }

    private static bool IsName(string? name, int max)
    {
        if (string.IsNullOrEmpty(name) || name.Length > max || char.IsAsciiDigit(name[0]))
        {
            return false;
        }

        foreach (var c in name)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c == '_'))
            {
                return false;
            }
        }

        return true;
    }
}
