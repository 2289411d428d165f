namespace TypedJobs;

/// <summary>The priority of a job. Workers claim higher priorities first, then earlier due times, then earlier inserts.</summary>
public enum Priority
{
    /// <summary>Runs after every other waiting job of its queue.</summary>
    Low = 0,

    /// <summary>The default priority.</summary>
    Normal = 1,

    /// <summary>Runs before normal and low priority jobs.</summary>
    High = 2,

    /// <summary>Runs before every other job of its queue.</summary>
    Critical = 3,
}
