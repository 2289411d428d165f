namespace TypedJobs.Bench;

/// <summary>Stores beyond the in-memory one.</summary>
internal static class StoreSetups
{
    public static string ExtraNames => ", sqlite, sqlite-normal";

    /// <summary>SQLite on a file with the durable defaults (WAL, synchronous=FULL, group commit).</summary>
    public static StoreSetup? Extra(string name) => name switch
    {
        "sqlite" => new StoreSetup("sqlite (file)", (o, path) => o.UseSqlite(path)),
        "sqlite-normal" => new StoreSetup("sqlite sync=NORMAL", (o, path) => o.UseSqlite(path, s => s.Synchronous = Storage.Sqlite.SqliteSynchronous.Normal)),
        _ => null,
    };
}
