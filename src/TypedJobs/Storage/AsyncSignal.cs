namespace TypedJobs.Storage;

/// <summary>
/// A broadcast wake-up signal: a task from <see cref="WaitAsync"/> completes at the first <see cref="Set"/> after it
/// was handed out. Used by in-process stores to wake idle workers when jobs arrive; callers always combine it with a
/// poll timeout. <see cref="Set"/> without waiters costs one interlocked exchange and allocates nothing.
/// </summary>
public sealed class AsyncSignal
{
    private TaskCompletionSource? current;

    /// <summary>Wakes every current waiter.</summary>
    public void Set() => Interlocked.Exchange(ref current, null)?.TrySetResult();

    /// <summary>Completes at the next <see cref="Set"/> or when <paramref name="cancellationToken"/> fires.</summary>
    public ValueTask WaitAsync(CancellationToken cancellationToken)
    {
        var source = Volatile.Read(ref current);
        if (source is null)
        {
            var fresh = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            source = Interlocked.CompareExchange(ref current, fresh, null) ?? fresh;
        }

        return new ValueTask(cancellationToken.CanBeCanceled ? source.Task.WaitAsync(cancellationToken) : source.Task);
    }
}
