using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using TypedJobs;

namespace WebApp;

/// <summary>
/// The sample application: enqueues through the generated stubs, runs a worker, and serves the dashboard behind a cookie
/// login and health checks. Storage comes from configuration (TypedJobs:Storage), SQLite by default.
/// </summary>
public static class WebAppHost
{
    /// <summary>The policy the dashboard requires: a signed-in user with the role <c>ops</c>.</summary>
    public const string OpsPolicy = "ops";

    /// <summary>Builds the application; <paramref name="services"/> may replace services (tests do).</summary>
    public static WebApplication Build(string[] args, Action<IServiceCollection>? services = null)
    {
        var builder = WebApplication.CreateBuilder(args);

        // Jobs: the [Task] methods of this assembly are registered by generated code; storage and worker from configuration.
        builder.Services.AddTypedJobs(builder.Configuration.GetSection("TypedJobs"))
            .AddWorker(builder.Configuration.GetSection("TypedJobs:Worker"));
        builder.Services.AddSingleton<IReportPages, SlowReportPages>();
        builder.Services.AddSingleton<IImportSource, FolderImportSource>();

        // A simple cookie login. The admin API answers 401/403 instead of redirecting.
        builder.Services.AddAuthentication(CookieAuthenticationDefaults.AuthenticationScheme)
            .AddCookie(o =>
            {
                o.LoginPath = "/login";
                o.Cookie.HttpOnly = true;
                o.Cookie.SameSite = SameSiteMode.Strict;
                o.Events.OnRedirectToLogin = context => ApiAware(context, StatusCodes.Status401Unauthorized);
                o.Events.OnRedirectToAccessDenied = context => ApiAware(context, StatusCodes.Status403Forbidden);
            });

        // The three lines that add the dashboard: a policy, antiforgery, and (below) MapTypedJobsAdmin.
        builder.Services.AddAuthorization(o => o.AddPolicy(OpsPolicy, p => p.RequireRole("ops")));
        builder.Services.AddAntiforgery();
        builder.Services.AddHealthChecks().AddTypedJobs(o => { o.DeadJobsThreshold = 100; o.BacklogThreshold = 10_000; });

        services?.Invoke(builder.Services);
        var app = builder.Build();

        var password = Password(app);
        app.MapGet("/", Home);
        app.MapGet("/login", LoginPage);
        app.MapPost("/login", (HttpContext context) => LoginAsync(context, app.Configuration["Dashboard:User"] ?? "ops", password));
        app.MapPost("/logout", async context =>
        {
            await context.RequestServices.GetRequiredService<IAntiforgery>().ValidateRequestAsync(context);
            await context.SignOutAsync();
            context.Response.Redirect("/login");
        });
        app.MapPost("/demo/jobs", EnqueueDemoJobsAsync).RequireAuthorization(OpsPolicy);
        app.MapTypedJobsAdmin("/jobs", o => o.AuthorizationPolicy = OpsPolicy);
        app.MapHealthChecks("/health");
        return app;
    }

    /// <summary>Enqueues one job of each demo task through the generated stubs.</summary>
    public static async Task EnqueueDemoJobsAsync(HttpContext context)
    {
        await context.RequestServices.GetRequiredService<IAntiforgery>().ValidateRequestAsync(context);
        var jobs = context.RequestServices.GetRequiredService<IJobClient>();
        var n = RandomNumberGenerator.GetInt32(1000, 9999);
        await jobs.EnqueueSendWelcomeAsync($"user{n}@example.com", new Account($"user{n}", "Ada Lovelace", $"initial-{n}"));
        await jobs.EnqueueBuildReportAsync("eu", pages: 5);
        await jobs.EnqueueImportAsync($"orders-{n}.csv");
        await jobs.EnqueueResizeAsync(n, new JobOptions { Delay = TimeSpan.FromSeconds(30) });
        context.Response.Redirect("/");
    }

    private static Task ApiAware(RedirectContext<CookieAuthenticationOptions> context, int status)
    {
        if (context.Request.Path.StartsWithSegments("/jobs/api"))
        {
            context.Response.StatusCode = status;
        }
        else
        {
            context.Response.Redirect(context.RedirectUri);
        }

        return Task.CompletedTask;
    }

    private static string Password(WebApplication app)
    {
        var configured = app.Configuration["Dashboard:Password"];
        if (!string.IsNullOrEmpty(configured))
        {
            return configured;
        }

        var generated = Convert.ToHexString(RandomNumberGenerator.GetBytes(8)).ToLowerInvariant();
        app.Logger.LogWarning("No Dashboard:Password is configured; sign in to /jobs/ as '{User}' with the password {Password} (this start only)",
            app.Configuration["Dashboard:User"] ?? "ops", generated);
        return generated;
    }

