using NATS.Client.JetStream;
using TypedJobs.Storage.Nats.Internal;

namespace TypedJobs.Storage.Nats.Tests;

internal static class NatsTestSupport
{
    /// <summary>Deletes the buckets and the stream of a store's prefix (ignoring what was never created).</summary>
    public static async Task DeleteAsync(NatsStorage store)
    {
        foreach (var stream in new[] { "KV_" + store.ResultsBucket, "KV_" + store.SchedulesBucket, store.EventsStream })
        {
            try
            {
                await store.JetStream.DeleteStreamAsync(stream, CancellationToken.None);
            }
            catch (NatsJSApiException ex) when (ex.Error.Code == 404)
            {
            }
            catch (Exception ex) when (ex is NATS.Client.Core.NatsException or TimeoutException or OperationCanceledException)
            {
                // The server is gone (a test stopped it): nothing left to clean.
            }
        }
    }
}
