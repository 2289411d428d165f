using System.Globalization;
using System.Text;

namespace TypedJobs.Storage;

/// <summary>
/// A storage URL as written in configuration (<c>TypedJobs:Storage</c>): <c>memory:</c>, <c>sqlite:jobs.db</c>,
/// <c>postgres://user:secret@host:5432/db?schema=jobs</c>, <c>file:///var/lib/app/results</c>. The scheme picks the
/// provider, which reads the rest. <see cref="ToString"/> and <see cref="Redacted"/> never show a password or a
/// secret-looking query value, so a URL can be logged and put in error messages.
/// </summary>
public sealed class StorageUrl
{
    private static readonly string[] SecretKeys = ["password", "pass", "pwd", "secret", "token", "apikey", "api_key", "key"];

    private StorageUrl(string original, string scheme, bool hierarchical, string? userName, string? password, string authority,
        string host, int? port, string path, IReadOnlyDictionary<string, string> query)
    {
        Original = original;
        Scheme = scheme;
        IsHierarchical = hierarchical;
        UserName = userName;
        Password = password;
        Authority = authority;
        Host = host;
        Port = port;
        Path = path;
        Query = query;
    }

    /// <summary>The URL as given (may hold secrets: never log it; log <see cref="Redacted"/>).</summary>
    public string Original { get; }

    /// <summary>The scheme in lower case, without the colon.</summary>
    public string Scheme { get; }

    /// <summary>Whether the URL has an authority part (<c>scheme://…</c>).</summary>
    public bool IsHierarchical { get; }

    /// <summary>The decoded user name of the authority, if any.</summary>
    public string? UserName { get; }

    /// <summary>The decoded password of the authority, if any.</summary>
    public string? Password { get; }

    /// <summary>The authority without the user information (<c>host:port</c>, or several comma-separated for a cluster).</summary>
    public string Authority { get; }

    /// <summary>The host of the authority (the first one when several are given), without brackets around IPv6 addresses.</summary>
    public string Host { get; }

    /// <summary>The port of the authority, if given.</summary>
    public int? Port { get; }

    /// <summary>The decoded path: after the authority (with its leading '/'), or everything after the scheme's colon for URLs like <c>sqlite:jobs.db</c>.</summary>
    public string Path { get; }

    /// <summary>The decoded query settings; keys in lower case.</summary>
    public IReadOnlyDictionary<string, string> Query { get; }

    /// <summary>The URL with the password and secret-looking query values replaced by <c>***</c>.</summary>
    public string Redacted => Redact(this);

    /// <summary>Parses a storage URL; returns <see langword="null"/> with a reason when it is not one.</summary>
    public static StorageUrl? TryParse(string? text, out string? error)
    {
        error = null;
        var value = text?.Trim();
        if (string.IsNullOrEmpty(value))
        {
            error = "the value is empty";
            return null;
        }

        var colon = value.IndexOf(':', StringComparison.Ordinal);
        if (colon <= 0 || !IsScheme(value.AsSpan(0, colon)))
        {
            error = "it has no scheme (expected e.g. sqlite:jobs.db, memory:, postgres://host/db)";
            return null;
        }

        var scheme = value[..colon].ToLowerInvariant();
        var rest = value[(colon + 1)..];
        var queryStart = rest.IndexOf('?', StringComparison.Ordinal);
        var queryText = queryStart >= 0 ? rest[(queryStart + 1)..] : "";
        rest = queryStart >= 0 ? rest[..queryStart] : rest;
        var query = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var pair in queryText.Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var eq = pair.IndexOf('=', StringComparison.Ordinal);
            var key = Uri.UnescapeDataString(eq >= 0 ? pair[..eq] : pair).ToLowerInvariant();
            var val = eq >= 0 ? Uri.UnescapeDataString(pair[(eq + 1)..].Replace('+', ' ')) : "";
            if (!query.TryAdd(key, val))
            {
                error = $"the setting '{key}' is given twice";
                return null;
            }
        }

        if (!rest.StartsWith("//", StringComparison.Ordinal))
        {
            return new StorageUrl(value, scheme, false, null, null, "", "", null, Uri.UnescapeDataString(rest), query);
        }

