using System.Security.Cryptography;
using Microsoft.AspNetCore.Http;
using Microsoft.Net.Http.Headers;

namespace TypedJobs.AspNetCore.Admin;

/// <summary>The dashboard's static files, read once from the assembly's embedded resources.</summary>
internal static class DashboardFiles
{
    // No inline script or style anywhere, so the policy can forbid both: injected markup cannot run.
    private const string ContentSecurityPolicy =
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
        "font-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

    private static readonly Dictionary<string, StaticFile> Files = Load();

    public static async Task ServeIndexAsync(HttpContext context)
    {
        var path = context.Request.Path.Value ?? "";
        if (!path.EndsWith('/'))
        {
            // Relative URLs in the page (assets/app.js, api/…) need the trailing slash.
            context.Response.Redirect(context.Request.PathBase + path + "/" + context.Request.QueryString);
            return;
        }

        await ServeAsync(context, "index.html").ConfigureAwait(false);
    }

    public static Task ServeAssetAsync(HttpContext context)
    {
        var name = context.Request.RouteValues["file"] as string;
        if (name is null || name == "index.html" || !Files.ContainsKey(name))
        {
            context.Response.StatusCode = StatusCodes.Status404NotFound;
            return Task.CompletedTask;
        }

        return ServeAsync(context, name);
    }

    private static async Task ServeAsync(HttpContext context, string name)
    {
        var file = Files[name];
        var headers = context.Response.Headers;
        headers.ContentSecurityPolicy = ContentSecurityPolicy;
        headers.XContentTypeOptions = "nosniff";
        headers.XFrameOptions = "DENY";
        headers["Referrer-Policy"] = "no-referrer";
        headers.CacheControl = "no-cache";
        headers.ETag = file.ETag;
        if (context.Request.Headers.IfNoneMatch.ToString() == file.ETag)
        {
            context.Response.StatusCode = StatusCodes.Status304NotModified;
            return;
        }

        context.Response.ContentType = file.ContentType;
        context.Response.ContentLength = file.Content.Length;
        if (!HttpMethods.IsHead(context.Request.Method))
        {
            await context.Response.Body.WriteAsync(file.Content, context.RequestAborted).ConfigureAwait(false);
        }
    }

    private static Dictionary<string, StaticFile> Load()
    {
        const string prefix = "TypedJobs.Dashboard.";
        var assembly = typeof(DashboardFiles).Assembly;
        var files = new Dictionary<string, StaticFile>(StringComparer.Ordinal);
        foreach (var resource in assembly.GetManifestResourceNames())
        {
            if (!resource.StartsWith(prefix, StringComparison.Ordinal))
            {
                continue;
            }

            using var stream = assembly.GetManifestResourceStream(resource)!;
            using var memory = new MemoryStream();
            stream.CopyTo(memory);
            var content = memory.ToArray();
            var name = resource[prefix.Length..];
            var etag = new EntityTagHeaderValue("\"" + Convert.ToHexString(SHA256.HashData(content), 0, 8) + "\"").ToString();
            files[name] = new StaticFile(content, ContentTypeOf(name), etag);
        }

        return files;
    }

    private static string ContentTypeOf(string name) => Path.GetExtension(name) switch
    {
        ".html" => "text/html; charset=utf-8",
        ".js" => "text/javascript; charset=utf-8",
        ".css" => "text/css; charset=utf-8",
        ".svg" => "image/svg+xml",
        _ => "application/octet-stream",
    };

    private sealed record StaticFile(byte[] Content, string ContentType, string ETag);
}
