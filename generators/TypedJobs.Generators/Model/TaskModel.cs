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
/// <param name="Source">Where the argument comes from.</param>
/// <param name="TypeKey">The key of the type's shape in <see cref="TaskModel.Types"/> (payload parameters only).</param>
/// <param name="IsValueType">Whether the type is a value type.</param>
/// <param name="DefaultValue">The default value as a C# constant expression, or <see langword="null"/> when there is none.</param>
/// <param name="Documentation">The inner XML of the parameter's <c>&lt;param&gt;</c> documentation.</param>
internal sealed record ParameterModel(
    string Name,
    string Type,
    ArgumentSource Source,
    string TypeKey,
    bool IsValueType,
    string? DefaultValue,
    string? Documentation);

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

/// <summary>Everything the emitter needs to know about one <c>[Task]</c> method.</summary>
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
    LocationInfo? Location)
{
    public bool HasResult => ResultType is not null;
}

/// <summary>A type a user <c>JsonSerializerContext</c> declares with <c>[JsonSerializable]</c>.</summary>
/// <param name="TypeName">The type, fully qualified, without nullable annotations.</param>
/// <param name="Context">The context type, fully qualified.</param>
internal sealed record JsonContextEntry(string TypeName, string Context);

/// <summary>Facts about the compilation the emitter needs: its name and the task registries it references.</summary>
internal sealed record AssemblyModel(string AssemblyName, EquatableArray<string> ReferencedRegistries);
