namespace TypedJobs.Registration;

/// <summary>
/// The typed arguments of one job of a task. The source generator emits one sealed record per task
/// (<c>{Method}Arguments</c>, nested in the task's <c>{Type}JobClientExtensions</c> class) whose members are the
/// task's payload parameters; it reads and writes payloads with the task's own generated serializer, never by
/// reflection. Tests use it to assert what was enqueued (the <c>TypedJobs.Testing</c> package) and tools to show a
/// stored payload as the task sees it.
/// </summary>
/// <typeparam name="TSelf">The arguments type itself.</typeparam>
public interface ITaskArguments<TSelf>
    where TSelf : class, ITaskArguments<TSelf>
{
    /// <summary>The stable name of the task these arguments belong to.</summary>
    static abstract string TaskName { get; }

    /// <summary>Reads a stored payload of the task with the task's serializer.</summary>
    /// <exception cref="System.Text.Json.JsonException">The payload does not fit the task's parameters.</exception>
    static abstract TSelf FromPayload(ReadOnlySpan<byte> payload);

    /// <summary>Writes these arguments as the task's payload, exactly as the task's enqueue method would.</summary>
    byte[] ToPayload();
}
