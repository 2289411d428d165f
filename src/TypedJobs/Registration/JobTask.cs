namespace TypedJobs.Registration;

/// <summary>Handles one job of a task with payload <typeparamref name="TPayload"/>.</summary>
public delegate ValueTask JobHandler<in TPayload>(TPayload payload, JobContext context);

/// <summary>Handles one job of a task with payload <typeparamref name="TPayload"/> and returns its result.</summary>
public delegate ValueTask<TResult> JobHandler<in TPayload, TResult>(TPayload payload, JobContext context);

/// <summary>
/// A registered task: its stable name, settings, payload serializer and handler. This is the low-level
/// registration API the source generator emits calls to; it can be used by hand as well:
/// <code>
/// static readonly JobTask&lt;Email&gt; SendEmail = JobTask.Create("send-email",
///     JobSerializer.FromJsonTypeInfo(AppJson.Default.Email),
///     (email, ctx) => ctx.Services.GetRequiredService&lt;IMailer&gt;().SendAsync(email, ctx.CancellationToken),
///     new TaskSettings { Queue = "emails", MaxRetries = 5 });
/// services.AddTypedJobs(o => o.UseInMemory()).AddTask(SendEmail).AddWorker();
/// await client.EnqueueAsync(SendEmail, new Email("a@b.c"));
/// </code>
/// </summary>
public abstract class JobTask
{
    private protected JobTask(string name, TaskSettings settings)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(settings);
        Name = name;
        Settings = settings;
    }

    /// <summary>The stable name stored with every job of this task.</summary>
    public string Name { get; }

    /// <summary>The declared settings.</summary>
    public TaskSettings Settings { get; }

    /// <summary>Whether the task produces a result.</summary>
    public abstract bool HasResult { get; }

    /// <summary>Whether the payload has members marked <see cref="SensitiveAttribute"/>, which <see cref="RedactPayload"/> hides.</summary>
    public abstract bool HasSensitiveMembers { get; }

    /// <summary>
    /// Returns a stored payload of this task as JSON text for display to operators, with the value of every member
    /// marked <see cref="SensitiveAttribute"/> replaced by <c>"***"</c> (the redaction the source generator emits for
    /// the task). The dashboard, the admin API and tools show payloads only through this method. The text is JSON with
    /// relaxed escaping (characters such as <c>&lt;</c> are kept), so escape it for the medium that shows it.
    /// </summary>
    /// <exception cref="System.Text.Json.JsonException">The payload is not valid JSON.</exception>
    public abstract string RedactPayload(ReadOnlySpan<byte> payload);
    /// <summary>
    /// Whether the task has a handler. A task created with <see cref="CreateContract{TPayload}"/> has none: it can enqueue
    /// jobs, and a process that registers a task of the same name with a handler runs them.
    /// </summary>
    public abstract bool HasHandler { get; }

    /// <summary>Deserializes the payload, runs the handler and returns the serialized result, if any.</summary>
    internal abstract ValueTask<byte[]?> InvokeAsync(ReadOnlyMemory<byte> payload, JobContext context);

    /// <summary>Deserializes the payload only (throws <see cref="InvalidPayloadException"/> when it does not fit).</summary>
    internal abstract object? DecodePayload(ReadOnlySpan<byte> payload);

    /// <summary>Reads a stored result with the task's result serializer (throws when the task has none).</summary>
    internal virtual object? DecodeResult(ReadOnlySpan<byte> result) =>
        throw new InvalidOperationException($"The task '{Name}' has no result.");

    /// <summary>Creates a task without a result.</summary>
    public static JobTask<TPayload> Create<TPayload>(string name, JobSerializer<TPayload> payloadSerializer,
        JobHandler<TPayload> handler, TaskSettings? settings = null) =>
        new(name, settings ?? TaskSettings.Default, payloadSerializer, handler);

    /// <summary>Creates a task that returns a result.</summary>
    public static JobTask<TPayload, TResult> Create<TPayload, TResult>(string name, JobSerializer<TPayload> payloadSerializer,
        JobSerializer<TResult> resultSerializer, JobHandler<TPayload, TResult> handler, TaskSettings? settings = null) =>
        new(name, settings ?? TaskSettings.Default, payloadSerializer, resultSerializer, handler);

    /// <summary>
    /// Creates the producer side of a task without a result: its name, settings and payload serializer, without a
    /// handler (a task contract). Enqueue with it in a process that does not run the task; a worker that registers a task
    /// of the same name with a handler runs the jobs. The source generator creates these for the tasks of a
    /// <c>[TaskContract]</c> interface. A contract cannot be passed to <c>AddTask</c>.
    /// </summary>
    public static JobTask<TPayload> CreateContract<TPayload>(string name, JobSerializer<TPayload> payloadSerializer, TaskSettings? settings = null) =>
        new(name, settings ?? TaskSettings.Default, payloadSerializer, handler: null, contract: true);

    /// <summary>Creates the producer side of a task with a result (see <see cref="CreateContract{TPayload}"/>).</summary>
    public static JobTask<TPayload, TResult> CreateContract<TPayload, TResult>(string name, JobSerializer<TPayload> payloadSerializer,
        JobSerializer<TResult> resultSerializer, TaskSettings? settings = null) =>
        new(name, settings ?? TaskSettings.Default, payloadSerializer, resultSerializer, handler: null, contract: true);

    private protected InvalidOperationException NoHandler() =>
        new($"Task '{Name}' is a contract without a handler in this process; a worker that implements the contract runs its jobs.");
}

