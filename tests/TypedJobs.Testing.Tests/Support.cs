using Microsoft.Extensions.DependencyInjection;
using TypedJobs.Testing;

namespace TypedJobs.Testing.Tests;

internal static class Kits
{
    /// <summary>A standalone kit with the services the sample tasks need.</summary>
    public static Task<JobTestKit> StartAsync(Shop.Calls? calls = null, Action<JobTestOptions>? options = null) =>
        JobTestKit.StartAsync(services: s =>
        {
            s.AddSingleton<Shop.Mailbox>();
            s.AddSingleton(calls ?? new Shop.Calls());
            s.AddSingleton<Shop.Ticks>();
        }, options: options, cancellationToken: TestContext.Current.CancellationToken);
}
