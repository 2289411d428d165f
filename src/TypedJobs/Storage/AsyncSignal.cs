namespace TypedJobs.Storage;

/// <summary>
/// A broadcast wake-up signal: <see cref="WaitAsync"/> completes at the next <see cref="Set"/>. Used by in-process
/// stores to wake idle workers when jobs arrive; callers always combine it with a poll timeout.
/// </summary>
public sealed class AsyncSignal
{
    private TaskCompletionSource current = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Wakes every current waiter.</summary>
    public void Set()
    {
        var previous = Interlocked.Exchange(ref current, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
        previous.TrySetResult();
    }

    /// <summary>Completes at the next <see cref="Set"/> or when <paramref name="cancellationToken"/> fires.</summary>
    public ValueTask WaitAsync(CancellationToken cancellationToken)
    {
        var task = Volatile.Read(ref current).Task;
        return new ValueTask(cancellationToken.CanBeCanceled ? task.WaitAsync(cancellationToken) : task);
    }
}
