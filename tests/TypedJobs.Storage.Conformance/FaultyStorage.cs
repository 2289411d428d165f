using System.Globalization;

namespace TypedJobs.Storage.Conformance;

/// <summary>The error a <see cref="FaultPlan"/> throws for an operation it fails: what a caller sees of an unreachable store.</summary>
public sealed class InjectedStoreFaultException(string operation)
    : IOException($"The store is unreachable for {operation} (an injected fault).");

/// <summary>
/// Faults to inject into store operations, switched on and off while a test or a worker process runs: fail an operation
/// (as an unreachable store), delay it, or hang it until the fault is lifted. Operations are named as on the storage
/// interfaces (<c>JobsCompleteAsync</c>, <c>LeasesExtendAsync</c>, …); <c>*</c> matches every operation.
/// </summary>
public sealed class FaultPlan
{
    /// <summary>Every operation.</summary>
    public const string All = "*";

    private readonly List<Rule> rules = [];
    private long injected;

    /// <summary>How many calls a fault touched so far.</summary>
    public long Injected => Interlocked.Read(ref injected);

    /// <summary>Fails the operations until the returned handle is disposed.</summary>
    public IDisposable Fail(params string[] operations) => Add(new Rule(operations, Kind.Fail, TimeSpan.Zero));

    /// <summary>Delays the operations by <paramref name="latency"/> until the returned handle is disposed.</summary>
    public IDisposable Delay(TimeSpan latency, params string[] operations) => Add(new Rule(operations, Kind.Delay, latency));

    /// <summary>Holds the operations (they neither fail nor return) until the returned handle is disposed.</summary>
    public IDisposable Hang(params string[] operations) => Add(new Rule(operations, Kind.Hang, TimeSpan.Zero));

    /// <summary>
    /// Schedules faults from a text such as <c>JobsCompleteAsync,ResultsSetAsync:fail:after=2000:for=10000</c> or
    /// <c>*:delay=50</c> (times in milliseconds, real time; without <c>for</c> the fault stays), for worker processes.
    /// </summary>
    public void Schedule(string spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var parts = spec.Split(':');
        var operations = parts[0].Split(',', StringSplitOptions.RemoveEmptyEntries);
        TimeSpan after = TimeSpan.Zero, duration = Timeout.InfiniteTimeSpan, latency = TimeSpan.Zero;
        var kind = Kind.Fail;
        foreach (var part in parts.Skip(1))
        {
            var (name, value) = part.Contains('=', StringComparison.Ordinal) ? (part[..part.IndexOf('=', StringComparison.Ordinal)], part[(part.IndexOf('=', StringComparison.Ordinal) + 1)..]) : (part, "");
            var ms = value.Length > 0 ? TimeSpan.FromMilliseconds(int.Parse(value, CultureInfo.InvariantCulture)) : TimeSpan.Zero;
            switch (name)
            {
                case "fail": kind = Kind.Fail; break;
                case "hang": kind = Kind.Hang; break;
                case "delay": kind = Kind.Delay; latency = ms; break;
                case "after": after = ms; break;
                case "for": duration = ms; break;
                default: throw new FormatException($"Unknown fault setting '{name}' in '{spec}'.");
            }
        }

        _ = Task.Run(async () =>
        {
            await Task.Delay(after);
            var handle = Add(new Rule(operations, kind, latency));
            if (duration != Timeout.InfiniteTimeSpan)
            {
                await Task.Delay(duration);
                handle.Dispose();
            }
        });
    }

    internal async ValueTask BeforeAsync(string operation, CancellationToken cancellationToken)
    {
        Rule[] active;
        lock (rules)
        {
            active = rules.Where(r => r.Matches(operation)).ToArray();
        }

        foreach (var rule in active)
        {
            Interlocked.Increment(ref injected);
            switch (rule.Kind)
            {
                case Kind.Fail:
                    throw new InjectedStoreFaultException(operation);
                case Kind.Delay:
                    await Task.Delay(rule.Latency, cancellationToken).ConfigureAwait(false);
                    break;
                case Kind.Hang:
                    await rule.Lifted.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
                    break;
            }
        }
    }

    private IDisposable Add(Rule rule)
    {
        lock (rules)
        {
            rules.Add(rule);
        }

        return new Handle(() =>
        {
            lock (rules)
            {
                rules.Remove(rule);
            }

            rule.Lifted.TrySetResult();
        });
    }

    private enum Kind
    {
        Fail,
        Delay,
        Hang,
    }

    private sealed class Rule(string[] operations, Kind kind, TimeSpan latency)
    {
        public Kind Kind { get; } = kind;

        public TimeSpan Latency { get; } = latency;

        public TaskCompletionSource Lifted { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public bool Matches(string operation) => operations.Any(o => o == All || string.Equals(o, operation, StringComparison.Ordinal));
    }

    private sealed class Handle(Action dispose) : IDisposable
    {
        private Action? dispose = dispose;

        public void Dispose() => Interlocked.Exchange(ref dispose, null)?.Invoke();
    }
}

/// <summary>A backend whose operations pass through a <see cref="FaultPlan"/> before they reach the real one.</summary>
public sealed class FaultyStorage(object inner, FaultPlan plan) : DelegatingStorage(inner)
{
    /// <summary>The faults to inject.</summary>
    public FaultPlan Plan { get; } = plan;

    /// <inheritdoc />
    protected override async ValueTask<T> InvokeAsync<T>(string operation, Func<ValueTask<T>> call)
    {
        await Plan.BeforeAsync(operation, CancellationToken.None).ConfigureAwait(false);
        return await call().ConfigureAwait(false);
    }

    /// <inheritdoc />
    protected override async ValueTask InvokeAsync(string operation, Func<ValueTask> call)
    {
        // Waiting for work is not a store call that can fail here; everything else is.
        if (operation != nameof(IJobStore.JobsWaitAsync))
        {
            await Plan.BeforeAsync(operation, CancellationToken.None).ConfigureAwait(false);
        }

        await call().ConfigureAwait(false);
    }
}
