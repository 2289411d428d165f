namespace TypedJobs.Bench;

/// <summary>Stores beyond the in-memory one, added as their packages join the harness.</summary>
internal static class StoreSetups
{
    public static string ExtraNames => "";

    public static StoreSetup? Extra(string name) => null;
}
