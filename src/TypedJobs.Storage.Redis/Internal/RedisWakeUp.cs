using System.Collections.Concurrent;
using StackExchange.Redis;

namespace TypedJobs.Storage.Redis.Internal;

/// <summary>
/// Wakes waiting workers when jobs arrive: at once in this process, and in every process through Redis pub/sub (one
/// channel per key prefix; the message is the queue name). Publishing is coalesced per queue on the leading edge: the
/// first notice after a quiet spell is published at once, further ones within <c>window</c> are folded into one
/// publish at its end, so a burst of inserts costs at most two messages per window and the first worker never waits.
/// Workers subscribe on their first wait; a missed message is covered by the engine's poll.
/// </summary>
internal sealed class RedisWakeUp : IAsyncDisposable
{
    private readonly Func<IConnectionMultiplexer> multiplexer;
    private readonly RedisChannel channel;
    private readonly WakeCoalescer coalescer;
    private readonly ConcurrentDictionary<string, AsyncSignal> signals = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim subscribeGate = new(1, 1);
    private Action<RedisChannel, RedisValue>? handler;
    private volatile bool subscribed;
    private volatile bool disposed;

    public RedisWakeUp(Func<IConnectionMultiplexer> multiplexer, RedisChannel channel, TimeSpan window)
    {
        this.multiplexer = multiplexer;
        this.channel = channel;
        coalescer = new WakeCoalescer(window, TimeProvider.System, Publish);
    }

    /// <summary>Jobs became ready in <paramref name="queue"/>: wake local waiters now and tell other processes.</summary>
    public void Notify(string queue)
    {
        if (disposed)
        {
            return;
        }

        if (signals.TryGetValue(queue, out var signal))
        {
            signal.Set();
        }

        coalescer.Notify(queue);
    }

    /// <summary>Completes when a job may have arrived in one of <paramref name="queues"/>.</summary>
    public async ValueTask WaitAsync(IReadOnlyList<string> queues, CancellationToken cancellationToken)
    {
        if (!subscribed)
        {
            await SubscribeAsync().ConfigureAwait(false);
        }

        if (queues.Count == 1)
        {
            await Signal(queues[0]).WaitAsync(cancellationToken).ConfigureAwait(false);
            return;
        }

        var waits = new Task[queues.Count];
        for (var i = 0; i < waits.Length; i++)
        {
            waits[i] = Signal(queues[i]).WaitAsync(cancellationToken).AsTask();
        }

        await (await Task.WhenAny(waits).ConfigureAwait(false)).ConfigureAwait(false);
    }

    private AsyncSignal Signal(string queue) => signals.GetOrAdd(queue, static _ => new AsyncSignal());

    private async Task SubscribeAsync()
    {
        await subscribeGate.WaitAsync().ConfigureAwait(false);
        try
        {
            if (subscribed || disposed)
            {
                return;
            }

            handler = (_, message) =>
            {
                if (!message.IsNullOrEmpty && signals.TryGetValue((string)message!, out var signal))
                {
                    signal.Set();
                }
            };
            await multiplexer().GetSubscriber().SubscribeAsync(channel, handler).ConfigureAwait(false);
            subscribed = true;
        }
        finally
        {
            subscribeGate.Release();
        }
    }

    private void Publish(string queue)
    {
        if (disposed)
        {
            return;
        }

        try
        {
            multiplexer().GetSubscriber().Publish(channel, queue, CommandFlags.FireAndForget);
        }
        catch (RedisException)
        {
            // The poll fallback finds the jobs; a wake-up is only a hint.
        }
        catch (ObjectDisposedException)
        {
        }
    }

    public async ValueTask DisposeAsync()
    {
        disposed = true;
        if (subscribed && handler is not null)
        {
            try
            {
                await multiplexer().GetSubscriber().UnsubscribeAsync(channel, handler).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is RedisException or ObjectDisposedException)
            {
                // The connection is already gone: so is the subscription.
            }
        }

        subscribeGate.Dispose();
    }
}
