using System.Collections.Immutable;
using Microsoft.CodeAnalysis;

namespace TypedJobs.Generators.Diagnostics;

/// <summary>
/// Every TypedJobs diagnostic. This one file is compiled into the generator and the analyzers (linked), so IDs,
/// titles and messages exist once. IDs are stable and never renumbered or reused: TJ1xxx declaration rules,
/// TJ2xxx usage rules, TJ3xxx configuration rules, TJ4xxx contract drift rules. Each has a page at docs/diagnostics/{ID}.md and an entry in
/// AnalyzerReleases.Shipped.md or AnalyzerReleases.Unshipped.md.
/// </summary>
internal static class DiagnosticDescriptors
{
    /// <summary>Where the pages of docs/diagnostics are published; a rule's help link is this plus <c>{ID}.md</c>.</summary>
    public const string HelpLinkBase = "https://github.com/typedjobs/typedjobs/blob/main/docs/diagnostics/";

    private const string Declaration = "TypedJobs.Declaration";
    private const string Usage = "TypedJobs.Usage";
    private const string Configuration = "TypedJobs.Configuration";
    private const string Contract = "TypedJobs.Contract";

    /// <summary>How the contract drift messages tell the user to accept an intended change.</summary>
    private const string UpdateBaseline = "update the baseline (dotnet build -t:UpdateTaskContract)";

    public static readonly DiagnosticDescriptor UnsupportedReturnType = new(
        "TJ1001",
        "Unsupported task return type",
        "Task method '{0}' returns '{1}'; return void, Task, ValueTask, Task<T>, ValueTask<T> or a serializable value",
        Declaration,
        DiagnosticSeverity.Error,
        isEnabledByDefault: true,
        helpLinkUri: HelpLinkBase + "TJ1001.md");

    public static readonly DiagnosticDescriptor UnsupportedParameter = new(
        "TJ1002",
        "Unsupported task parameter",
        "Parameter '{0}' of task method '{1}' is {2}; task arguments are stored as JSON and passed by value, so declare it as a plain by-value parameter of a serializable type",
        Declaration,
        DiagnosticSeverity.Error,
        isEnabledByDefault: true,
        helpLinkUri: HelpLinkBase + "TJ1002.md");

    public static readonly DiagnosticDescriptor GenericTask = new(
        "TJ1003",
        "Generic task method or containing type",
        "Task method '{0}' is generic or declared in a generic type; declare the task as a non-generic method of a non-generic type",
        Declaration,
        DiagnosticSeverity.Error,
        isEnabledByDefault: true,
        helpLinkUri: HelpLinkBase + "TJ1003.md");

    public static readonly DiagnosticDescriptor InaccessibleTask = new(
        "TJ1004",
        "Inaccessible task method or containing type",
        "Task method '{0}' cannot be called by generated code because {1} is {2}; make it public or internal",
        Declaration,
        DiagnosticSeverity.Error,
        isEnabledByDefault: true,
        helpLinkUri: HelpLinkBase + "TJ1004.md");

    public static readonly DiagnosticDescriptor NoConstructor = new(
        "TJ1005",
        "Instance task type cannot be created",
        "Instance task '{0}' is declared in '{1}', which {2}; make the method static or give the type one public or internal constructor with the most parameters",
        Declaration,
        DiagnosticSeverity.Error,
        isEnabledByDefault: true,
        helpLinkUri: HelpLinkBase + "TJ1005.md");

    public static readonly DiagnosticDescriptor DuplicateTaskName = new(
        "TJ1006",
        "Duplicate task name",
        "Task name '{0}' of '{1}' is already used by {2}; set a distinct Name in [Task]",
        Declaration,
        DiagnosticSeverity.Error,
        isEnabledByDefault: true,
        helpLinkUri: HelpLinkBase + "TJ1006.md",
        customTags: WellKnownDiagnosticTags.CompilationEnd);

