namespace TypedJobs.Storage.Memory;

/// <summary>Opens <c>memory:</c>: the in-process store for every role (nothing persists).</summary>
public sealed class MemoryStorageProvider : StorageProvider
{
    /// <inheritdoc />
    public override string Name => "in-memory";

    /// <inheritdoc />
    public override IReadOnlyList<string> Schemes { get; } = ["memory"];

    /// <inheritdoc />
    public override StorageRoles Roles => StorageRoles.All;

    /// <inheritdoc />
    public override void Validate(StorageUrl url, StorageProviderContext context)
    {
        ArgumentNullException.ThrowIfNull(url);
        ArgumentNullException.ThrowIfNull(context);
        if (url.IsHierarchical || url.Path.Length > 0 || url.Query.Count > 0)
        {
            throw context.Invalid(url, null, url.Redacted, "the in-memory store takes no path or settings: write 'memory:'");
        }
    }

    /// <inheritdoc />
    public override object Create(StorageUrl url, StorageProviderContext context)
    {
        Validate(url, context);
        return new MemoryStorage(context.TimeProvider);
    }
}
