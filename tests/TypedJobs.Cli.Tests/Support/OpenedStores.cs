namespace TypedJobs.Cli.Tests.Support;

/// <summary>Disposes a store object opened through the provider registry, whichever disposal it implements.</summary>
internal static class OpenedStores
{
    public static async ValueTask DisposeAsync(object store)
    {
        switch (store)
        {
            case IAsyncDisposable asyncDisposable:
                await asyncDisposable.DisposeAsync();
                break;
            case IDisposable disposable:
                disposable.Dispose();
                break;
        }
    }
}
