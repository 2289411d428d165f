using Microsoft.Extensions.Hosting;

namespace TypedJobs.Hosting;

/// <summary>
/// Opens every storage backend when the host starts: schemas are created or migrated before the first enqueue (so an
/// enqueue inside the caller's own transaction never has to create tables under the caller's lock), and an unreachable
/// server or a bad schema stops startup with a clear error instead of failing the first job.
/// </summary>
internal sealed class StorageInitializer(StorageSet storage) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken) => storage.EnsureInitializedAsync(cancellationToken);

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
