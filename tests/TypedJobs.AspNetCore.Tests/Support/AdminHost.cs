using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace TypedJobs.AspNetCore.Tests;

/// <summary>A web application on the test server with TypedJobs (in memory, a worker), test authentication and the admin API at /jobs.</summary>
public sealed class AdminHost : IAsyncDisposable
{
    public const string Ops = "ops-user;ops";

    private AdminHost(WebApplication app)
    {
        App = app;
        Services = app.Services;
    }

    public WebApplication App { get; }

    public IServiceProvider Services { get; }

    public IJobClient Jobs => Services.GetRequiredService<IJobClient>();

    public IJobAdmin Admin => Services.GetRequiredService<IJobAdmin>();

    public Gate Gate => Services.GetRequiredService<Gate>();

    public LogSink Logs => Services.GetRequiredService<LogSink>();

    public static async Task<AdminHost> StartAsync(Action<TypedJobsAdminOptions>? admin = null, Action<WebApplicationBuilder>? configure = null,
        bool mapAdmin = true, bool worker = true, bool policy = true, bool health = true)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseTestServer();
        var sink = new LogSink();
        builder.Logging.ClearProviders().SetMinimumLevel(LogLevel.Trace).AddProvider(sink);
        builder.Services.AddSingleton(sink);
        builder.Services.AddSingleton<Gate>();
        var jobs = builder.Services.AddTypedJobs(o =>
        {
            o.UseInMemory();
            o.RecordEvents = true;
        });
        if (worker)
        {
            jobs.AddWorker(w =>
            {
                w.Queues = ["default"];
                w.PollInterval = TimeSpan.FromMilliseconds(100);
            });
        }

        builder.Services.AddAuthentication(TestAuthHandler.SchemeName).AddScheme<AuthenticationSchemeOptions, TestAuthHandler>(TestAuthHandler.SchemeName, null);
        builder.Services.AddAuthorization(o =>
        {
            if (policy)
            {
                o.AddPolicy("ops", p => p.RequireRole("ops"));
            }
        });
        builder.Services.AddAntiforgery();
        if (health)
        {
            builder.Services.AddHealthChecks().AddTypedJobs(o => { o.DeadJobsThreshold = 0; o.BacklogThreshold = 1000; });
        }

        configure?.Invoke(builder);
        var app = builder.Build();
        if (mapAdmin)
        {
            app.MapTypedJobsAdmin("/jobs", admin ?? (o => o.AuthorizationPolicy = "ops"));
        }

        await app.StartAsync();
        return new AdminHost(app);
    }

    /// <summary>A client signed in as <paramref name="user"/> (<c>name;role,role</c>), or anonymous when null; it keeps cookies.</summary>
    public AdminClient Client(string? user = Ops) => new(App.GetTestClient(), user);

    public async Task<JobId> DeadJobAsync(string reason)
    {
        var id = await Jobs.EnqueueFailAsync(reason);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var job = await Jobs.WaitForCompletionAsync(id, timeout.Token);
        Assert.Equal(JobState.Dead, job.State);
        return id;
    }

    public async ValueTask DisposeAsync()
    {
        Gate.Release();
        await App.StopAsync();
        await App.DisposeAsync();
    }
}

/// <summary>An HTTP client for the test server that signs in by header and keeps cookies between requests.</summary>
public sealed class AdminClient(HttpClient http, string? user)
{
    private readonly Dictionary<string, string> cookies = new(StringComparer.Ordinal);

    public HttpClient Http { get; } = http;

    public string? User { get; set; } = user;

    public async Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, HttpContent? content = null, (string Name, string Value)? header = null)
    {
        using var request = new HttpRequestMessage(method, path) { Content = content };
        if (User is not null)
        {
            request.Headers.Add(TestAuthHandler.Header, User);
        }

        if (cookies.Count > 0)
        {
            request.Headers.Add("Cookie", string.Join("; ", cookies.Select(static c => c.Key + "=" + c.Value)));
        }

        if (header is { } h)
        {
            request.Headers.Add(h.Name, h.Value);
        }

        var response = await Http.SendAsync(request);
        if (response.Headers.TryGetValues("Set-Cookie", out var setCookies))
        {
            foreach (var setCookie in setCookies)
            {
                var pair = setCookie.Split(';')[0];
                var equals = pair.IndexOf('=', StringComparison.Ordinal);
                cookies[pair[..equals]] = pair[(equals + 1)..];
            }
        }

        return response;
    }

    public Task<HttpResponseMessage> GetAsync(string path) => SendAsync(HttpMethod.Get, path);

    public async Task<JsonElement> GetJsonAsync(string path)
    {
        using var response = await GetAsync(path);
        Assert.Equal(System.Net.HttpStatusCode.OK, response.StatusCode);
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }

    /// <summary>Fetches an antiforgery token (which sets its cookie) and returns the header to send it in.</summary>
    public async Task<(string Name, string Value)> TokenAsync()
    {
        var token = await GetJsonAsync("/jobs/api/antiforgery");
        return (token.GetProperty("headerName").GetString()!, token.GetProperty("token").GetString()!);
    }

    /// <summary>A POST with a fresh antiforgery token.</summary>
    public async Task<HttpResponseMessage> PostAsync(string path, object? body = null)
    {
        var token = await TokenAsync();
        return await PostWithAsync(path, token, body);
    }

    public Task<HttpResponseMessage> PostWithAsync(string path, (string Name, string Value)? token, object? body = null) =>
        SendAsync(HttpMethod.Post, path, body is null ? JsonContent.Create(new { }) : body as HttpContent ?? JsonContent.Create(body), token);

    public static StringContent Json(string json) => new(json, new MediaTypeHeaderValue("application/json"));
}

/// <summary>Keeps every log message (with its scopes' values) for assertions.</summary>
public sealed class LogSink : ILoggerProvider
{
    private readonly List<string> lines = [];

    public IReadOnlyList<string> Lines
    {
        get
        {
            lock (lines)
            {
                return lines.ToArray();
            }
        }
    }

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void Dispose()
    {
    }

    private sealed class Logger(LogSink sink, string category) : ILogger
    {
        private static readonly AsyncLocal<List<object?>> Scopes = new();

        public IDisposable BeginScope<TState>(TState state)
            where TState : notnull
        {
            var scopes = Scopes.Value ??= [];
            scopes.Add(state);
            return new Pop(scopes);
        }

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            var scopes = Scopes.Value is { } s ? string.Join(" ", s.Select(static x => FormatState(x))) : "";
            var line = $"{category} {logLevel}: {formatter(state, exception)} | {FormatState(state)} | {scopes} | {exception}";
            lock (sink.lines)
            {
                sink.lines.Add(line);
            }
        }

        private static string FormatState(object? state) => state is IEnumerable<KeyValuePair<string, object?>> pairs
            ? string.Join(",", pairs.Select(static p => p.Key + "=" + p.Value))
            : state?.ToString() ?? "";

        private sealed class Pop(List<object?> scopes) : IDisposable
        {
            public void Dispose()
            {
                if (scopes.Count > 0)
                {
                    scopes.RemoveAt(scopes.Count - 1);
                }
            }
        }
    }
}
