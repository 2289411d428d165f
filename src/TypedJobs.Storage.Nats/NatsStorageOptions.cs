namespace TypedJobs.Storage.Nats;

/// <summary>
/// Settings of the NATS JetStream store (results, events and schedules roles). Set them in code with
/// <c>o.UseNats(…)</c>, or in the URL: <c>nats://user:pass@host:4222?bucket_prefix=typedjobs&amp;replicas=3</c>.
/// </summary>
public sealed class NatsStorageOptions
{
    /// <summary>
    /// The server URL(s) (<c>nats://host:4222</c>, <c>tls://host:4222</c>, several separated by commas), with user and
    /// password in the URL if needed. <see langword="null"/> when <see cref="Connection"/> is given.
    /// </summary>
    public string? Url { get; set; }

    /// <summary>A connection the application already has (for example from <c>AddNatsClient</c>); it is used as is and never disposed by the store.</summary>
    public NATS.Client.Core.INatsConnection? Connection { get; set; }

    /// <summary>A token for token authentication, if the server uses it.</summary>
    public string? Token { get; set; }

    /// <summary>Require TLS (the <c>tls://</c> scheme sets it).</summary>
    public bool Tls { get; set; }

    /// <summary>A PEM file with the certificate authority that signed the server's certificate (otherwise the system's trust store).</summary>
    public string? TlsCaFile { get; set; }

    /// <summary>
    /// The prefix of the key-value buckets (<c>{prefix}_results</c>, <c>{prefix}_schedules</c>), of the events stream
    /// (<c>{prefix}_events</c>) and of its subjects (<c>{prefix}.events.…</c>): 1-32 letters, digits, '_' or '-'.
    /// Default <c>typedjobs</c>.
    /// </summary>
    public string BucketPrefix { get; set; } = "typedjobs";

    /// <summary>How many servers of a JetStream cluster keep each bucket and the events stream (1-5). Default 1.</summary>
    public int Replicas { get; set; } = 1;

    /// <summary>Keep the data in memory on the server instead of files (lost when the server restarts). Default <see langword="false"/>.</summary>
    public bool MemoryStorage { get; set; }

    /// <summary>
    /// The max age of the results bucket: JetStream removes a result this long after it was written, whatever its own
    /// expiry. It must be at least the longest result retention (<c>TypedJobs:ResultRetention</c> and the tasks' own):
    /// a result with a longer retention is kept only this long, and its reported expiry says so. Default 7 days.
    /// </summary>
    public TimeSpan ResultsMaxAge { get; set; } = TimeSpan.FromDays(7);

    /// <summary>The max age of the events stream: JetStream drops older events on its own. Default 7 days.</summary>
    public TimeSpan EventsMaxAge { get; set; } = TimeSpan.FromDays(7);

    /// <summary>The size cap of the events stream in bytes; the oldest events go first when it is reached. Default 1 GiB.</summary>
    public long EventsMaxBytes { get; set; } = 1L << 30;

    /// <summary>
    /// How long one request may wait for the server (a publish acknowledgement, a read). Default 5 seconds. While the
    /// server is unreachable every call fails after at most this long, and the engine retries result writes.
    /// </summary>
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>How long connecting may take. Default 5 seconds.</summary>
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Whether <paramref name="prefix"/> is a valid <see cref="BucketPrefix"/>.</summary>
    public static bool IsValidPrefix(string? prefix) =>
        prefix is { Length: > 0 and <= 32 } && prefix.All(static c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-');

    /// <summary>Throws <see cref="InvalidOperationException"/> naming the first bad setting.</summary>
    public void Validate()
    {
        if (Connection is null && string.IsNullOrWhiteSpace(Url))
        {
            throw new InvalidOperationException("The NATS store needs a server URL (Url) or a connection (Connection).");
        }

        if (!IsValidPrefix(BucketPrefix))
        {
            throw new InvalidOperationException($"The bucket prefix '{BucketPrefix}' is invalid: use 1-32 letters, digits, '_' or '-'.");
        }

        if (Replicas is < 1 or > 5)
        {
            throw new InvalidOperationException($"Replicas = {Replicas} is invalid: use 1 to 5.");
        }

        if (ResultsMaxAge < TimeSpan.FromMinutes(1) || EventsMaxAge < TimeSpan.FromMinutes(1))
        {
            throw new InvalidOperationException("ResultsMaxAge and EventsMaxAge must be at least one minute.");
        }

        if (EventsMaxBytes < 1 << 20)
        {
            throw new InvalidOperationException($"EventsMaxBytes = {EventsMaxBytes} is invalid: use at least 1 MiB (1048576).");
        }

        if (RequestTimeout <= TimeSpan.Zero || ConnectTimeout <= TimeSpan.Zero)
        {
            throw new InvalidOperationException("RequestTimeout and ConnectTimeout must be positive.");
        }
    }

    internal NatsStorageOptions Clone() => (NatsStorageOptions)MemberwiseClone();
}
