namespace TypedJobs.Generators.Model;

/// <summary>How a task method returns.</summary>
internal enum ReturnKind
{
    Void,
    Task,
    ValueTask,
    TaskOfT,
    ValueTaskOfT,
    Value,
}

/// <summary>Where the generated handler gets a method or constructor argument from.</summary>
internal enum ArgumentSource
{
    /// <summary>Part of the payload: serialized at enqueue, read back when the job runs.</summary>
    Payload,

    /// <summary>The job's cancellation token.</summary>
    CancellationToken,

    /// <summary>The <c>JobContext</c>.</summary>
    Context,

    /// <summary>The job scope's service provider itself.</summary>
    ServiceProvider,

    /// <summary>A required service from the job's scope.</summary>
    Service,

    /// <summary>An optional service from the job's scope (nullable or defaulted parameter).</summary>
    OptionalService,

    /// <summary>A required keyed service (<c>[FromKeyedServices(key)]</c>) from the job's scope.</summary>
    KeyedService,

    /// <summary>An optional keyed service (nullable or defaulted parameter).</summary>
    OptionalKeyedService,
}