    public static readonly DiagnosticDescriptor NoSerializer = new(
        "TJ1007",
        "Type has no serializer",
        "Type '{0}' used by task '{1}' cannot be serialized: {2}; add [JsonSerializable(typeof({0}))] to a JsonSerializerContext in this assembly, or use a supported type",
        Declaration,
        DiagnosticSeverity.Error,
        isEnabledByDefault: true,
        helpLinkUri: HelpLinkBase + "TJ1007.md");

    public static readonly DiagnosticDescriptor RecurringTaskParameter = new(
        "TJ1008",
        "Recurring task parameter without a default value",
        "Parameter '{0}' of recurring task '{1}' has no default value, but scheduled runs are enqueued without arguments; give it a default value or remove it",
        Declaration,
        DiagnosticSeverity.Error,
        isEnabledByDefault: true,
        helpLinkUri: HelpLinkBase + "TJ1008.md");

    public static readonly DiagnosticDescriptor UnobservedCancellationToken = new(
        "TJ1009",
        "Task never observes its cancellation token",
        "Task method '{0}' never uses its CancellationToken '{1}', so a timeout or cancel cannot stop it; pass the token to the calls that accept one",
        Declaration,
        DiagnosticSeverity.Info,
        isEnabledByDefault: true,
        helpLinkUri: HelpLinkBase + "TJ1009.md");

    public static readonly DiagnosticDescriptor MissingCancellationToken = new(
        "TJ1010",
        "Task cannot be cancelled",
        "Task method '{0}' calls '{1}', which accepts a CancellationToken, but the task has none; add a CancellationToken parameter and pass it on so a timeout or cancel can stop the job",
        Declaration,
        DiagnosticSeverity.Info,
        isEnabledByDefault: true,
        helpLinkUri: HelpLinkBase + "TJ1010.md");

    public static readonly DiagnosticDescriptor AsyncVoidTask = new(
        "TJ1011",
        "Async void task",
        "Task method '{0}' is async void: the job would succeed before its work ends, and an exception would escape the worker; return Task instead",
        Declaration,
        DiagnosticSeverity.Error,
        isEnabledByDefault: true,
        helpLinkUri: HelpLinkBase + "TJ1011.md");

    public static readonly DiagnosticDescriptor ContractMismatch = new(
        "TJ1012",
        "Handler does not match its contract",
        "'{0}' does not match the contract task '{1}': {2}",
        Declaration,
        DiagnosticSeverity.Error,
        isEnabledByDefault: true,
        helpLinkUri: HelpLinkBase + "TJ1012.md");

    public static readonly DiagnosticDescriptor ContractSettingOnImplementation = new(
        "TJ1013",
        "Implementation sets a contract setting",
        "[Task] {0} on '{1}' belongs to the contract task '{2}'; an implementation may set only Timeout and MaxConcurrency: declare it on the contract",
        Declaration,
        DiagnosticSeverity.Error,
        isEnabledByDefault: true,
        helpLinkUri: HelpLinkBase + "TJ1013.md");

    public static readonly DiagnosticDescriptor EnqueueInLoop = new(
        "TJ2001",
        "Enqueue in a loop",
        "'{0}' is called inside a loop, one store round trip per job; collect the arguments and call '{1}' once to enqueue them atomically",
        Usage,
        DiagnosticSeverity.Info,
        isEnabledByDefault: true,
        helpLinkUri: HelpLinkBase + "TJ2001.md");

    public static readonly DiagnosticDescriptor UnimplementedContract = new(
        "TJ2002",
        "Task contract not implemented in a worker host",
        "This host runs a worker, but nothing in it or its references implements the task contract '{0}' ({1}), so no worker here runs its jobs; implement the interface, reference the assembly that does, or suppress TJ2002 where another deployment runs it",
        Usage,
        DiagnosticSeverity.Warning,
        isEnabledByDefault: true,
        helpLinkUri: HelpLinkBase + "TJ2002.md",
        customTags: WellKnownDiagnosticTags.CompilationEnd);

