namespace TypedJobs.Registration;

/// <summary>
/// Names the generated task registry of an assembly. The source generator puts it on every assembly with
/// <c>[Task]</c> methods, and reads it from the references of the host assembly to register their tasks, so no
/// assembly scanning or reflection is needed at run time.
/// </summary>
[AttributeUsage(AttributeTargets.Assembly, AllowMultiple = false, Inherited = false)]
public sealed class TaskRegistryAttribute : Attribute
{
    /// <summary>Creates the attribute.</summary>
    /// <param name="registryType">A public static class with <c>public static void Register(TypedJobsBuilder builder)</c>.</param>
    public TaskRegistryAttribute(Type registryType)
    {
        ArgumentNullException.ThrowIfNull(registryType);
        RegistryType = registryType;
    }

    /// <summary>The generated registry class.</summary>
    public Type RegistryType { get; }
}
