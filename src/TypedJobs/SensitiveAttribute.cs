namespace TypedJobs;

/// <summary>
/// Marks a payload value that operators must not see: a parameter of a <c>[Task]</c> method, or a property or field
/// (or a record's constructor parameter) of a type used in a payload. The job still receives the value; wherever
/// TypedJobs shows a payload (the admin API and dashboard, tools that use <see cref="Registration.JobTask.RedactPayload"/>)
/// the value is replaced by <c>"***"</c>, whatever it was, <see langword="null"/> included. The source generator emits the
/// redaction for each task; TypedJobs never writes payloads to logs.
/// </summary>
[AttributeUsage(AttributeTargets.Parameter | AttributeTargets.Property | AttributeTargets.Field, AllowMultiple = false, Inherited = true)]
public sealed class SensitiveAttribute : Attribute
{
}
