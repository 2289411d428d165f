namespace TypedJobs.Generators.Model;

/// <summary>Everything the source output needs: the assembly's tasks, the user's JSON contexts and the assembly facts.</summary>
internal sealed record GenerationModel(
    EquatableArray<TaskModel> Tasks,
    EquatableArray<JsonContextEntry> Contexts,
    AssemblyModel Assembly);
