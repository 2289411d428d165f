using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using TypedJobs;
using TypedJobs.AspNetCore;
using TypedJobs.AspNetCore.Admin;

namespace Microsoft.AspNetCore.Builder;

/// <summary>Maps the TypedJobs admin API and dashboard.</summary>
public static class TypedJobsAdminEndpointRouteBuilderExtensions
{
    /// <summary>
    /// Maps the dashboard at <c>{prefix}/</c> and the admin API under <c>{prefix}/api/</c>, and returns their route group
    /// (add endpoint conventions to it as to any group).
    /// <para>Secure by default: every request needs an authorized user (<see cref="TypedJobsAdminOptions.AuthorizationPolicy"/>,
    /// else the application's default policy); every change is a POST that needs an antiforgery token from
    /// <c>api/antiforgery</c>. Startup stops with a message naming the fix when authentication, authorization or
    /// antiforgery services are missing, or the named policy does not exist.</para>
    /// </summary>
    /// <param name="endpoints">The application.</param>
    /// <param name="prefix">The path, e.g. <c>/jobs</c>.</param>
    /// <param name="configure">Changes the <see cref="TypedJobsAdminOptions"/>.</param>
    /// <exception cref="InvalidOperationException">A service the secure defaults need is missing, or the options contradict each other.</exception>
    public static RouteGroupBuilder MapTypedJobsAdmin(this IEndpointRouteBuilder endpoints, string prefix,
        Action<TypedJobsAdminOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        ArgumentNullException.ThrowIfNull(prefix);
        if (!prefix.StartsWith('/') || prefix.Contains("//", StringComparison.Ordinal) || prefix.Contains('{') || prefix.Contains('?'))
        {
            throw new ArgumentException($"The admin prefix '{prefix}' must be a plain path starting with '/', e.g. \"/jobs\".", nameof(prefix));
        }

        prefix = prefix.TrimEnd('/');
        var options = new TypedJobsAdminOptions();
        configure?.Invoke(options);
        var where = prefix.Length == 0 ? "/" : prefix;
        options.Validate(where);
        CheckServices(endpoints.ServiceProvider, options, where);

        var group = endpoints.MapGroup(prefix);
        if (options.InsecureAllowAnonymousAccess)
        {
            group.AllowAnonymous();
        }
        else if (options.AuthorizationPolicy is { } policy)
        {
            group.RequireAuthorization(policy);
        }
        else
        {
            group.RequireAuthorization();
        }

        group.MapMethods("/", [HttpMethods.Get, HttpMethods.Head], DashboardFiles.ServeIndexAsync);
        group.MapMethods("/assets/{file}", [HttpMethods.Get, HttpMethods.Head], DashboardFiles.ServeAssetAsync);
        new AdminEndpoints(options).Map(group);
        return group;
    }

    private static void CheckServices(IServiceProvider services, TypedJobsAdminOptions options, string where)
    {
        if (services.GetService<IJobAdmin>() is null)
        {
            throw new InvalidOperationException(
                $"TypedJobs admin at '{where}' needs TypedJobs: call builder.Services.AddTypedJobs(...) before building the application.");
        }

        if (!options.InsecureAllowAnonymousAccess)
        {
            var policies = services.GetService<IAuthorizationPolicyProvider>();
            if (policies is null || services.GetService<IAuthorizationService>() is null)
            {
                throw new InvalidOperationException(
                    $"TypedJobs admin at '{where}' requires authorization and no authorization services are registered: call builder.Services.AddAuthorization(...) " +
                    "(and AddAuthentication(...) with a scheme). Anonymous access exists only as the explicitly insecure option InsecureAllowAnonymousAccess.");
            }

            var schemes = services.GetService<IAuthenticationSchemeProvider>();
            if (schemes is null || !schemes.GetAllSchemesAsync().GetAwaiter().GetResult().Any())
            {
                throw new InvalidOperationException(
                    $"TypedJobs admin at '{where}' requires authenticated users and no authentication scheme is registered: call builder.Services.AddAuthentication(...) " +
                    "with a scheme (e.g. .AddCookie()). Anonymous access exists only as the explicitly insecure option InsecureAllowAnonymousAccess.");
            }

            if (options.AuthorizationPolicy is { } name && policies.GetPolicyAsync(name).GetAwaiter().GetResult() is null)
            {
                throw new InvalidOperationException(
                    $"TypedJobs admin at '{where}' requires the authorization policy '{name}', which is not defined: add it with builder.Services.AddAuthorization(o => o.AddPolicy(\"{name}\", …)).");
            }
        }

        if (!options.ReadOnly && !options.InsecureDisableAntiforgery)
        {
            if (services.GetService<IAntiforgery>() is null)
            {
                throw new InvalidOperationException(
                    $"TypedJobs admin at '{where}' protects changes with antiforgery tokens and no antiforgery services are registered: call builder.Services.AddAntiforgery(). " +
                    "(A read-only dashboard, ReadOnly = true, needs none.)");
            }

            if (services.GetService<IOptions<AntiforgeryOptions>>()?.Value.HeaderName is null)
            {
                throw new InvalidOperationException(
                    $"TypedJobs admin at '{where}' sends antiforgery tokens in a header, and AntiforgeryOptions.HeaderName is null: set a header name.");
            }
        }
    }
}
