namespace TypedJobs.AspNetCore;

/// <summary>
/// Settings of the admin API and dashboard mapped by <c>MapTypedJobsAdmin</c>. The defaults are the secure ones:
/// every request needs an authorized user, and every change needs an antiforgery token.
/// </summary>
public sealed class TypedJobsAdminOptions
{
    /// <summary>
    /// The authorization policy every request (pages and API) must satisfy. <see langword="null"/> (the default) uses the
    /// application's default policy, which requires an authenticated user unless the application changed it. A named
    /// policy that does not exist stops startup.
    /// </summary>
    public string? AuthorizationPolicy { get; set; }

    /// <summary>
    /// Serves everything without authentication or authorization. <b>Insecure</b>: anyone who can reach the address can
    /// read payloads and retry, cancel or delete jobs. Only for a dashboard bound to a loopback address on a developer's
    /// machine. Default <see langword="false"/>.
    /// </summary>
    public bool InsecureAllowAnonymousAccess { get; set; }

    /// <summary>
    /// Accepts changes (POST requests) without an antiforgery token. <b>Insecure</b> with cookie authentication: any web
    /// page the operator visits could make their browser retry or delete jobs. Only for APIs authenticated by a header
    /// the browser never sends on its own (bearer tokens). Default <see langword="false"/>.
    /// </summary>
    public bool InsecureDisableAntiforgery { get; set; }

    /// <summary>
    /// Serves reads only: every endpoint that changes something answers 403 and the dashboard hides its buttons.
    /// Default <see langword="false"/>.
    /// </summary>
    public bool ReadOnly { get; set; }

    /// <summary>
    /// Shows the payloads of jobs whose task is not registered in this process. Default <see langword="false"/>: such a
    /// payload is hidden, because without the task this process cannot know which members are marked
    /// <see cref="SensitiveAttribute"/>. Set it only when no task of the store has sensitive members.
    /// </summary>
    public bool ShowPayloadsOfUnregisteredTasks { get; set; }

    /// <summary>How often the dashboard refreshes the page it shows (it can be paused). Default 2 seconds; at least 0.5 seconds.</summary>
    public TimeSpan RefreshInterval { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>The title shown in the dashboard's header and the browser tab. Default <c>TypedJobs</c>.</summary>
    public string Title { get; set; } = "TypedJobs";

    internal void Validate(string prefix)
    {
        if (RefreshInterval < TimeSpan.FromMilliseconds(500) || RefreshInterval > TimeSpan.FromHours(1))
        {
            throw new InvalidOperationException(
                $"TypedJobs admin at '{prefix}': RefreshInterval = {RefreshInterval} must be between 0.5 seconds and 1 hour.");
        }

        if (string.IsNullOrWhiteSpace(Title) || Title.Length > 100)
        {
            throw new InvalidOperationException($"TypedJobs admin at '{prefix}': Title must have 1-100 characters.");
        }

        if (AuthorizationPolicy is not null && string.IsNullOrWhiteSpace(AuthorizationPolicy))
        {
            throw new InvalidOperationException($"TypedJobs admin at '{prefix}': AuthorizationPolicy must be null (the default policy) or a policy name.");
        }

        if (AuthorizationPolicy is not null && InsecureAllowAnonymousAccess)
        {
            throw new InvalidOperationException(
                $"TypedJobs admin at '{prefix}': AuthorizationPolicy '{AuthorizationPolicy}' and InsecureAllowAnonymousAccess contradict each other; set one.");
        }
    }
}