        rest = rest[2..];
        var slash = rest.IndexOf('/', StringComparison.Ordinal);
        if ((slash >= 0 && rest.IndexOf('@', slash) >= 0) || queryText.Contains('@', StringComparison.Ordinal))
        {
            // A raw '@' only ends the user information. One after a '/' or '?' most likely ends a password that holds a raw
            // '/' or '?', which would be read as the host, port or path and shown in errors: refuse it, quoting nothing.
            error = "an '@' comes after a '/' or '?'; if it ends the user name and password, percent-encode '/', '?' and '#' in " +
                    "them (%2F, %3F, %23), and write an '@' anywhere else as %40";
            return null;
        }

        var authority = slash >= 0 ? rest[..slash] : rest;
        var path = slash >= 0 ? Uri.UnescapeDataString(rest[slash..]) : "";
        string? user = null;
        string? password = null;
        var at = authority.LastIndexOf('@');
        if (at >= 0)
        {
            var info = authority[..at];
            authority = authority[(at + 1)..];
            var sep = info.IndexOf(':', StringComparison.Ordinal);
            user = Uri.UnescapeDataString(sep >= 0 ? info[..sep] : info);
            password = sep >= 0 ? Uri.UnescapeDataString(info[(sep + 1)..]) : null;
        }

        var first = authority.Split(',')[0];
        string host;
        int? port = null;
        string? portText = null;
        if (first.StartsWith('['))
        {
            var close = first.IndexOf(']', StringComparison.Ordinal);
            if (close < 0)
            {
                error = "an IPv6 host is missing its ']'";
                return null;
            }

            host = first[1..close];
            portText = first.Length > close + 1 && first[close + 1] == ':' ? first[(close + 2)..] : null;
        }
        else
        {
            var sep = first.LastIndexOf(':');
            host = sep >= 0 ? first[..sep] : first;
            portText = sep >= 0 ? first[(sep + 1)..] : null;
        }

        if (portText is not null)
        {
            if (!int.TryParse(portText, NumberStyles.None, CultureInfo.InvariantCulture, out var p) || p is < 1 or > 65535)
            {
                error = $"the port '{portText}' is not a number from 1 to 65535";
                return null;
            }

            port = p;
        }

        return new StorageUrl(value, scheme, true, user, password, authority, host, port, path, query);
    }

    /// <summary>Parses a storage URL; throws <see cref="FormatException"/> naming the problem (never the secrets).</summary>
    public static StorageUrl Parse(string text) =>
        TryParse(text, out var error) ?? throw new FormatException($"'{RedactText(text)}' is not a storage URL: {error}.");

    /// <summary>A query setting, or <see langword="null"/>.</summary>
    public string? Get(string key) => Query.TryGetValue(key.ToLowerInvariant(), out var value) ? value : null;

    /// <inheritdoc />
    public override string ToString() => Redacted;

    /// <summary>Hides secrets in a text that may or may not be a storage URL (for error messages about bad input).</summary>
    public static string RedactText(string? text)
    {
        if (string.IsNullOrEmpty(text))
        {
            return text ?? "";
        }

        return TryParse(text, out _) is { } url ? url.Redacted : text.Contains('@', StringComparison.Ordinal) ? "***" : text;
    }

    private static bool IsScheme(ReadOnlySpan<char> span)
    {
        if (!char.IsAsciiLetter(span[0]))
        {
            return false;
        }

        foreach (var c in span)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '+' or '-' or '.'))
            {
                return false;
            }
        }

        return true;
    }

    private static string Redact(StorageUrl url)
    {
        var text = new StringBuilder(url.Scheme).Append(':');
        if (url.IsHierarchical)
        {
            text.Append("//");
            if (url.UserName is not null)
            {
                text.Append(Uri.EscapeDataString(url.UserName));
                if (url.Password is not null)
                {
                    text.Append(":***");
                }

                text.Append('@');
            }

            text.Append(url.Authority);
        }

        text.Append(url.Path);
        var separator = '?';
        foreach (var (key, value) in url.Query)
        {
            text.Append(separator).Append(key).Append('=');
            text.Append(IsSecret(key) ? "***" : Uri.EscapeDataString(value));
            separator = '&';
        }

        return text.ToString();
    }

    private static bool IsSecret(string key)
    {
        foreach (var secret in SecretKeys)
        {
            if (key.Contains(secret, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
    }
}
