using Microsoft.Extensions.Hosting;

namespace TypedJobs.Hosting;

/// <summary>
/// A background loop that calls the stores: stopping it waits for the store call in flight to end, even past the
/// host's shutdown timeout. Every call the loop makes gets the stopping token, so the wait is short; returning earlier
/// would let the host dispose the store under it.
/// </summary>
internal abstract class StoreLoopService : BackgroundService
{
    public override Task StopAsync(CancellationToken cancellationToken) => base.StopAsync(CancellationToken.None);
}
