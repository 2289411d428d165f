using System.Globalization;

namespace TypedJobs.Storage.Files;

/// <summary>
/// Opens <c>file:///absolute/dir</c> (or <c>file:relative/dir</c>, against the content root): the results role on
/// files, one file per result, written atomically. Settings: <c>?fsync=true|false</c> (default true).
/// </summary>
public sealed class FileStorageProvider : StorageProvider
{
    /// <inheritdoc />
    public override string Name => "files";

    /// <inheritdoc />
    public override IReadOnlyList<string> Schemes { get; } = ["file"];

    /// <inheritdoc />
    public override StorageRoles Roles => StorageRoles.Results;

    /// <inheritdoc />
    public override void Validate(StorageUrl url, StorageProviderContext context) => Options(url, context);

    /// <inheritdoc />
    public override object Create(StorageUrl url, StorageProviderContext context) =>
        new FileResultStore(Options(url, context), context.TimeProvider);

    private static FileResultStoreOptions Options(StorageUrl url, StorageProviderContext context)
    {
        ArgumentNullException.ThrowIfNull(url);
        ArgumentNullException.ThrowIfNull(context);
        if (url.IsHierarchical && url.Host.Length > 0 && !string.Equals(url.Host, "localhost", StringComparison.OrdinalIgnoreCase))
        {
            throw context.Invalid(url, null, url.Redacted, "a file URL names a local directory: write file:///absolute/path (three slashes)");
        }

        if (url.Path.Length == 0)
        {
            throw context.Invalid(url, null, url.Redacted, "give the directory, e.g. file:///var/lib/app/results");
        }

        var options = new FileResultStoreOptions
        {
            Directory = System.IO.Path.IsPathRooted(url.Path) ? url.Path : System.IO.Path.GetFullPath(System.IO.Path.Combine(context.ContentRoot, url.Path)),
        };
        foreach (var (key, value) in url.Query)
        {
            switch (key)
            {
                case "fsync":
                    options.Fsync = value.ToLowerInvariant() switch
                    {
                        "true" or "1" => true,
                        "false" or "0" => false,
                        _ => throw context.Invalid(url, key, value, "use true or false"),
                    };
                    break;
                default:
                    throw context.Invalid(url, key, value, string.Create(CultureInfo.InvariantCulture, $"the file store knows the setting fsync only"));
            }
        }

        return options;
    }
}
