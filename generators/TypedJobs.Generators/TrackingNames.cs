namespace TypedJobs.Generators;

/// <summary>The tracking names of the generator's incremental steps (tests assert on their cache behaviour).</summary>
internal static class TrackingNames
{
    public const string Parse = nameof(Parse);
    public const string Tasks = nameof(Tasks);
    public const string AllTasks = nameof(AllTasks);
    public const string JsonContexts = nameof(JsonContexts);
    public const string AllJsonContexts = nameof(AllJsonContexts);
    public const string Assembly = nameof(Assembly);
    public const string Types = nameof(Types);
    public const string Json = nameof(Json);
    public const string Registry = nameof(Registry);
    public const string Problems = nameof(Problems);
    public const string AnalyzersOff = nameof(AnalyzersOff);
    public const string ContractTasks = nameof(ContractTasks);
    public const string AllContractTasks = nameof(AllContractTasks);
    public const string ContractTypes = nameof(ContractTypes);
    public const string Implementations = nameof(Implementations);
    public const string AllImplementations = nameof(AllImplementations);
    public const string TaskShapes = nameof(TaskShapes);
    public const string AssemblyContract = nameof(AssemblyContract);

    public static readonly string[] All =
    [
        Parse, Tasks, AllTasks, JsonContexts, AllJsonContexts, Assembly, Types, Json, Registry, Problems, AnalyzersOff,
        ContractTasks, AllContractTasks, ContractTypes, Implementations, AllImplementations, TaskShapes, AssemblyContract,
    ];
}