/// <summary>A registered task taking a payload of type <typeparamref name="TPayload"/>.</summary>
public class JobTask<TPayload> : JobTask
{
    private readonly JobHandler<TPayload>? handler;

    private protected JobTask(string name, TaskSettings settings, JobSerializer<TPayload> payloadSerializer)
        : base(name, settings)
    {
        ArgumentNullException.ThrowIfNull(payloadSerializer);
        PayloadSerializer = payloadSerializer;
    }

    internal JobTask(string name, TaskSettings settings, JobSerializer<TPayload> payloadSerializer, JobHandler<TPayload> handler)
        : this(name, settings, payloadSerializer)
    {
        ArgumentNullException.ThrowIfNull(handler);
        this.handler = handler;
    }

    internal JobTask(string name, TaskSettings settings, JobSerializer<TPayload> payloadSerializer, JobHandler<TPayload>? handler, bool contract)
        : this(name, settings, payloadSerializer)
    {
        if (!contract)
        {
            ArgumentNullException.ThrowIfNull(handler);
        }

        this.handler = handler;
    }

    /// <summary>The payload serializer.</summary>
    public JobSerializer<TPayload> PayloadSerializer { get; }

    /// <inheritdoc />
    public override bool HasResult => false;

    /// <inheritdoc />
    public override bool HasHandler => handler is not null;

    internal TPayload Decode(ReadOnlySpan<byte> payload)
    {
        try
        {
            return PayloadSerializer.Deserialize(payload);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            throw new InvalidPayloadException(Name, ex);
        }
    }

    internal override object? DecodePayload(ReadOnlySpan<byte> payload) => Decode(payload);

    /// <inheritdoc />
    public override bool HasSensitiveMembers => PayloadSerializer.HasSensitiveMembers;

    /// <inheritdoc />
    public override string RedactPayload(ReadOnlySpan<byte> payload)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(Math.Max(16, payload.Length));
        // Relaxed escaping keeps the text readable (quotes, accents, '<'); consumers escape it where they show it.
        using (var writer = new System.Text.Json.Utf8JsonWriter(buffer, new System.Text.Json.JsonWriterOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            PayloadSerializer.Redact(payload, writer);
        }

        return System.Text.Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    internal override async ValueTask<byte[]?> InvokeAsync(ReadOnlyMemory<byte> payload, JobContext context)
    {
        if (handler is null)
        {
            throw NoHandler();
        }

        var value = Decode(payload.Span);
        await handler(value, context).ConfigureAwait(false);
        return null;
    }
}

/// <summary>A registered task taking <typeparamref name="TPayload"/> and producing <typeparamref name="TResult"/>.</summary>
public sealed class JobTask<TPayload, TResult> : JobTask<TPayload>
{
    private readonly JobHandler<TPayload, TResult>? handler;

    internal JobTask(string name, TaskSettings settings, JobSerializer<TPayload> payloadSerializer,
        JobSerializer<TResult> resultSerializer, JobHandler<TPayload, TResult>? handler, bool contract = false)
        : base(name, settings, payloadSerializer)
    {
        ArgumentNullException.ThrowIfNull(resultSerializer);
        if (!contract)
        {
            ArgumentNullException.ThrowIfNull(handler);
        }

        ResultSerializer = resultSerializer;
        this.handler = handler;
    }

    /// <summary>The result serializer.</summary>
    public JobSerializer<TResult> ResultSerializer { get; }

    /// <inheritdoc />
    public override bool HasResult => true;

    /// <inheritdoc />
    public override bool HasHandler => handler is not null;

    internal override object? DecodeResult(ReadOnlySpan<byte> result) => ResultSerializer.Deserialize(result);

    internal override async ValueTask<byte[]?> InvokeAsync(ReadOnlyMemory<byte> payload, JobContext context)
    {
        if (handler is null)
        {
            throw NoHandler();
        }

        var value = Decode(payload.Span);
        var result = await handler(value, context).ConfigureAwait(false);
        return ResultSerializer.ToBytes(result);
    }
}

/// <summary>Raised when a stored payload cannot be read by the task's serializer; the job is dead-lettered at once.</summary>
public sealed class InvalidPayloadException : Exception
{
    /// <summary>Creates the exception.</summary>
    public InvalidPayloadException(string taskName, Exception innerException)
        : base($"The stored payload of task '{taskName}' could not be read: {innerException.Message}", innerException)
    {
        TaskName = taskName;
    }

    /// <summary>The task whose payload failed.</summary>
    public string TaskName { get; }
}
