namespace TypedJobs.Contracts;

/// <summary>
/// The contract of one task as compiled into an assembly: its stable name, declared queue and payload shape — what
/// producers and workers of the task must agree on. The source generator emits one for every <c>[Task]</c> method, every
/// task of a <c>[TaskContract]</c> interface and every implementation of one, and registers it with
/// <c>AddTypedJobs(...)</c>; <see cref="DeployedContracts"/> collects them.
/// </summary>
public sealed record TaskContractInfo
{
    /// <summary>The stable task name stored with every job.</summary>
    public required string Name { get; init; }

    /// <summary>The queue the task declares, or <see langword="null"/> for the host's default queue.</summary>
    public string? Queue { get; init; }

    /// <summary>
    /// The task's shape as canonical JSON: name, queue, payload parameters (names, types, which have defaults), result type,
    /// and the object and enum types they use (members, enum values) — the entry a contract baseline
    /// (<c>TypedJobs.contract.json</c>) records for the task, with the types it uses. <see langword="null"/> for tasks
    /// registered by hand.
    /// </summary>
    public string? Shape { get; init; }

    /// <summary>A hash of <see cref="Shape"/> (16 hexadecimal digits of its SHA-256), or <see langword="null"/> without a shape.</summary>
    public string? Hash { get; init; }

    /// <summary>The assembly that declares or implements the task, when known.</summary>
    public string? Assembly { get; init; }
}
