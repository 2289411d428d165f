using Microsoft.Extensions.Logging;
using NATS.Client.Core;
using NATS.Client.JetStream;
using NATS.Client.JetStream.Models;
using NATS.Client.KeyValueStore;

namespace TypedJobs.Storage.Nats.Internal;

/// <summary>
/// The results, events and schedules roles on NATS JetStream. Results and schedules live in key-value buckets (history
/// 1), events in a stream with one subject per queue, kind and job. The clock is the host's (JetStream has no clock a
/// client can read), like the file results store: hosts sharing a store should keep their clocks synchronized.
/// </summary>
internal sealed partial class NatsStorage : IResultStore, IEventStore, IScheduleStore, IAsyncDisposable
{
    private const int ScanBatch = 256;

    private readonly NatsStorageOptions options;
    private readonly TimeProvider time;
    private readonly ILogger? logger;
    private readonly INatsConnection connection;
    private readonly bool ownsConnection;
    private readonly NatsJSContext js;
    private readonly NatsKVContext kv;
    private readonly SemaphoreSlim initializeGate = new(1, 1);
    private volatile Stores? stores;
    private int warnedMaxAge;

    public NatsStorage(NatsStorageOptions options, TimeProvider timeProvider, ILogger? logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        this.options = options.Clone();
        time = timeProvider;
        this.logger = logger;
        if (options.Connection is { } existing)
        {
            connection = existing;
        }
        else
        {
            connection = new NatsConnection(ConnectionOptions(this.options));
            ownsConnection = true;
        }

        js = new NatsJSContext((NatsConnection)Unwrap(connection));
        kv = new NatsKVContext(js);
        ResultsBucket = options.BucketPrefix + "_results";
        SchedulesBucket = options.BucketPrefix + "_schedules";
        EventsStream = options.BucketPrefix + "_events";
        EventsSubject = options.BucketPrefix + ".events";
    }

    public StorageCapabilities Capabilities => options.MemoryStorage ? StorageCapabilities.None : StorageCapabilities.Durable;

    public string ResultsBucket { get; }

    public string SchedulesBucket { get; }

    public string EventsStream { get; }

    /// <summary>The subject prefix of events: <c>{prefix}.events.{queue}.{kind}.{job}</c>.</summary>
    public string EventsSubject { get; }

    internal INatsJSContext JetStream => js;

    internal static NatsOpts ConnectionOptions(NatsStorageOptions options)
    {
        var auth = NatsAuthOpts.Default;
        var url = options.Url!;
        if (options.Token is not null)
        {
            auth = auth with { Token = options.Token };
        }

        var tls = options.Tls
            ? new NatsTlsOpts { Mode = TlsMode.Require, CaFile = options.TlsCaFile }
            : new NatsTlsOpts { Mode = TlsMode.Auto, CaFile = options.TlsCaFile };
        return NatsOpts.Default with
        {
            Url = url,
            Name = "typedjobs",
            AuthOpts = auth,
            TlsOpts = tls,
            RequestTimeout = options.RequestTimeout,
            ConnectTimeout = options.ConnectTimeout,
            CommandTimeout = options.RequestTimeout,
            // Keep reconnecting for as long as the process runs: an outage ends, the store must come back.
            MaxReconnectRetry = -1,
            ReconnectWaitMin = TimeSpan.FromMilliseconds(200),
            ReconnectWaitMax = TimeSpan.FromSeconds(2),
            RetryOnInitialConnect = false,
        };
    }

    private static INatsConnection Unwrap(INatsConnection connection) => connection is NatsConnection ? connection
        : throw new ArgumentException("The NATS store needs a NatsConnection (the connection type of NATS.Net).", nameof(connection));

    /// <summary>How many times a bucket or stream the server failed to create (an error 500) is tried before it is reported.</summary>
    internal const int CreateAttempts = 3;

