using System.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;

namespace TypedJobs.AspNetCore.Admin;

/// <summary>A request the admin API refuses: becomes a problem-details response with its status.</summary>
internal sealed class AdminProblemException(int status, string title, string detail, Dictionary<string, string[]>? errors = null)
    : Exception(detail)
{
    public int Status { get; } = status;

    public string Title { get; } = title;

    public Dictionary<string, string[]>? Errors { get; } = errors;

    /// <summary>400 naming the parameter that is wrong and why.</summary>
    public static AdminProblemException Invalid(string parameter, string message) =>
        new(StatusCodes.Status400BadRequest, "The request is not valid.", message, new() { [parameter] = [message] });

    public static AdminProblemException NotFound(string detail) =>
        new(StatusCodes.Status404NotFound, "Not found.", detail);

    public static AdminProblemException Conflict(string detail) =>
        new(StatusCodes.Status409Conflict, "The action does not apply in the current state.", detail);
}

/// <summary>Problem-details responses (RFC 9457), written with the admin API's own JSON context.</summary>
internal static class Problems
{
    public const string ContentType = "application/problem+json";

    public static JsonHttpResult<ProblemDto> Create(HttpContext context, int status, string title, string? detail,
        Dictionary<string, string[]>? errors = null) =>
        TypedResults.Json(new ProblemDto
        {
            Type = TypeFor(status),
            Title = title,
            Status = status,
            Detail = detail,
            Errors = errors,
            TraceId = Activity.Current?.Id ?? context.TraceIdentifier,
        }, AdminJsonContext.Default.ProblemDto, ContentType, status);

    public static JsonHttpResult<ProblemDto> From(HttpContext context, AdminProblemException problem) =>
        Create(context, problem.Status, problem.Title, problem.Message, problem.Errors);

    private static string TypeFor(int status) => status switch
    {
        400 => "https://tools.ietf.org/html/rfc9110#section-15.5.1",
        403 => "https://tools.ietf.org/html/rfc9110#section-15.5.4",
        404 => "https://tools.ietf.org/html/rfc9110#section-15.5.5",
        409 => "https://tools.ietf.org/html/rfc9110#section-15.5.10",
        413 => "https://tools.ietf.org/html/rfc9110#section-15.5.14",
        415 => "https://tools.ietf.org/html/rfc9110#section-15.5.16",
        _ => "https://tools.ietf.org/html/rfc9110#section-15.6.1",
    };
}
