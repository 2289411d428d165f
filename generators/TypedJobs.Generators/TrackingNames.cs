namespace TypedJobs.Generators;

/// <summary>The tracking names of the generator's incremental steps (tests assert on their cache behaviour).</summary>
internal static class TrackingNames
{
    public const string Parse = nameof(Parse);
    public const string Tasks = nameof(Tasks);
    public const string AllTasks = nameof(AllTasks);
    public const string ParseDiagnostics = nameof(ParseDiagnostics);
    public const string JsonContexts = nameof(JsonContexts);
    public const string AllJsonContexts = nameof(AllJsonContexts);
    public const string Assembly = nameof(Assembly);
    public const string Generation = nameof(Generation);
    public const string SetDiagnostics = nameof(SetDiagnostics);

    public static readonly string[] All =
    [
        Parse, Tasks, AllTasks, ParseDiagnostics, JsonContexts, AllJsonContexts, Assembly, Generation, SetDiagnostics,
    ];
}