    public static readonly DiagnosticDescriptor InvalidTimeSpan = new(
        "TJ3001",
        "Invalid time span in [Task]",
        "[Task] {0} = \"{1}\" on '{2}' is not a valid {3} time span; use the TimeSpan format [d.]hh:mm:ss[.fffffff], such as \"00:05:00\"",
        Configuration,
        DiagnosticSeverity.Error,
        isEnabledByDefault: true,
        helpLinkUri: HelpLinkBase + "TJ3001.md");

    public static readonly DiagnosticDescriptor InvalidUnique = new(
        "TJ3002",
        "Invalid Unique setting in [Task]",
        "[Task] Unique = \"{0}\" on '{1}' is invalid; use \"true\", \"false\" or a positive time span such as \"00:10:00\"",
        Configuration,
        DiagnosticSeverity.Error,
        isEnabledByDefault: true,
        helpLinkUri: HelpLinkBase + "TJ3002.md");

    public static readonly DiagnosticDescriptor InvalidNumber = new(
        "TJ3003",
        "Invalid number in [Task]",
        "[Task] {0} = {1} on '{2}' is out of range; {3}",
        Configuration,
        DiagnosticSeverity.Error,
        isEnabledByDefault: true,
        helpLinkUri: HelpLinkBase + "TJ3003.md");

    public static readonly DiagnosticDescriptor InvalidCron = new(
        "TJ3004",
        "Invalid cron expression in [Task]",
        "[Task] Cron = \"{0}\" on '{1}' is invalid: {2}",
        Configuration,
        DiagnosticSeverity.Error,
        isEnabledByDefault: true,
        helpLinkUri: HelpLinkBase + "TJ3004.md");

    public static readonly DiagnosticDescriptor InvalidTimeZone = new(
        "TJ3005",
        "Invalid time zone in [Task]",
        "[Task] TimeZone = \"{0}\" on '{1}' is invalid: {2}",
        Configuration,
        DiagnosticSeverity.Error,
        isEnabledByDefault: true,
        helpLinkUri: HelpLinkBase + "TJ3005.md");

    public static readonly DiagnosticDescriptor InvalidQueueName = new(
        "TJ3006",
        "Invalid queue name in [Task]",
        "[Task] Queue = \"{0}\" on '{1}' is not a valid queue name; use 1-100 characters of letters, digits, '-', '_', '.' or ':', or leave Queue unset for the default queue",
        Configuration,
        DiagnosticSeverity.Error,
        isEnabledByDefault: true,
        helpLinkUri: HelpLinkBase + "TJ3006.md");

    public static readonly DiagnosticDescriptor InvalidSchedule = new(
        "TJ3007",
        "Conflicting schedule settings in [Task]",
        "The schedule of '{0}' is invalid: {1}",
        Configuration,
        DiagnosticSeverity.Error,
        isEnabledByDefault: true,
        helpLinkUri: HelpLinkBase + "TJ3007.md");

    public static readonly DiagnosticDescriptor ContractTaskRemoved = new(
        "TJ4001",
        "Task removed or renamed",
        "Task '{0}' of the contract baseline no longer exists{1}, so jobs stored under its name would never run; pin the name with [Task(Name = \"{0}\")], or " + UpdateBaseline + " once no job of it can be waiting",
        Contract,
        DiagnosticSeverity.Error,
        isEnabledByDefault: true,
        helpLinkUri: HelpLinkBase + "TJ4001.md",
        customTags: WellKnownDiagnosticTags.CompilationEnd);

    public static readonly DiagnosticDescriptor ContractMemberWithoutDefault = new(
        "TJ4002",
        "Payload member without a default value",
        "{0} {1}, so payloads stored before this change have no value for it and would fail; give it a default value, or " + UpdateBaseline + " once no such job can be waiting",
        Contract,
        DiagnosticSeverity.Error,
        isEnabledByDefault: true,
        helpLinkUri: HelpLinkBase + "TJ4002.md",
        customTags: WellKnownDiagnosticTags.CompilationEnd);

