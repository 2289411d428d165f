using Microsoft.CodeAnalysis;

namespace TypedJobs.Generators.Diagnostics;

/// <summary>
/// Every diagnostic the generator reports. IDs are stable and never reused: TJ1xxx declaration rules,
/// TJ3xxx configuration rules. Each is documented in docs/generator.md.
/// </summary>
internal static class DiagnosticDescriptors
{
    private const string Category = "TypedJobs";

    public static readonly DiagnosticDescriptor UnsupportedReturnType = new(
        "TJ1001",
        "Unsupported task return type",
        "Task method '{0}' returns '{1}'; a task returns void, Task, ValueTask, Task<T>, ValueTask<T> or a value",
        Category,
        DiagnosticSeverity.Error,
        isEnabledByDefault: true);

    public static readonly DiagnosticDescriptor UnsupportedParameter = new(
        "TJ1002",
        "Unsupported task parameter",
        "Parameter '{0}' of task method '{1}' is {2}; task parameters are passed by value",
        Category,
        DiagnosticSeverity.Error,
        isEnabledByDefault: true);

    public static readonly DiagnosticDescriptor GenericTask = new(
        "TJ1003",
        "Generic task method or containing type",
        "Task method '{0}' is generic or declared in a generic type; tasks need a closed method",
        Category,
        DiagnosticSeverity.Error,
        isEnabledByDefault: true);

    public static readonly DiagnosticDescriptor InaccessibleTask = new(
        "TJ1004",
        "Inaccessible task method",
        "Task method '{0}' must be public or internal, and so must every type containing it",
        Category,
        DiagnosticSeverity.Error,
        isEnabledByDefault: true);

    public static readonly DiagnosticDescriptor NoConstructor = new(
        "TJ1005",
        "Instance task type cannot be created",
        "Instance task '{0}' is declared in '{1}', which {2}; make the method static or give the type a public or internal constructor",
        Category,
        DiagnosticSeverity.Error,
        isEnabledByDefault: true);

    public static readonly DiagnosticDescriptor DuplicateTaskName = new(
        "TJ1006",
        "Duplicate task name",
        "Task name '{0}' of '{1}' is already used by '{2}'; set a distinct Name in [Task]",
        Category,
        DiagnosticSeverity.Error,
        isEnabledByDefault: true);

    public static readonly DiagnosticDescriptor NoSerializer = new(
        "TJ1007",
        "Type has no serializer",
        "Type '{0}' used by task '{1}' cannot be serialized: {2}. Add [JsonSerializable(typeof({0}))] to a JsonSerializerContext in this assembly.",
        Category,
        DiagnosticSeverity.Error,
        isEnabledByDefault: true);

    public static readonly DiagnosticDescriptor InvalidTimeSpan = new(
        "TJ3001",
        "Invalid time span in [Task]",
        "[Task] {0} = \"{1}\" is not a valid {2} time span (use the TimeSpan format [d.]hh:mm:ss[.fffffff])",
        Category,
        DiagnosticSeverity.Error,
        isEnabledByDefault: true);

    public static readonly DiagnosticDescriptor InvalidUnique = new(
        "TJ3002",
        "Invalid Unique setting in [Task]",
        "[Task] Unique = \"{0}\" must be \"true\", \"false\" or a positive time span",
        Category,
        DiagnosticSeverity.Error,
        isEnabledByDefault: true);

    public static readonly DiagnosticDescriptor InvalidNumber = new(
        "TJ3003",
        "Invalid number in [Task]",
        "[Task] {0} = {1} is out of range: {2}",
        Category,
        DiagnosticSeverity.Error,
        isEnabledByDefault: true);

    private static readonly DiagnosticDescriptor[] All =
    [
        UnsupportedReturnType, UnsupportedParameter, GenericTask, InaccessibleTask, NoConstructor,
        DuplicateTaskName, NoSerializer, InvalidTimeSpan, InvalidUnique, InvalidNumber,
    ];

    public static DiagnosticDescriptor ById(string id)
    {
        foreach (var descriptor in All)
        {
            if (descriptor.Id == id)
            {
                return descriptor;
            }
        }

        throw new System.ArgumentException("Unknown diagnostic id " + id, nameof(id));
    }
}