    public async ValueTask InitializeAsync(CancellationToken cancellationToken)
    {
        if (stores is not null)
        {
            return;
        }

        await initializeGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (stores is not null)
            {
                return;
            }

            try
            {
                await connection.ConnectAsync().ConfigureAwait(false);
            }
            catch (NatsException ex)
            {
                throw new InvalidOperationException($"The NATS store cannot connect to {Describe()}: {ex.Message}", ex);
            }

            for (var attempt = 1; ; attempt++)
            {
                try
                {
                    stores = await CreateStoresAsync(cancellationToken).ConfigureAwait(false);
                    return;
                }
                catch (NatsJSApiException ex) when (ex.Error.Code == 500 && attempt < CreateAttempts)
                {
                    // The server failed to set up a stream's storage (an I/O error in its store directory, which a
                    // failed create leaves clean): creating is idempotent, so it is tried again before it is reported.
                    if (logger is not null)
                    {
                        Log.CreateFailedTryingAgain(logger, options.BucketPrefix, ex.Error.Description ?? $"error {ex.Error.ErrCode}", attempt, CreateAttempts);
                    }

                    await Task.Delay(TimeSpan.FromMilliseconds(250 * attempt), cancellationToken).ConfigureAwait(false);
                }
                catch (NatsJSApiException ex) when (ex.Error.Code == 503)
                {
                    throw new InvalidOperationException(
                        $"The NATS server at {Describe()} has no JetStream: start nats-server with -js (or 'jetstream {{}}' in its configuration). {ex.Error.Description}", ex);
                }
                catch (NatsJSApiException ex)
                {
                    throw new InvalidOperationException(
                        $"The NATS store could not create its buckets and stream (prefix '{options.BucketPrefix}') on {Describe()}: {ex.Error.Description} (code {ex.Error.Code}, error {ex.Error.ErrCode}"
                        + (attempt > 1 ? $", {attempt} attempts" : string.Empty) + ").", ex);
                }
            }
        }
        finally
        {
            initializeGate.Release();
        }
    }

    private async Task<Stores> CreateStoresAsync(CancellationToken cancellationToken)
    {
        var storage = options.MemoryStorage ? NatsKVStorageType.Memory : NatsKVStorageType.File;
        var results = await kv.CreateOrUpdateStoreAsync(new NatsKVConfig(ResultsBucket)
        {
            Description = "TypedJobs job results, keyed by job and attempt",
            History = 1,
            MaxAge = options.ResultsMaxAge,
            Storage = storage,
            NumberOfReplicas = options.Replicas,
        }, cancellationToken).ConfigureAwait(false);
        var schedules = await kv.CreateOrUpdateStoreAsync(new NatsKVConfig(SchedulesBucket)
        {
            Description = "TypedJobs schedules",
            History = 1,
            Storage = storage,
            NumberOfReplicas = options.Replicas,
        }, cancellationToken).ConfigureAwait(false);
        var events = await js.CreateOrUpdateStreamAsync(new StreamConfig(EventsStream, [EventsSubject + ".>"])
        {
            Description = "TypedJobs lifecycle events",
            Retention = StreamConfigRetention.Limits,
            Discard = StreamConfigDiscard.Old,
            MaxAge = options.EventsMaxAge,
            MaxBytes = options.EventsMaxBytes,
            Storage = options.MemoryStorage ? StreamConfigStorage.Memory : StreamConfigStorage.File,
            NumReplicas = options.Replicas,
        }, cancellationToken).ConfigureAwait(false);
        var resultsStream = await js.GetStreamAsync("KV_" + ResultsBucket, cancellationToken: cancellationToken).ConfigureAwait(false);
        return new Stores(results, resultsStream, schedules, events);
    }

    public ValueTask<DateTimeOffset> ClockNowAsync(CancellationToken cancellationToken) => ValueTask.FromResult(time.GetUtcNow());

    public async ValueTask DisposeAsync()
    {
        if (ownsConnection)
        {
            await connection.DisposeAsync().ConfigureAwait(false);
        }

        initializeGate.Dispose();
    }

    private Stores Ready => stores ?? throw new InvalidOperationException("The NATS store is not initialized: call InitializeAsync first.");

    private string Describe() => options.Connection is not null ? "the application's NATS connection" : StorageUrl.RedactText(options.Url);

    /// <summary>
    /// Reads the messages of a stream matching <paramref name="filter"/>, oldest first, until <paramref name="visit"/>
    /// returns false or none are left, through an ephemeral consumer without acknowledgements (a single filter subject,
    /// which nats-server 2.9 understands) that is deleted afterwards, or by the server once idle.
    /// </summary>
    private async Task ScanAsync(string stream, string filter, Func<INatsJSMsg<byte[]>, bool> visit, CancellationToken cancellationToken, int? batch = null)
    {
        // Created on the plain create subject (the server names it): nats-server 2.9 reads a filter given in the
        // extended create subject as one token only, so a filter with several tokens must travel in the request alone.
        var name = await CreateScanConsumerAsync(stream, filter, cancellationToken).ConfigureAwait(false);
        var consumer = await js.GetConsumerAsync(stream, name, cancellationToken).ConfigureAwait(false);
        try
        {
            while (true)
            {
                var any = false;
                await foreach (var msg in consumer.FetchNoWaitAsync<byte[]>(new NatsJSFetchOpts { MaxMsgs = batch ?? ScanBatch }, cancellationToken: cancellationToken)
                                   .ConfigureAwait(false))
                {
                    any = true;
                    if (!visit(msg) || msg.Metadata is { NumPending: 0 })
                    {
                        return;
                    }
                }

                if (!any)
                {
                    return;
                }
            }
        }
        finally
        {
            try
            {
                await js.DeleteConsumerAsync(stream, consumer.Info.Name, CancellationToken.None).ConfigureAwait(false);
            }
            catch (NatsException)
            {
                // The server removes an idle ephemeral consumer on its own.
            }
        }
    }

    private async Task<string> CreateScanConsumerAsync(string stream, string filter, CancellationToken cancellationToken)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(256);
        using (var json = new System.Text.Json.Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("stream_name", stream);
            json.WriteStartObject("config");
            json.WriteString("filter_subject", filter);
            json.WriteString("deliver_policy", "all");
            json.WriteString("ack_policy", "none");
            json.WriteString("replay_policy", "instant");
            json.WriteNumber("inactive_threshold", TimeSpan.FromMinutes(1).Ticks * 100);
            json.WriteBoolean("mem_storage", true);
            json.WriteNumber("num_replicas", 1);
            json.WriteEndObject();
            json.WriteEndObject();
        }

        var reply = await connection.RequestAsync<byte[], byte[]>($"{js.Opts.Prefix}.CONSUMER.CREATE.{stream}", buffer.WrittenSpan.ToArray(),
            cancellationToken: cancellationToken).ConfigureAwait(false);
        using var document = System.Text.Json.JsonDocument.Parse(reply.Data ?? []);
        var root = document.RootElement;
        if (root.TryGetProperty("error", out var error))
        {
            var code = error.TryGetProperty("code", out var c) ? c.GetInt32() : 0;
            var description = error.TryGetProperty("description", out var d) ? d.GetString() : null;
            throw new InvalidOperationException($"The NATS server refused to read the stream {stream}: {description} (code {code}).");
        }

        return root.GetProperty("name").GetString()!;
    }

    private void WarnMaxAge(TimeSpan ttl)
    {
        if (logger is not null && Interlocked.Exchange(ref warnedMaxAge, 1) == 0)
        {
            Log.ResultOutlivesBucket(logger, ttl, options.ResultsMaxAge, ResultsBucket);
        }
    }

    private sealed record Stores(INatsKVStore Results, INatsJSStream ResultsStream, INatsKVStore Schedules, INatsJSStream Events);
}

internal static partial class Log
{
    [LoggerMessage(1, LogLevel.Warning,
        "A result retention of {Ttl} is longer than the max age {MaxAge} of the NATS bucket {Bucket}: such results are kept only for the max age (set results_max_age)")]
    public static partial void ResultOutlivesBucket(ILogger logger, TimeSpan ttl, TimeSpan maxAge, string bucket);

    [LoggerMessage(2, LogLevel.Warning,
        "The NATS server failed to create a bucket or stream of prefix '{Prefix}' ({Error}); attempt {Attempt} of {Attempts}, trying again")]
    public static partial void CreateFailedTryingAgain(ILogger logger, string prefix, string error, int attempt, int attempts);
}