    public static readonly DiagnosticDescriptor ContractTypeChanged = new(
        "TJ4003",
        "Payload type changed",
        "The type of {0} changed from '{1}' to '{2}', so payloads stored with the old type may not read; keep the type (add a new parameter or member instead), or " + UpdateBaseline + " once no such job can be waiting",
        Contract,
        DiagnosticSeverity.Error,
        isEnabledByDefault: true,
        helpLinkUri: HelpLinkBase + "TJ4003.md",
        customTags: WellKnownDiagnosticTags.CompilationEnd);

    public static readonly DiagnosticDescriptor ContractEnumChanged = new(
        "TJ4004",
        "Enum member renumbered or removed",
        "Enum '{0}' {1}; payloads store enum values as numbers, so jobs already stored would read another member or none; keep the value, or " + UpdateBaseline + " once no such job can be waiting",
        Contract,
        DiagnosticSeverity.Error,
        isEnabledByDefault: true,
        helpLinkUri: HelpLinkBase + "TJ4004.md",
        customTags: WellKnownDiagnosticTags.CompilationEnd);

    public static readonly DiagnosticDescriptor ContractMemberRemoved = new(
        "TJ4005",
        "Payload member removed",
        "{0} was removed, but payloads stored before this change still hold it and its value would be ignored; keep it (unused if need be), or " + UpdateBaseline + " once no such job can be waiting",
        Contract,
        DiagnosticSeverity.Error,
        isEnabledByDefault: true,
        helpLinkUri: HelpLinkBase + "TJ4005.md",
        customTags: WellKnownDiagnosticTags.CompilationEnd);

    public static readonly DiagnosticDescriptor ContractQueueChanged = new(
        "TJ4006",
        "Task queue changed",
        "Task '{0}' moved from queue '{1}' to '{2}', but its jobs already stored wait in the old queue; keep the queue, or " + UpdateBaseline + " once the old queue is drained or still served",
        Contract,
        DiagnosticSeverity.Error,
        isEnabledByDefault: true,
        helpLinkUri: HelpLinkBase + "TJ4006.md",
        customTags: WellKnownDiagnosticTags.CompilationEnd);

    public static readonly DiagnosticDescriptor ContractBaselineOutdated = new(
        "TJ4007",
        "Contract baseline out of date",
        "The contract baseline does not record {0} yet; " + UpdateBaseline + " so that later changes are checked against it",
        Contract,
        DiagnosticSeverity.Info,
        isEnabledByDefault: true,
        helpLinkUri: HelpLinkBase + "TJ4007.md",
        customTags: WellKnownDiagnosticTags.CompilationEnd);

    public static readonly DiagnosticDescriptor ContractBaselineInvalid = new(
        "TJ4008",
        "Contract baseline cannot be read",
        "'{0}' is not a contract baseline this version of TypedJobs can read: {1}; fix it, or write it anew (dotnet build -t:UpdateTaskContract)",
        Contract,
        DiagnosticSeverity.Error,
        isEnabledByDefault: true,
        helpLinkUri: HelpLinkBase + "TJ4008.md",
        customTags: WellKnownDiagnosticTags.CompilationEnd);

    /// <summary>Every descriptor, in ID order.</summary>
    public static ImmutableArray<DiagnosticDescriptor> All { get; } =
    [
        UnsupportedReturnType, UnsupportedParameter, GenericTask, InaccessibleTask, NoConstructor, DuplicateTaskName,
        NoSerializer, RecurringTaskParameter, UnobservedCancellationToken, MissingCancellationToken, AsyncVoidTask,
        ContractMismatch, ContractSettingOnImplementation, EnqueueInLoop, UnimplementedContract,
        InvalidTimeSpan, InvalidUnique, InvalidNumber, InvalidCron, InvalidTimeZone, InvalidQueueName, InvalidSchedule,
        ContractTaskRemoved, ContractMemberWithoutDefault, ContractTypeChanged, ContractEnumChanged, ContractMemberRemoved,
        ContractQueueChanged, ContractBaselineOutdated, ContractBaselineInvalid,
    ];
}
