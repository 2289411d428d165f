namespace TypedJobs.Generators.Model;

/// <summary>What the runner does with the per-job instance after an instance task ran.</summary>
internal enum DisposeKind
{
    None,
    Disposable,
    AsyncDisposable,
}

/// <summary>A parameter of a task method or of an instance task's constructor.</summary>
/// <param name="Name">The identifier as declared, without a leading <c>@</c>.</param>
/// <param name="Type">The fully qualified type, with nullable annotations.</param>
/// <param name="SignatureType">The type as it counts in a method signature (no nullable reference annotations).</param>
/// <param name="Source">Where the argument comes from.</param>
/// <param name="TypeKey">The key of the type's shape in <see cref="TaskModel.Types"/> (payload parameters only).</param>
/// <param name="IsValueType">Whether the type is a value type.</param>
/// <param name="DefaultValue">The default value as a C# constant expression, or <see langword="null"/> when there is none.</param>
/// <param name="Documentation">The inner XML of the parameter's <c>&lt;param&gt;</c> documentation.</param>
/// <param name="IsParams">Whether the parameter is a <c>params</c> collection (an empty one when its key is missing).</param>
/// <param name="RejectsNull">Whether JSON <c>null</c> is refused (a non-nullable reference type in nullable-aware code).</param>
/// <param name="ServiceKey">For keyed services: the key as a C# expression.</param>
/// <param name="IsSensitive">Whether the parameter is marked <c>[Sensitive]</c> (its value is redacted for display).</param>
internal sealed record ParameterModel(
    string Name,
    string Type,
    string SignatureType,
    ArgumentSource Source,
    string TypeKey,
    bool IsValueType,
    string? DefaultValue,
    string? Documentation,
    bool IsParams = false,
    bool RejectsNull = false,
    string? ServiceKey = null,
    bool IsSensitive = false);

/// <summary>The attribute's settings, validated and converted to what <c>TaskSettings</c> takes.</summary>
internal sealed record SettingsModel(
    string? Queue,
    string? Priority,
    int? MaxRetries,
    long? RetryDelayTicks,
    long? MaxRetryDelayTicks,
    long? TimeoutTicks,
    bool UniqueByPayload,
    long? UniqueWindowTicks,
    int MaxConcurrency,
    string? Cron,
    string? TimeZone,
    long? IntervalTicks);

/// <summary>Everything the emitter needs to know about one <c>[Task]</c> method. It carries no source location.</summary>
/// <remarks>
/// For the implementation of a contract task, the containing type is the implementing class, everything else comes from
/// the contract's method, and <see cref="Interface"/> names the contract through which the handler calls it.
/// </remarks>
internal sealed record TaskModel(
    string Namespace,
    string ContainingType,
    string ContainingTypePath,
    string MethodName,
    string TaskName,
    bool IsStatic,
    bool IsPublic,
    ReturnKind ReturnKind,
    string? ResultType,
    string? ResultTypeKey,
    EquatableArray<ParameterModel> Parameters,
    EquatableArray<ParameterModel> ConstructorParameters,
    DisposeKind Dispose,
    SettingsModel Settings,
    string? Summary,
    EquatableArray<TypeShape> Types,
    string? Interface = null)
{
    public bool HasResult => ResultType is not null;
}

/// <summary>A type a user <c>JsonSerializerContext</c> declares with <c>[JsonSerializable]</c>.</summary>
/// <param name="TypeName">The type, fully qualified, without nullable annotations.</param>
/// <param name="Context">The context type, fully qualified.</param>
internal sealed record JsonContextEntry(string TypeName, string Context);

/// <summary>Facts about the compilation the emitter needs: its name and the task registries it references.</summary>
internal sealed record AssemblyModel(string AssemblyName, EquatableArray<string> ReferencedRegistries);

/// <summary>
/// A diagnostic the generator reports itself (only when the analyzers do not run): the descriptor's ID, where, and the
/// message arguments.
/// </summary>
internal sealed record DiagnosticInfo(string Id, LocationInfo? Location, EquatableArray<string> Arguments);

/// <summary>The parse step's result for one <c>[Task]</c> method: the model of a valid task, or the problems that skip it.</summary>
internal sealed record ParseResult(TaskModel? Task, EquatableArray<DiagnosticInfo> Problems);

/// <summary>The tasks of one containing type: one generated extension class, one source file.</summary>
/// <param name="Namespace">The type's namespace (empty for the global namespace).</param>
/// <param name="ClassName">The generated class's name.</param>
/// <param name="HintName">The generated file's hint name, unique in the compilation.</param>
/// <param name="JsonClass">The fully qualified name of the assembly's JSON helper class.</param>
/// <param name="Tasks">The tasks, in declaration order.</param>
/// <param name="StubNames">Per task, the name fragment of its stubs (<c>Enqueue{fragment}Async</c>).</param>
internal sealed record TypeTasksModel(
    string Namespace,
    string ClassName,
    string HintName,
    string JsonClass,
    EquatableArray<TaskModel> Tasks,
    EquatableArray<string> StubNames);

/// <summary>Everything the assembly's JSON helper file needs: every shape used by a task, and the user's contexts.</summary>
internal sealed record JsonModel(string ClassName, EquatableArray<TypeShape> Shapes, EquatableArray<JsonContextEntry> Contexts);

/// <summary>Everything the registry file needs.</summary>
internal sealed record RegistryModel(AssemblyModel Assembly, EquatableArray<string> TaskClasses, EquatableArray<string> TaskNames);
