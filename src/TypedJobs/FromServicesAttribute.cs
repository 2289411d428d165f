namespace TypedJobs;

/// <summary>
/// Marks a parameter of a <c>[Task]</c> method that is resolved from the job's dependency-injection scope when the
/// job runs, instead of being part of the payload. A nullable or defaulted parameter is optional.
/// </summary>
[AttributeUsage(AttributeTargets.Parameter, AllowMultiple = false, Inherited = false)]
public sealed class FromServicesAttribute : Attribute
{
}
