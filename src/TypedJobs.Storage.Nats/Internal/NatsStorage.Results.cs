using System.Buffers.Binary;
using NATS.Client.JetStream.Models;
using NATS.Client.KeyValueStore;

namespace TypedJobs.Storage.Nats.Internal;

/// <summary>
/// The results role: key <c>{job}.{lease token}</c> (32 hex digits each) in the results bucket; the value is a
/// one-byte format tag, the expiry by the store's clock (UTC ticks) and the serialized result.
/// </summary>
internal sealed partial class NatsStorage
{
    private const byte ResultFormat = 1;
    private const int ResultHeader = 9;

    public async ValueTask<ResultsSetResult> ResultsSetAsync(ResultsSetParams parameters, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        var bucket = Ready.Results;
        var now = time.GetUtcNow();
        // Pipelined on the one connection; each put is acknowledged by JetStream before this returns.
        var puts = new List<Task<ulong>>(parameters.Results.Count);
        foreach (var write in parameters.Results)
        {
            var ttl = write.Ttl;
            if (ttl > options.ResultsMaxAge)
            {
                WarnMaxAge(ttl);
                ttl = options.ResultsMaxAge;
            }

            var value = new byte[ResultHeader + write.Value.Length];
            value[0] = ResultFormat;
            BinaryPrimitives.WriteInt64LittleEndian(value.AsSpan(1), (now + ttl).UtcTicks);
            write.Value.CopyTo(value.AsSpan(ResultHeader));
            puts.Add(bucket.PutAsync(ResultKey(write.JobId, write.LeaseToken), value, cancellationToken: cancellationToken).AsTask());
        }

        await Task.WhenAll(puts).ConfigureAwait(false);
        return new ResultsSetResult();
    }

    public async ValueTask<ResultsGetResult> ResultsGetAsync(ResultsGetParams parameters, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        if (parameters.LeaseToken == Guid.Empty)
        {
            // Results here were always keyed by attempt: there is no result stored by job alone.
            return new ResultsGetResult(null);
        }

        var entry = await Ready.Results.TryGetEntryAsync<byte[]>(ResultKey(parameters.JobId, parameters.LeaseToken), cancellationToken: cancellationToken)
            .ConfigureAwait(false);
        if (!entry.Success || entry.Value.Value is not { } bytes)
        {
            return new ResultsGetResult(null);
        }

        if (!TryReadExpiry(bytes, out var expires))
        {
            throw new InvalidDataException($"The result of job {parameters.JobId} in the NATS bucket {ResultsBucket} is not a TypedJobs result.");
        }

        return new ResultsGetResult(expires > time.GetUtcNow() ? new StoredResult(bytes[ResultHeader..], expires) : null);
    }

    public async ValueTask<ResultsDeleteResult> ResultsDeleteAsync(ResultsDeleteParams parameters, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        var stream = Ready.ResultsStream;
        var purges = parameters.JobIds.Distinct()
            .Select(id => stream.PurgeAsync(new StreamPurgeRequest { Filter = $"$KV.{ResultsBucket}.{id.Value:N}.*" }, cancellationToken).AsTask())
            .ToList();
        var deleted = 0L;
        foreach (var purge in purges)
        {
            deleted += (long)(await purge.ConfigureAwait(false)).Purged;
        }

        return new ResultsDeleteResult((int)Math.Min(deleted, int.MaxValue));
    }

    /// <summary>
    /// Deletes expired results from the oldest on and stops at the first one that has not expired, so a call reads at
    /// most <see cref="ResultsPruneParams.Max"/> + 1 results. A result with a longer retention than those written after
    /// it holds their deletion back until it expires itself (they are never returned meanwhile); the bucket's max age
    /// removes everything older than it in any case.
    /// </summary>
    public async ValueTask<ResultsPruneResult> ResultsPruneAsync(ResultsPruneParams parameters, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        if (parameters.Max <= 0)
        {
            return new ResultsPruneResult(0);
        }

        var ready = Ready;
        var now = time.GetUtcNow();
        var expired = new List<(string Subject, ulong Sequence)>();
        await ScanAsync("KV_" + ResultsBucket, $"$KV.{ResultsBucket}.>", msg =>
        {
            // Delete and purge markers carry no value; they go with the values before them.
            if (msg.Data is { Length: > 0 } data && TryReadExpiry(data, out var expires) && expires > now)
            {
                return false;
            }

            if (msg.Metadata is { } metadata)
            {
                expired.Add((msg.Subject, metadata.Sequence.Stream));
            }

            return expired.Count < parameters.Max;
        }, cancellationToken, Math.Min(ScanBatch, parameters.Max + 1)).ConfigureAwait(false);

        var deletes = expired.Select(m => PurgeAsync(ready.ResultsStream, m, cancellationToken)).ToList();
        var deleted = 0;
        foreach (var delete in deletes)
        {
            deleted += await delete.ConfigureAwait(false) ? 1 : 0;
        }

        return new ResultsPruneResult(deleted);
    }

    /// <summary>
    /// Removes one stored result by its subject and sequence (key-value streams deny deleting single messages, so this is a
    /// purge of that subject up to that sequence): a result written again since it was read is left alone.
    /// </summary>
    private static async Task<bool> PurgeAsync(NATS.Client.JetStream.INatsJSStream stream, (string Subject, ulong Sequence) message,
        CancellationToken cancellationToken)
    {
        var response = await stream.PurgeAsync(new StreamPurgeRequest { Filter = message.Subject, Seq = message.Sequence + 1 }, cancellationToken)
            .ConfigureAwait(false);
        return response.Purged > 0;
    }

    private static string ResultKey(JobId job, Guid token) => $"{job.Value:N}.{token:N}";

    private static bool TryReadExpiry(ReadOnlySpan<byte> bytes, out DateTimeOffset expires)
    {
        expires = default;
        if (bytes.Length < ResultHeader || bytes[0] != ResultFormat)
        {
            return false;
        }

        var ticks = BinaryPrimitives.ReadInt64LittleEndian(bytes[1..]);
        if (ticks < DateTimeOffset.MinValue.UtcTicks || ticks > DateTimeOffset.MaxValue.UtcTicks)
        {
            return false;
        }

        expires = new DateTimeOffset(ticks, TimeSpan.Zero);
        return true;
    }
}