    private static IResult Home(HttpContext context)
    {
        var signedIn = context.User.Identity?.IsAuthenticated == true;
        var token = context.RequestServices.GetRequiredService<IAntiforgery>().GetAndStoreTokens(context);
        var html = new StringBuilder(Page.Head("TypedJobs WebApp"));
        html.Append("<h1>TypedJobs WebApp</h1><p><a href=\"/jobs/\">Open the dashboard</a> · <a href=\"/health\">Health</a></p>");
        if (signedIn)
        {
            html.Append("<form method=\"post\" action=\"/demo/jobs\">").Append(Page.Token(token))
                .Append("<button>Enqueue demo jobs</button></form>")
                .Append("<form method=\"post\" action=\"/logout\">").Append(Page.Token(token)).Append("<button>Sign out</button></form>");
        }

        html.Append("</main></body></html>");
        return Results.Content(html.ToString(), "text/html; charset=utf-8");
    }

    private static IResult LoginPage(HttpContext context, string? returnUrl, bool? failed)
    {
        var token = context.RequestServices.GetRequiredService<IAntiforgery>().GetAndStoreTokens(context);
        var html = new StringBuilder(Page.Head("Sign in"));
        html.Append("<h1>Sign in</h1>");
        if (failed == true)
        {
            html.Append("<p class=\"error\" role=\"alert\">Wrong user name or password.</p>");
        }

        html.Append("<form method=\"post\" action=\"/login\">").Append(Page.Token(token))
            .Append("<input type=\"hidden\" name=\"returnUrl\" value=\"").Append(HtmlEncoder.Default.Encode(returnUrl ?? "/jobs/")).Append("\">")
            .Append("<label>User <input name=\"user\" autocomplete=\"username\" required></label>")
            .Append("<label>Password <input name=\"password\" type=\"password\" autocomplete=\"current-password\" required></label>")
            .Append("<button type=\"submit\">Sign in</button></form></main></body></html>");
        return Results.Content(html.ToString(), "text/html; charset=utf-8");
    }

    private static async Task LoginAsync(HttpContext context, string user, string password)
    {
        await context.RequestServices.GetRequiredService<IAntiforgery>().ValidateRequestAsync(context);
        var form = await context.Request.ReadFormAsync();
        var returnUrl = form["returnUrl"].ToString();
        // Only local paths: never redirect to another site after signing in.
        if (!returnUrl.StartsWith('/') || returnUrl.StartsWith("//", StringComparison.Ordinal) || returnUrl.StartsWith("/\\", StringComparison.Ordinal))
        {
            returnUrl = "/jobs/";
        }

        if (!FixedTimeEquals(form["user"].ToString(), user) || !FixedTimeEquals(form["password"].ToString(), password))
        {
            context.Response.Redirect("/login?failed=true&returnUrl=" + Uri.EscapeDataString(returnUrl));
            return;
        }

        var identity = new ClaimsIdentity([new Claim(ClaimTypes.Name, user), new Claim(ClaimTypes.Role, "ops")],
            CookieAuthenticationDefaults.AuthenticationScheme);
        await context.SignInAsync(new ClaimsPrincipal(identity));
        context.Response.Redirect(returnUrl);
    }

    private static bool FixedTimeEquals(string a, string b) =>
        CryptographicOperations.FixedTimeEquals(SHA256.HashData(Encoding.UTF8.GetBytes(a)), SHA256.HashData(Encoding.UTF8.GetBytes(b)));

    private static class Page
    {
        public static string Head(string title) =>
            "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">" +
            $"<title>{HtmlEncoder.Default.Encode(title)}</title><style>body{{font:16px system-ui,sans-serif;margin:2rem auto;max-width:28rem;padding:0 1rem}}" +
            "label{display:block;margin:.75rem 0}input{display:block;width:100%;padding:.5rem;box-sizing:border-box}" +
            "button{margin-top:.75rem;padding:.5rem 1rem}.error{color:#b00020}</style></head><body><main>";

        public static string Token(AntiforgeryTokenSet token) =>
            $"<input type=\"hidden\" name=\"{HtmlEncoder.Default.Encode(token.FormFieldName)}\" value=\"{HtmlEncoder.Default.Encode(token.RequestToken ?? "")}\">";
    }
}
