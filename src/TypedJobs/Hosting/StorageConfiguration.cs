using Microsoft.Extensions.Configuration;
using TypedJobs.Storage;

namespace TypedJobs.Hosting;

/// <summary>
/// Reads <c>TypedJobs:Storage</c> by hand (the binder cannot bind a value that is either a string or an object): its
/// own value is the URL of every role; its children <c>Jobs</c>, <c>Results</c>, <c>Events</c> and
/// <c>Schedules</c> override it per role. Environment variables can set both
/// (<c>TypedJobs__Storage=sqlite:jobs.db</c> and <c>TypedJobs__Storage__Results=file:///var/results</c>); JSON writes
/// either a string or an object.
/// </summary>
internal static class StorageConfiguration
{
    private static readonly StorageRoles[] Roles = [StorageRoles.Jobs, StorageRoles.Results, StorageRoles.Events, StorageRoles.Schedules];

    public static void Read(IConfiguration typedJobs, TypedJobsOptions options)
    {
        var storage = typedJobs.GetSection("Storage");
        foreach (var child in storage.GetChildren())
        {
            if (!Roles.Any(r => string.Equals(r.ToString(), child.Key, StringComparison.OrdinalIgnoreCase)))
            {
                options.ConfigurationErrors.Add(
                    $"Unknown storage key {child.Path}: valid keys under {storage.Path} are Jobs, Results, Events and Schedules (or give {storage.Path} one URL for every role).");
            }
        }

        foreach (var role in Roles)
        {
            var child = storage.GetSection(role.ToString());
            if (!string.IsNullOrWhiteSpace(child.Value))
            {
                options.ConfiguredStorage[role] = Parse(child.Path, child.Value);
            }
            else if (!string.IsNullOrWhiteSpace(storage.Value))
            {
                options.ConfiguredStorage[role] = Parse(storage.Path, storage.Value);
            }
        }
    }

    private static TypedJobsOptions.StorageSetting Parse(string key, string value) =>
        new(StorageUrl.TryParse(value, out _), key, value);
}
